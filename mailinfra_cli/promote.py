"""Promote what runs in one stack to the next (e.g. staging to prod), refusing when the source is not proven.

Refuses (exit 1, naming the reason) when the source's last update failed or is still pending, when the source
has drift (a refresh preview that is not empty), when one of the source's `DeliveryCheck`s did not see its
message delivered, or when the target's Elemta gate is closed. Otherwise prints the configuration differences
between the two stacks (secret values compared, never shown), previews the target and, with --yes, updates it,
recording what was promoted in the update's message (`pulumi stack history`) and in the target's tags.
Exit code: 0 previewed or promoted, 1 refused, 2 a command failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pulumi_mailinfra.program_hash import program_hash
from pulumi_mailinfra.program_spec import PROGRAM_KEY

from . import drift
from .pulumi_cli import CommandFailed, cli_env, error_lines, project_name, pulumi_binary, run_pulumi

PROMOTED, REFUSED, FAILED = 0, 1, 2
DELIVERY_CHECK_TYPE = "pulumi-python:dynamic/elemta:DeliveryCheck"
# Project config keys the Elemta gate reads (e.g. `gateMaxDeferred`), and the threshold each one sets.
GATE_KEYS = {"gateMaxActive": "max_active", "gateMaxDeferred": "max_deferred", "gateMaxFailed": "max_failed",
             "gateMaxHold": "max_hold", "gateMaxTotalSizeBytes": "max_total_size_bytes"}
TAG_FROM, TAG_HASH = "mailinfra:promoted-from", "mailinfra:program-hash"


class Refused(Exception):
    """The promotion must not go ahead; the message says why."""


@dataclass
class ConfigChange:
    key: str
    change: str  # "added", "removed" or "changed"
    source: str | None  # None for a secret (never shown) or a missing key
    target: str | None
    secret: bool


@dataclass
class Promotion:
    source: str
    target: str
    status: str = "refused"  # "refused", "previewed", "promoted" or "failed"
    reason: str | None = None
    source_version: int | None = None
    program_hash: str | None = None
    config_changes: list[ConfigChange] = field(default_factory=list)
    target_changes: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="source", required=True, metavar="STACK", help="the stack that is proven")
    parser.add_argument("--to", dest="target", required=True, metavar="STACK", help="the stack to update")
    parser.add_argument("--yes", "-y", action="store_true", help="update the target after the preview")
    parser.add_argument("--cwd", "-C", type=Path, default=Path.cwd(), help="the project folder (default: here)")
    parser.add_argument("--json", "-j", action="store_true", help="print the result as JSON")
    parser.add_argument("--allow-untested-program", action="store_true",
                        help="promote even when the program here is not the one the source stack last ran (said "
                        "in a note)")
    parser.add_argument("--fast", action="store_true",
                        help="the target's update writes its state once at the end (see README: Fast mode)")


def _workspace(cwd: Path, *, fast: bool = False) -> Any:
    from pulumi import automation as auto

    command = auto.PulumiCommand(root=str(Path(pulumi_binary()).parent.parent), skip_version_check=True)
    return auto.LocalWorkspace(work_dir=str(cwd), env_vars=cli_env(fast=fast), pulumi_command=command)


def _exported(stack: str, cwd: Path) -> dict[str, Any]:
    """The stack's checkpoint as `pulumi stack export` gives it (secrets stay encrypted)."""
    document = json.loads(run_pulumi(["stack", "export", "--stack", stack], cwd, cli_env()).stdout)
    return dict(document.get("deployment") or {})


def check_last_update(source: Any, promotion: Promotion, deployment: dict[str, Any]) -> None:
    history = source.history(page_size=1, show_secrets=False)  # the newest first
    if not history:
        raise Refused(f"stack {promotion.source!r} has never been updated: nothing is proven there yet")
    last = history[0]
    # The file backend numbers no update (version 0): its position in the whole history stands in for it.
    promotion.source_version = last.version or len(source.history(show_secrets=False))
    if last.kind == "destroy" and last.result == "succeeded":
        raise Refused(f"stack {promotion.source!r} was destroyed by its last update (version {last.version})")
    if last.result != "succeeded":
        raise Refused(f"the last update of {promotion.source!r} (version {last.version}, {last.kind}) "
                      f"{'is still running' if last.result == 'in-progress' else last.result}")
    pending = deployment.get("pending_operations") or []
    if pending:
        urns = ", ".join(str((op.get("resource") or {}).get("urn", "?")).split("::")[-1] for op in pending)
        raise Refused(f"stack {promotion.source!r} has pending operations from an interrupted update ({urns}); "
                      "run `pulumi refresh` there (it asks how to resolve them) first")


