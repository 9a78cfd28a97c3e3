#!/usr/bin/env bash
# Builds the real Elemta MTA (for the integration tests) from its vendored source, third_party/elemta
# (MIT; not on the Go module proxy, its dependencies are), CGO disabled, into .tools/elemta-<source hash>/.
# Cached: rebuilt only when the source changes. Prints the binary's path; progress to stderr.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
src="${ELEMTA_SOURCE:-$here/third_party/elemta}"
tools="${MAILINFRA_TOOLS_DIR:-$here/.tools}"
say() { echo "build-elemta: $*" >&2; }

hash="$(cd "$src" && find . -type f -not -name '*.md' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
out="$tools/elemta-$hash/elemta"
if [ -x "$out" ]; then
  echo "$out"
  exit 0
fi
command -v go >/dev/null || { say "go (>= 1.24) is required to build Elemta for the integration tests"; exit 1; }
say "building Elemta from $src (about a minute the first time on 2 cores)"
start=$SECONDS
mkdir -p "$(dirname "$out")"
(cd "$src" && CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--buildvcs=false}" go build -trimpath -o "$out.tmp" ./cmd/elemta)
mv "$out.tmp" "$out"
find "$tools" -maxdepth 1 -name 'elemta-*' ! -name "elemta-$hash" -exec rm -rf {} +  # older builds
say "built $out in $((SECONDS - start))s"
echo "$out"
