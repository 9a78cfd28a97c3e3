#!/usr/bin/env bash
# The whole test suite, both ends of the supported dependency ranges:
#  1. lint, then unit, emulator, provider-over-HTTP, typing, packaging and end-to-end tests under the real
#     CLI in .venv, pinned at the LOWEST supported versions (constraints/lowest.txt);
#  2. the NEWEST leg (scripts/test-newest.sh): the wheel next to pulumi-random with everything newest from
#     PyPI, then the unit, provider-over-HTTP and end-to-end lifecycle tests.
# Arguments go to the first pytest run and skip the newest leg (handy for `./scripts/test.sh -k relay`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
if [ $# -gt 0 ]; then
  exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
fi
echo "test: lowest supported versions (constraints/lowest.txt)" >&2
.venv/bin/python -m pytest -q -p no:cacheprovider
echo "test: newest versions from PyPI" >&2
bash scripts/test-newest.sh
