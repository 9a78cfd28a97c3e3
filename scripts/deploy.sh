#!/usr/bin/env bash
# The main job: start the embedded emulator, `pulumi up` the root Pulumi.yaml stack against it on a local
# file backend, print the stack outputs. Extra arguments go to `mailinfra deploy`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/mailinfra deploy "$@"
