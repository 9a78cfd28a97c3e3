"""Running the real `pulumi` CLI for the `mailinfra` commands: which binary, which environment, and the engine's
event log (the structured stream the Automation API reads too)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# What the engine writes instead of a secret value in events and displays.
SECRET_SIG = "4dabf18193072939515e22adb298388d"
MASK = "[secret]"


class CommandFailed(Exception):
    """A `pulumi` command exited non-zero; `message` holds the lines that explain why."""

    def __init__(self, args: Sequence[str], message: str) -> None:
        super().__init__(message)
        self.args_used = list(args)
        self.message = message


def pulumi_binary() -> str:
    """The user's `pulumi` on PATH, else the one this checkout builds (scripts/build-pulumi.sh)."""
    found = shutil.which("pulumi")
    if found:
        return found
    from .devtools import REPO_ROOT, pulumi_bin_dir

    if (REPO_ROOT / "scripts" / "build-pulumi.sh").exists():
        folder = pulumi_bin_dir()
        if folder and (Path(folder) / "pulumi").exists():
            return str(Path(folder) / "pulumi")
    raise CommandFailed(["pulumi"], "no `pulumi` CLI on PATH: install Pulumi (https://www.pulumi.com/docs/install/)")


# A file backend's state gzip-compressed (~24x smaller, cheaper to rewrite after every step; the CLI reads both
# forms). On by default in our commands; `PULUMI_DIY_BACKEND_GZIP=false` in the environment turns it off.
GZIP_STATE = "PULUMI_DIY_BACKEND_GZIP"
# Fast mode: the engine writes the state once, at the end, instead of after every step (N^2 -> N). A run killed
# half-way leaves the state as it was before it; safe here because every create takes over what an earlier
# run made and every delete of a missing object succeeds (README: "Fast mode").
SKIP_CHECKPOINTS = "PULUMI_SKIP_CHECKPOINTS"


def mode_env(env: dict[str, str], *, fast: bool = False) -> dict[str, str]:
    """`env` with gzip-compressed state (unless the caller chose otherwise) and, with `fast`, no checkpoints."""
    env.setdefault(GZIP_STATE, "true")
    if fast:
        env[SKIP_CHECKPOINTS] = "true"
    return env


def cli_env(extra: Mapping[str, str] | None = None, *, fast: bool = False) -> dict[str, str]:
    """The caller's environment (backend, passphrase, credentials are theirs), plus what the commands need:
    `PULUMI_DEBUG_COMMANDS` enables `--event-log`, which the Automation API also relies on; gzip-compressed
    state; with `fast`, the engine's no-checkpoint mode."""
    env = dict(os.environ)
    env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    env["PULUMI_DEBUG_COMMANDS"] = "true"
    env.update(extra or {})
    return mode_env(env, fast=fast)


def project_name(cwd: Path) -> str:
    """The `name` in the project's Pulumi.yaml."""
    import yaml  # a dependency of the pulumi SDK

    return str((yaml.safe_load((cwd / "Pulumi.yaml").read_text()) or {}).get("name", ""))


def _failure_text(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in (result.stderr + "\n" + result.stdout).splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith("error:")]
    return "; ".join(errors[-3:]) if errors else "; ".join(lines[-3:]) or f"exit code {result.returncode}"


def run_pulumi(args: Sequence[str], cwd: Path, env: Mapping[str, str], *, check: bool = True,
        timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    """`pulumi <args>` in `cwd`, captured; CommandFailed (quoting the CLI's error lines) when it fails."""
    command = [pulumi_binary(), *args, "--non-interactive"]
    result = subprocess.run(command, cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout,
                            check=False)
    if check and result.returncode != 0:
        raise CommandFailed(args, _failure_text(result))
    return result


@dataclass
class EventRun:
    result: subprocess.CompletedProcess[str]
    events: list[dict[str, Any]]


def run_with_events(args: Sequence[str], cwd: Path, env: Mapping[str, str], *, check: bool = True) -> EventRun:
    """`run_pulumi`, with the engine's events (one JSON object per line of `--event-log`). When it fails, the
    CommandFailed names each failed resource with its error, read from the engine's diagnostics."""
    with tempfile.TemporaryDirectory(prefix="mailinfra-events-") as folder:
        log = Path(folder) / "events.jsonl"
        result = run_pulumi([*args, "--event-log", str(log)], cwd, env, check=False)
        events = list(_read_events(log))
    if check and result.returncode != 0:
        raise CommandFailed(args, diagnostics_text(events) or _failure_text(result))
    return EventRun(result, events)


_SUMMARIES = {"preview failed", "update failed", "refresh failed", "destroy failed"}
_NOISE = re.compile(r"^(error: |(preview|update|refresh|destroy) failed: |exception calling application: )", re.I)


def error_lines(text: str) -> str:
    """The `error:` lines of a CLI's output, unwrapped and each once (else its last line): what a failed step
    says, for one line of our own output."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    found: list[str] = []
    for line in lines:
        message = _unwrapped(line) if line.lower().startswith("error:") else ""
        if message and message.lower() not in _SUMMARIES and message not in found:
            found.append(message)
    return "; ".join(found) or (lines[-1] if lines else "failed")


def _unwrapped(line: str) -> str:
    line = line.strip()
    while (shorter := _NOISE.sub("", line, count=1).strip()) != line:
        line = shorter
    return line


def diagnostics_text(events: list[dict[str, Any]]) -> str:
    """The engine's error diagnostics, one line each: `<resource>: <message>` (the message's first line, or a
    Python traceback's last one), without the engine's and gRPC's wrappers, each once."""
    found: list[str] = []
    for event in events:
        diagnostic = event.get("diagnosticEvent") or {}
        if diagnostic.get("severity") != "error":
            continue
        lines = [_unwrapped(line) for line in str(diagnostic.get("message", "")).splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            continue
        message = lines[-1] if any(line.startswith("Traceback") for line in lines) else lines[0]
        if message.lower().rstrip(".") in _SUMMARIES or message.lower().startswith("one or more errors occurred"):
            continue
        parts = str(diagnostic.get("urn") or "").split("::")  # urn:pulumi:<stack>::<project>::<type>::<name>
        on_resource = len(parts) >= 4 and parts[-2] != "pulumi:pulumi:Stack"
        line = f"{parts[-2].rsplit(':', 1)[-1]} {parts[-1]!r}: {message}" if on_resource else message
        if line not in found:
            found.append(line)
    return "; ".join(found)


def _read_events(log: Path) -> Iterator[dict[str, Any]]:
    if not log.exists():
        return
    for line in log.read_text().splitlines():
        if line.strip():
            yield json.loads(line)


def masked(value: Any) -> Any:
    """`value` with every secret (the engine's `{sig: ..., ciphertext / plaintext}` form) shown as [secret]."""
    if isinstance(value, Mapping):
        if SECRET_SIG in value:
            return MASK
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value
