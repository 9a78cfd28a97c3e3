"""The root Pulumi.yaml's program: runs the quickstart in examples/quickstart/.

It sits here instead of behind `main: examples/quickstart` because the official dynamic-provider shim
resolves `runtime.options.virtualenv` against the program folder, not the project root
(pulumi/pulumi#7061): with `main:` set, the providers would look for examples/quickstart/.venv."""

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).resolve().parent / "examples" / "quickstart" / "__main__.py"), run_name="__main__")
