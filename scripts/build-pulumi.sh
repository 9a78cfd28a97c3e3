#!/usr/bin/env bash
# Builds the official Pulumi CLI from the Go module proxy into .tools/pulumi-<version>/bin,
# pinned to the version of the `pulumi` Python package, unless `pulumi` is already on PATH.
# Prints the bin folder to put on PATH (empty when the user's own pulumi is used).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
version="${PULUMI_VERSION:-$(sed -n 's/^PULUMI_VERSION *= *"\(.*\)"/\1/p' "$here/pulumi_mailinfra/_versions.py")}"
tools="${MAILINFRA_TOOLS_DIR:-$here/.tools}"
bin="$tools/pulumi-$version/bin"

if [ -z "${MAILINFRA_FORCE_BUILD:-}" ] && command -v pulumi >/dev/null 2>&1 && [ "$(command -v pulumi)" != "$bin/pulumi" ]; then
  echo "using pulumi on PATH: $(command -v pulumi)" >&2
  exit 0
fi
write_plugins() {
  # The dynamic-provider plugin the engine looks up on PATH: it runs `python -m pulumi.dynamic`.
  printf '#!/bin/sh\nexec "${PULUMI_PYTHON_CMD:-%s}" -u -m pulumi.dynamic "$@"\n' "$python" \
    > "$bin/pulumi-resource-pulumi-python"
  # Stand-in language host (the official one is not on this Go proxy): see pulumi_mailinfra/langhost.py.
  printf '#!/bin/sh\nexec "${PULUMI_PYTHON_CMD:-%s}" -u -m pulumi_mailinfra.langhost "$@"\n' "$python" \
    > "$bin/pulumi-language-python"
  chmod +x "$bin/pulumi-resource-pulumi-python" "$bin/pulumi-language-python"
}
python="$here/.venv/bin/python"
[ -x "$python" ] || python=python3
if [ -x "$bin/pulumi" ]; then
  write_plugins
  echo "$bin"; exit 0
fi
command -v go >/dev/null || { echo "go is required to build the Pulumi CLI" >&2; exit 1; }
mkdir -p "$bin" "$tools/gowrap-$version"
wrap="$tools/gowrap-$version"
start=$(date +%s)
# pkg/v3's go.mod replaces sdk/v3 with ../sdk, so `go install pkg@version` refuses it: a wrapper
# module requires pkg/v3 and sdk/v3 at the same version and keeps pkg's non-local replaces.
cat > "$wrap/go.mod" <<MOD
module mailinfra.local/pulumitools

go 1.24

require (
	github.com/pulumi/pulumi/pkg/v3 v$version
	github.com/pulumi/pulumi/sdk/v3 v$version
)

replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e
MOD
cat > "$wrap/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GO
cd "$wrap"
export GOFLAGS="${GOFLAGS:--buildvcs=false} -mod=mod"
go mod tidy >&2
go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
  -o "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >&2
write_plugins
echo "built pulumi v$version in $(( $(date +%s) - start ))s" >&2
echo "$bin"
