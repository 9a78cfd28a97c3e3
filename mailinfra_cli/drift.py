"""Show what changed out of band, per stack, resource and field (a refresh preview of each stack; nothing is
written).

Exit code: 0 every stack is clean, 1 some stack has drift, 2 a stack could not be checked. Secrets are masked.
Runs in the project folder with your Pulumi backend and credentials, as `pulumi refresh --preview-only
--run-program` would: with the stack's current configuration.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .pulumi_cli import MASK, CommandFailed, cli_env, masked, run_pulumi, run_with_events

CLEAN, DRIFT, ERROR = 0, 1, 2


@dataclass
class FieldChange:
    path: str
    before: Any
    after: Any
    # For a list that grew or shrank: the items it lost and gained (the table shows these, not the whole lists).
    removed: list[Any] | None = None
    added: list[Any] | None = None


@dataclass
class ResourceDrift:
    urn: str
    type: str
    name: str
    change: str  # "update" (changed out of band) or "delete" (gone out of band)
    fields: list[FieldChange] = field(default_factory=list)


@dataclass
class StackDrift:
    stack: str
    status: str  # "clean", "drift" or "error"
    resources: list[ResourceDrift] = field(default_factory=list)
    error: str | None = None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", "-s", action="append", dest="stacks", metavar="STACK",
                        help="a stack to check (repeat for several; default: the selected stack)")
    parser.add_argument("--cwd", "-C", type=Path, default=Path.cwd(), help="the project folder (default: here)")
    parser.add_argument("--json", "-j", action="store_true", help="print the result as JSON")


def changed_fields(before: Any, after: Any, path: str = "") -> list[FieldChange]:
    """Every leaf that differs between two output values, as dotted paths (`platforms[0].transport_port`)."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[FieldChange] = []
        for key in sorted(set(before) | set(after)):
            if str(key).startswith("__"):
                continue  # the provider's own bookkeeping (its serialised class), not a field
            found += changed_fields(before.get(key), after.get(key), f"{path}.{key}" if path else str(key))
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        found = []
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            found += changed_fields(old, new, f"{path}[{index}]")
        return found
    if isinstance(before, list) and isinstance(after, list):
        removed, added = [x for x in before if x not in after], [x for x in after if x not in before]
        return [FieldChange(path or "(value)", before, after, removed=removed, added=added)]
    return [] if before == after else [FieldChange(path or "(value)", before, after)]


def drift_of(events: list[dict[str, Any]]) -> list[ResourceDrift]:
    """The resources a refresh preview would change, from its `resOutputsEvent`s."""
    found: list[ResourceDrift] = []
    for event in events:
        metadata = (event.get("resOutputsEvent") or {}).get("metadata") or {}
        op = metadata.get("op")
        if op not in ("update", "delete"):
            continue
        urn = str(metadata.get("urn", ""))
        before = masked((metadata.get("old") or {}).get("outputs") or {})
        after = masked((metadata.get("new") or {}).get("outputs") or {})
        resource_type = str(metadata.get("type") or urn.split("::")[-2])  # a URN is `...::<type>::<name>`
        if resource_type.startswith("pulumi:providers:") or resource_type == "pulumi:pulumi:Stack":
            continue  # the settings of today's run (`--run-program`) or the stack's outputs: not objects' drift
        drift = ResourceDrift(urn, resource_type.removeprefix("pulumi-python:dynamic/"), urn.split("::")[-1], op)
        if op == "update":
            # The engine saw a change; none visible means a secret changed (every secret shows as the same mask).
            drift.fields = changed_fields(before, after) or [FieldChange("(a secret value)", MASK, MASK)]
        found.append(drift)
    return sorted(found, key=lambda d: d.urn)


def selected_stack(cwd: Path) -> str:
    result = run_pulumi(["stack", "--show-name"], cwd, cli_env())
    return result.stdout.strip()


