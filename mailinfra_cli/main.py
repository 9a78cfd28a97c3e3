"""`mailinfra`: one command for the whole mail stack, following the habits of `pulumi` itself (`--stack`,
`--yes`, `--json`, exit codes a CI job can use).

    mailinfra deploy [--stack dev] [--preview | --destroy] [--fast]
                                                              the root project against the embedded emulator
    mailinfra drift [--stack S ...] [--json]                  what changed out of band (exit 0 / 1 / 2)
    mailinfra promote --from staging --to prod [--yes]        promote a proven stack (exit 0 / 1 / 2)
    mailinfra export [--service all] [--url URL] [--out DIR]  existing objects as a ready-to-run program
    mailinfra recover --stack S                               repair a stack after a killed update
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from types import ModuleType

from . import deploy, drift, export, promote, recover

# name -> the module providing add_arguments(parser) and run(args) -> exit code
COMMANDS: dict[str, ModuleType] = {"deploy": deploy, "drift": drift, "promote": promote, "export": export,
                                   "recover": recover}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mailinfra", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        summary = (module.__doc__ or "").strip().splitlines()[0]
        sub = commands.add_parser(name, help=summary, description=module.__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