def check_program(promotion: Promotion, deployment: dict[str, Any], *, allow_untested: bool) -> None:
    """The program promoted is the one the source last ran: every resource a program registers records its hash
    (`program_hash`) in the state."""
    ran = {str(h) for r in deployment.get("resources") or []
           if (h := (r.get("inputs") or {}).get(PROGRAM_KEY)) is not None}
    here = promotion.program_hash or ""
    if not ran:
        promotion.notes.append(f"stack {promotion.source!r} records no program hash (deployed by an older "
                               "version): whether it ran this program cannot be told")
        return
    if here in ran:
        return
    what = (f"the program here ({here[:12]}) is not the one stack {promotion.source!r} last ran "
            f"({', '.join(sorted(h[:12] for h in ran))})")
    if not allow_untested:
        raise Refused(f"{what}: run it there first (`pulumi up --stack {promotion.source}`), or pass "
                      "--allow-untested-program to promote it anyway")
    promotion.notes.append(f"{what}; promoted anyway (--allow-untested-program)")


def check_no_drift(promotion: Promotion, cwd: Path) -> None:
    found = drift.check_stack(promotion.source, cwd)
    if found.status == "error":
        raise CommandFailed(["refresh", "--preview-only"], f"drift check of {promotion.source!r}: {found.error}")
    if found.resources:
        names = ", ".join(f"{r.type}::{r.name} ({'deleted' if r.change == 'delete' else 'changed'})"
                          for r in found.resources)
        raise Refused(f"stack {promotion.source!r} has drift: {names}; run `mailinfra drift --stack "
                      f"{promotion.source}` for the fields, then `pulumi refresh` there to accept them or `pulumi up "
                      "--refresh` to put the program's values back")


def check_delivery(promotion: Promotion, deployment: dict[str, Any]) -> None:
    checks = [r for r in deployment.get("resources") or [] if r.get("type") == DELIVERY_CHECK_TYPE]
    if not checks:
        promotion.notes.append(f"{promotion.source!r} has no DeliveryCheck: mail delivery is not proven there")
    for check in checks:
        outputs = check.get("outputs") or {}
        name = str(check.get("urn", "")).split("::")[-1]
        if outputs.get("state") != "delivered":
            raise Refused(f"DeliveryCheck {name!r} of {promotion.source!r} did not see its message delivered "
                          f"(state {outputs.get('state')!r}, message {outputs.get('message_id')!r})")


def check_gate(promotion: Promotion, target_config: dict[str, Any], project: str) -> None:
    from pulumi_mailinfra.config import resolve_settings
    from pulumi_mailinfra.elemta.client import elemta_client
    from pulumi_mailinfra.elemta.lookups import check_gate as gate
    from pulumi_mailinfra.errors import ConfigurationError, MailinfraError

    raw = {key: value.value for key, value in target_config.items()}
    try:
        resolve_settings("elemta", raw)
    except ConfigurationError:
        promotion.notes.append(f"{promotion.target!r} has no Elemta URL: its gate was not checked")
        return
    thresholds = {threshold: int(raw[f"{project}:{key}"]) for key, threshold in GATE_KEYS.items()
                  if f"{project}:{key}" in raw}
    try:
        gate(client=elemta_client(raw), **thresholds)  # type: ignore[arg-type]
    except MailinfraError as closed:
        raise Refused(f"the Elemta gate of {promotion.target!r} is closed: {closed}") from None


def config_changes(source: dict[str, Any], target: dict[str, Any]) -> list[ConfigChange]:
    """Every key that differs, secrets compared by value but never shown."""
    changes = []
    for key in sorted(set(source) | set(target)):
        old, new = source.get(key), target.get(key)
        secret = bool((old and old.secret) or (new and new.secret))
        if old is not None and new is not None and old.value == new.value:
            continue
        kind = "added" if old is None else "removed" if new is None else "changed"
        changes.append(ConfigChange(key, kind, None if secret or old is None else str(old.value),
                                    None if secret or new is None else str(new.value), secret))
    return changes