def has_program(cwd: Path) -> bool:
    """Whether the project in `cwd` has a program on disk the CLI can run (`main:` of Pulumi.yaml, or the folder;
    for Python, its `__main__.py`)."""
    import yaml  # a dependency of the pulumi SDK

    try:
        project = yaml.safe_load((cwd / "Pulumi.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return False
    runtime = project.get("runtime")
    name = runtime.get("name") if isinstance(runtime, dict) else runtime
    main = cwd / str(project.get("main") or ".")
    if name != "python":
        return main.exists()
    return main.is_file() or (main / "__main__.py").is_file()


def check_stack(stack: str, cwd: Path) -> StackDrift:
    """A refresh preview with today's configuration: `--run-program` configures the providers from the stack's
    current settings (credentials rotated, a URL changed), not from those of the last `up`. A CLI without the flag
    checks with the last `up`'s."""
    command = ["refresh", "--preview-only", "--stack", stack, "--color", "never", "--suppress-progress"]
    try:
        if not has_program(cwd):  # an Automation API inline program: nothing on disk to run
            events = run_with_events(command, cwd, cli_env()).events
        else:
            try:
                events = run_with_events([*command, "--run-program"], cwd, cli_env()).events
            except CommandFailed as failed:
                if "unknown flag: --run-program" not in failed.message:
                    raise
                events = run_with_events(command, cwd, cli_env()).events
    except CommandFailed as failed:
        return StackDrift(stack, "error", error=failed.message)
    resources = drift_of(events)
    return StackDrift(stack, "drift" if resources else "clean", resources)


def _shown(value: Any) -> str:
    text = json.dumps(value) if value is not None else "-"
    return text if len(text) <= 40 else text[:37] + "..."


def _items(sign: str, items: list[Any]) -> str:
    """`-a, -b` / `+c`: what a list lost or gained, each item whole while they fit, then how many more."""
    if not items:
        return "-"
    shown: list[str] = []
    for index, item in enumerate(items):
        text = f"{sign}{item if isinstance(item, str) else json.dumps(item)}"
        rest = len(items) - index - 1
        if shown and len(", ".join([*shown, text])) > 60:
            return ", ".join(shown) + f" (and {rest + 1} more)"
        shown.append(text)
    return ", ".join(shown)


def _cells(change: FieldChange) -> tuple[str, str]:
    if change.added is not None and change.removed is not None:
        return _items("-", change.removed), _items("+", change.added)
    return _shown(change.before), _shown(change.after)


def _plain(value: Any) -> Any:
    """A result for JSON: `removed` / `added` only on the list fields that have them."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not (k in ("removed", "added") and v is None)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def render_table(results: list[StackDrift]) -> str:
    rows = [("STACK", "RESOURCE", "CHANGE", "FIELD", "BEFORE", "AFTER")]
    for result in results:
        for resource in result.resources:
            label = f"{resource.type}::{resource.name}"
            if resource.change == "delete":
                rows.append((result.stack, label, "deleted", "-", "-", "-"))
            for change in resource.fields:
                rows.append((result.stack, label, "changed", change.path, *_cells(change)))
    lines = []
    if len(rows) > 1:
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
        lines.append("")
    for result in results:
        if result.status == "error":
            lines.append(f"{result.stack}: error: {result.error}")
        elif result.status == "drift":
            lines.append(f"{result.stack}: drift in {len(result.resources)} resource(s)")
        else:
            lines.append(f"{result.stack}: clean")
    return "\n".join(lines)


def exit_code(results: list[StackDrift]) -> int:
    if any(r.status == "error" for r in results):
        return ERROR
    return DRIFT if any(r.status == "drift" for r in results) else CLEAN


def run(args: argparse.Namespace) -> int:
    cwd = args.cwd.resolve()
    try:
        stacks = args.stacks or [selected_stack(cwd)]
    except CommandFailed as failed:
        stacks, results = [], [StackDrift("(selected)", "error", error=failed.message)]
    else:
        results = [check_stack(stack, cwd) for stack in stacks]
    code = exit_code(results)
    if args.json:
        print(json.dumps({"stacks": [_plain(asdict(r)) for r in results], "exit_code": code}, indent=2))
    else:
        print(render_table(results))
    sys.stdout.flush()
    return code

