"""`mailinfra`: one command for the whole mail stack, following the habits of `pulumi` itself (`--stack`,
`--yes`, `--json`, exit codes a CI job can use).

    mailinfra deploy [--stack dev] [--preview | --destroy] [--fast]
                                                              the root project against the embedded emulator
    mailinfra drift [--stack S ...] [--json]                  what changed out of band (exit 0 / 1 / 2)
    mailinfra promote --from staging --to prod [--yes]        promote a proven stack (exit 0 / 1 / 2)
    mailinfra export [--url URL] [--out DIR] [--rules R]      existing objects as a ready-to-run project
    mailinfra recover --stack S                               repair a stack after a killed update
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from types import ModuleType

from . import deploy, drift, export, promote, recover

# name -> the module providing add_arguments(parser) and run(args) -> exit code
COMMANDS: dict[str, ModuleType] = {"deploy": deploy, "drift": drift, "promote": promote, "export": export,
                                   "recover": recover}


def first_sentence(doc: str) -> str:
    """A command's docstring's first sentence, whole (its first line may stop mid-sentence)."""
    paragraph = " ".join(doc.strip().split("\n\n")[0].split())
    end = re.search(r"(?<!e\.g)(?<!i\.e)\.(\s+[A-Z`]|$)", paragraph)
    return paragraph[: end.start() + 1] if end else paragraph


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mailinfra", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        summary = first_sentence(module.__doc__ or "")
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