def promote(args: argparse.Namespace, echo: Callable[[str], None]) -> Promotion:
    cwd = args.cwd.resolve()
    promotion = Promotion(args.source, args.target, program_hash=program_hash(cwd))
    workspace = _workspace(cwd, fast=getattr(args, "fast", False))
    from pulumi import automation as auto

    try:
        deployment = _exported(args.source, cwd)
        check_last_update(auto.Stack.select(args.source, workspace), promotion, deployment)
        check_program(promotion, deployment, allow_untested=getattr(args, "allow_untested_program", False))
        check_no_drift(promotion, cwd)
        check_delivery(promotion, deployment)
        source_config = workspace.get_all_config(args.source)
        target_config = workspace.get_all_config(args.target)
        check_gate(promotion, target_config, project_name(cwd))
    except Refused as refused:
        promotion.reason = str(refused)
        return promotion
    promotion.config_changes = config_changes(source_config, target_config)
    source_tags = workspace.list_tags(args.source)
    if TAG_HASH in source_tags and source_tags[TAG_HASH] != promotion.program_hash:
        promotion.notes.append(f"the program changed since {args.source!r} was promoted "
                               f"({source_tags[TAG_HASH][:12]} there, {promotion.program_hash[:12]} here)")
    target = auto.Stack.select(args.target, workspace)
    preview = target.preview(on_output=echo, color="never")
    promotion.target_changes = {str(k): int(v) for k, v in (preview.change_summary or {}).items()}
    promotion.status = "previewed"
    if args.yes:
        message = (f"promote {args.source} v{promotion.source_version} "
                   f"(program {promotion.program_hash[:12]}) by mailinfra")
        up = target.up(on_output=echo, color="never", message=message)
        promotion.target_changes = {str(k): int(v) for k, v in (up.summary.resource_changes or {}).items()}
        workspace.set_tag(args.target, TAG_FROM, f"{args.source}@{promotion.source_version}")
        workspace.set_tag(args.target, TAG_HASH, promotion.program_hash)
        promotion.status = "promoted"
    return promotion


def render(promotion: Promotion) -> str:
    lines = [f"promote {promotion.source} -> {promotion.target}: {promotion.status}"]
    if promotion.reason:
        lines.append(f"{'refused' if promotion.status == 'refused' else 'error'}: {promotion.reason}")
    lines += [f"note: {note}" for note in promotion.notes]
    if promotion.status in ("previewed", "promoted"):  # only then were the configurations compared, the target run
        lines.append("configuration differences (target vs source):" if promotion.config_changes
                     else "configuration: the same in both stacks")
        for change in promotion.config_changes:
            if change.secret:
                shown = "secret, values differ" if change.change == "changed" else f"secret, {change.change}"
            else:
                shown = f"{change.change}: {change.source!r} -> {change.target!r}"
            lines.append(f"  {change.key}: {shown}")
        counts = ", ".join(f"{count} {op}" for op, count in sorted(promotion.target_changes.items()))
        lines.append(f"target {'update' if promotion.status == 'promoted' else 'preview'}: {counts or 'no changes'}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    quiet = args.json
    echo = (lambda _line: None) if quiet else (lambda line: print(line, end="" if line.endswith("\n") else "\n"))
    try:
        promotion = promote(args, echo)
    except CommandFailed as failed:
        promotion = Promotion(args.source, args.target, status="failed", reason=failed.message)
    except Exception as error:  # the Automation API's CommandError and the like: a failed step, said plainly
        said = f"{getattr(error, 'stderr', '') or ''}\n{getattr(error, 'stdout', '') or ''}".strip() or str(error)
        promotion = Promotion(args.source, args.target, status="failed", reason=error_lines(said))
    if args.json:
        print(json.dumps(asdict(promotion), indent=2))
    else:
        print(render(promotion))
    sys.stdout.flush()
    return {"refused": REFUSED, "failed": FAILED}.get(promotion.status, PROMOTED)
