#!/usr/bin/env bash
# One-time (cached) set-up of a fresh machine: the .venv with this package and its test extras, pinned by
# constraints/lowest.txt, and the Pulumi CLI with the official Python language host (your own `pulumi`
# when it is on PATH, else built from the Go module proxy into .tools/). Says what it does and how long
# it takes; later runs take a second.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "setup: $*" >&2; }
python="${PYTHON:-python3}"
start=$SECONDS
stamp=".venv/.installed-$(cat pyproject.toml constraints/lowest.txt | sha256sum | cut -c1-16)"
if [ -x .venv/bin/python ] && [ ! -f "$stamp" ]; then
  say "dependencies changed: recreating .venv so nothing stale stays installed"
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  say "creating the Python virtualenv .venv ($("$python" --version 2>&1))"
  "$python" -m venv .venv
fi
if [ ! -f "$stamp" ]; then
  say "installing pulumi-mailinfra (editable) and its test tools, pinned by constraints/lowest.txt"
  say "  (about a minute the first time: pulumi, grpcio, pydantic, fastapi, pytest, ruff, pyright)"
  .venv/bin/python -m pip install -qq --upgrade pip
  # -qq: setuptools logs a notice on every editable install that is not ours to act on; errors still show.
  .venv/bin/python -m pip install -qq -c constraints/lowest.txt -e ".[test]"
  touch "$stamp"
  say "  installed: $(.venv/bin/python -c 'import importlib.metadata as m; print(", ".join(f"{p} {m.version(p)}" for p in ("pulumi", "httpx", "pydantic", "tenacity")))')"
fi
bin="$(bash scripts/build-pulumi.sh)"
elemta="$(bash scripts/build-elemta.sh)"  # the real Elemta server, for its integration tests
say "ready in $((SECONDS - start))s: .venv, pulumi $( (PATH="${bin:+$bin:}$PATH" pulumi version) 2>/dev/null || echo '?')${bin:+ in $bin}, elemta in ${elemta%/*}"
