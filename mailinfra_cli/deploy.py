"""Deploy the root Pulumi.yaml project against the embedded emulator (the README's main job).

`pulumi up` of the stack on a local file backend, then its outputs (secrets masked).
State lives under `.state/` (the emulator's SQLite file and the Pulumi file backend), so running it
again is a no-op update and `--destroy` tears everything down."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from .devtools import REPO_ROOT, offline_env, select_stack

EMULATOR_USER, EMULATOR_PASSWORD = "admin", "admin"
EMULATOR_TOKEN = "cleanmail-token"  # the embedded emulator's Cleanmail Bearer token


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", "-s", default="dev", help="stack name (default: dev)")
    parser.add_argument("--project-dir", type=Path, default=REPO_ROOT, help="folder with Pulumi.yaml")
    parser.add_argument("--state-dir", type=Path, default=REPO_ROOT / ".state", help="emulator + backend state")
    parser.add_argument("--destroy", action="store_true", help="destroy the stack instead of updating it")
    parser.add_argument("--preview", action="store_true", help="preview only")
    parser.add_argument("--fast", action="store_true",
                        help="write the state once at the end, not after every step (several times faster for large "
                        "stacks; after a crash run `mailinfra recover`, then deploy again)")


def run(args: argparse.Namespace) -> int:
    from pulumi_mailinfra.emulator import EmulatorServer

    args.state_dir.mkdir(parents=True, exist_ok=True)
    server = EmulatorServer(
        state_path=str(args.state_dir / "emulator.sqlite"), ga_username=EMULATOR_USER, ga_password=EMULATOR_PASSWORD,
        cleanmail_tokens=(EMULATOR_TOKEN,),
    ).start()
    settings = {"GREENARROW_URL": server.url, "GREENARROW_USERNAME": EMULATOR_USER,
                "GREENARROW_PASSWORD": EMULATOR_PASSWORD, "CLEANMAIL_URL": f"{server.url}/cleanmail",
                "CLEANMAIL_TOKEN": EMULATOR_TOKEN, "ELEMTA_URL": f"{server.url}/elemta"}
    os.environ.update(settings)  # the program's own look-ups run in this process
    try:
        print(f"embedded emulator: {server.url} (state {args.state_dir / 'emulator.sqlite'})", flush=True)
        env = offline_env(args.state_dir / "backend", extra=settings, fast=args.fast)
        stack = select_stack(args.project_dir.resolve(), args.stack, env)
        echo = lambda line: print(line, end="" if line.endswith("\n") else "\n", flush=True)  # noqa: E731
        if args.destroy:
            stack.destroy(on_output=echo)
            return 0
        if args.preview:
            stack.preview(on_output=echo)
            return 0
        result = stack.up(on_output=echo)
        outputs: dict[str, Any] = {k: ("[secret]" if v.secret else v.value) for k, v in result.outputs.items()}
        print("stack outputs:")
        print(json.dumps(outputs, indent=2, sort_keys=True))
        return 0
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mailinfra deploy", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))

if __name__ == "__main__":
    sys.exit(main())
