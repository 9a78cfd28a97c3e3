#!/usr/bin/env bash
# Builds the official Pulumi CLI and Python language host from the Go module proxy into
# .tools/pulumi-<version>/bin, pinned to PULUMI_VERSION in pulumi_mailinfra/_versions.py, unless
# `pulumi` is already on PATH (an official install carries both). Beside them go the host's exec script
# and the official dynamic-provider shim. Cached: later runs take no time; the host is rebuilt only when
# its vendored source (third_party/pulumi-language-python) changes.
# Prints the bin folder to put on PATH (empty when the user's own pulumi is used); progress to stderr.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
version="${PULUMI_VERSION:-$(sed -n 's/^PULUMI_VERSION *= *"\(.*\)"/\1/p' "$here/pulumi_mailinfra/_versions.py")}"
tools="${MAILINFRA_TOOLS_DIR:-$here/.tools}"
bin="$tools/pulumi-$version/bin"
langhost_src="$here/third_party/pulumi-language-python"
say() { echo "build-pulumi: $*" >&2; }

if [ -z "${MAILINFRA_FORCE_BUILD:-}" ] && command -v pulumi >/dev/null 2>&1 && [ "$(command -v pulumi)" != "$bin/pulumi" ]; then
  say "using pulumi on PATH: $(command -v pulumi)"
  exit 0
fi

# go build -v names each package as it compiles it: turn that into a progress line every 20 seconds.
progress() {
  local label="$1" count=0 last=$SECONDS start=$SECONDS
  while IFS= read -r _; do
    count=$((count + 1))
    if (( SECONDS - last >= 20 )); then
      say "  $label: $count packages compiled, $((SECONDS - start))s so far"
      last=$SECONDS
    fi
  done
  say "  $label: $count packages compiled in $((SECONDS - start))s"
}

# A wrapper module requiring pkg/v3 and sdk/v3 at one version: pkg/v3's own go.mod replaces sdk/v3 with
# ../sdk, so `go install pkg@version` refuses it, and the language host's module is not on the proxy.
write_wrapper() {
  local dir="$1" module="$2"
  mkdir -p "$dir"
  cat > "$dir/go.mod" <<MOD
module $module

go 1.25

require (
	github.com/pulumi/pulumi/pkg/v3 v$version
	github.com/pulumi/pulumi/sdk/v3 v$version
)

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
MOD
}

go_build() {  # go_build <wrapper dir> <label> <output> <package>
  local dir="$1" label="$2" out="$3" pkg="$4"
  (
    cd "$dir"
    export GOFLAGS="${GOFLAGS:--buildvcs=false} -mod=mod" CGO_ENABLED=0
    say "  $label: resolving Go modules (downloads on the first run)"
    go mod tidy 2>&1 | grep -v '^go: downloading' >&2 || true
    go build -v -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
      -o "$out.tmp" "$pkg" 2>&1 | progress "$label"
    mv "$out.tmp" "$out"
  )
}

need_go() {
  command -v go >/dev/null || { say "go is required to build the Pulumi CLI (or install Pulumi: https://www.pulumi.com/docs/install/)"; exit 1; }
}

mkdir -p "$bin"
if [ ! -x "$bin/pulumi" ]; then
  need_go
  say "building the Pulumi CLI v$version from the Go module proxy into $bin"
  say "  (about 5-6 minutes on 2 cores the first time; cached afterwards)"
  start=$SECONDS
  wrap="$tools/gowrap-$version"
  write_wrapper "$wrap" mailinfra.local/pulumitools
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n' > "$wrap/tools.go"
  go_build "$wrap" "pulumi CLI" "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  say "built pulumi v$version in $((SECONDS - start))s"
fi

langhost_hash="$(cat "$langhost_src/main.go" | sha256sum | cut -c1-16)-$version"
if [ ! -x "$bin/pulumi-language-python" ] || [ "$(cat "$bin/.langhost-source" 2>/dev/null)" != "$langhost_hash" ]; then
  need_go
  say "building the official Python language host v$version (about 1-2 minutes the first time)"
  start=$SECONDS
  wrap="$tools/langhost-$version"
  write_wrapper "$wrap" mailinfra.local/langhostwrap
  cp "$langhost_src/main.go" "$wrap/main.go"
  go_build "$wrap" "language host" "$bin/pulumi-language-python" .
  echo "$langhost_hash" > "$bin/.langhost-source"
  say "built pulumi-language-python in $((SECONDS - start))s"
fi
# The host runs programs with the exec script beside it; the engine starts dynamic providers through
# the shim. Both are copied on every run so an edit to the vendored copies takes effect.
install -m 0755 "$langhost_src/pulumi-language-python-exec" "$bin/pulumi-language-python-exec"
install -m 0755 "$langhost_src/pulumi-resource-pulumi-python" "$bin/pulumi-resource-pulumi-python"
echo "$bin"
