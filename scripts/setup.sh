#!/usr/bin/env bash
# One-time (cached) set-up of a fresh machine: the .venv with this package and its test extras, and the
# Pulumi CLI (your own `pulumi` when on PATH, else built from the Go module proxy into .tools/).
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[test]"
  touch "$stamp"
fi
start=$(date +%s)
bash scripts/build-pulumi.sh >/dev/null
echo "setup: venv ready, pulumi CLI ready ($(( $(date +%s) - start ))s)" >&2
