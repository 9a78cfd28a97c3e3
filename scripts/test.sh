#!/usr/bin/env bash
# The whole test suite: lint, unit, emulator, provider-over-HTTP and end-to-end tests under the real CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
