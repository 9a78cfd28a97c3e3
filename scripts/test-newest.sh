#!/usr/bin/env bash
# The newest end of the supported ranges. Builds the wheel, installs it next to pulumi-random into a
# fresh virtualenv resolving everything from PyPI without constraints (so the newest pulumi SDK, httpx,
# pydantic and tenacity), proves pip finds no conflict and really picked the newest SDK, then runs the
# unit, provider-over-HTTP and end-to-end lifecycle tests (real CLI) with that interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "test-newest: $*" >&2; }
venv=.tools/venv-newest
dist=.tools/dist-newest
rm -rf "$venv" "$dist"
say "building the wheel"
if ! log="$(.venv/bin/python -m build --wheel --outdir "$dist" . 2>&1)"; then echo "$log" >&2; exit 1; fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -qq --upgrade pip
wheel="$(ls "$dist"/pulumi_mailinfra-*.whl)"
say "installing $(basename "$wheel")[test] with pulumi-random, newest of everything"
"$venv/bin/python" -m pip install -qq "$wheel[test]" pulumi-random
"$venv/bin/python" -m pip check >&2
newest="$("$venv/bin/python" -m pip index versions pulumi 2>/dev/null | sed -n 's/^pulumi (\(.*\))$/\1/p')"
versions="$("$venv/bin/python" -c 'import importlib.metadata as m; print(" ".join(f"{p}=={m.version(p)}" for p in ("pulumi", "pulumi-random", "httpx", "pydantic", "tenacity")))')"
say "resolved: $versions (newest pulumi on PyPI: ${newest:-unknown})"
case " $versions " in
  *" pulumi==$newest "*) ;;
  *) say "pip did not pick the newest pulumi SDK ($newest) next to pulumi-random"; exit 1 ;;
esac
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/unit tests/provider tests/e2e/test_lifecycle.py tests/e2e/test_engine_harness.py tests/e2e/test_one_line_errors.py tests/conformance "$@"
