"""Repair a stack after its update was killed half-way (a crash, a lost CI runner, SIGKILL), in fast mode or not.

    mailinfra recover --stack dev [--cwd DIR]

1. On a file backend: a metadata file (`<state>.attrs`) the killed run left half-written is removed (the
   backend writes it in place, not atomically: every command would fail `failed to load checkpoint: EOF`), and
   the run's lock is removed once its process is known to be gone (a run still alive on this machine is never
   unlocked; another machine's lock is named, not touched).
2. `pulumi refresh --clear-pending-creates`: the state is read back from the APIs, and the creates the engine
   recorded as started but never finished are dropped from it.
Then run the update again (`pulumi up`, `mailinfra deploy`): every create takes over the object the killed run
may have made (same name, same inputs) instead of duplicating it, and every delete of an object already gone
succeeds. Exit 0 when the stack is ready for that, 2 when it could not be repaired (the reason is printed)."""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

from .pulumi_cli import CommandFailed, cli_env, project_name, run_pulumi

READY, FAILED = 0, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", "-s", required=True, help="the stack whose update was interrupted")
    parser.add_argument("--cwd", "-C", type=Path, default=Path.cwd(), help="the project folder (default: here)")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def stale_locks(backend_url: str, project: str, stack: str) -> tuple[list[Path], list[str]]:
    """The stack's lock files on a file backend: (those left by processes gone from this machine, descriptions of
    those held by a live process or another machine)."""
    folder = Path(backend_url.removeprefix("file://")).expanduser() / ".pulumi" / "locks"
    stale, held = [], []
    for lock in sorted(folder.glob(f"*/{project}/{stack}/*.json")):
        try:
            content: dict[str, Any] = json.loads(lock.read_text())
        except (OSError, ValueError):
            stale.append(lock)  # unreadable: written by a run killed while writing it
            continue
        pid, host = int(content.get("pid") or 0), str(content.get("hostname") or "")
        if host == socket.gethostname() and pid and not _pid_alive(pid):
            stale.append(lock)
        else:
            held.append(f"pid {pid} on {host or 'an unknown host'} since {content.get('timestamp')}")
    return stale, held


def torn_metadata(backend_url: str) -> list[Path]:
    """The file backend's `.attrs` sidecars that are not whole JSON. Its storage layer (gocloud's fileblob)
    writes the state file atomically (a temporary file renamed) but the `<file>.attrs` beside it in place: a run
    killed in between leaves it empty, and every later command fails `failed to load checkpoint: EOF`. Without
    the sidecar a file reads with default attributes."""
    torn = []
    for sidecar in sorted((Path(backend_url.removeprefix("file://")).expanduser() / ".pulumi").rglob("*.attrs")):
        try:
            json.loads(sidecar.read_text() or "x")
        except (OSError, ValueError):
            torn.append(sidecar)
    return torn


def recover(stack: str, cwd: Path) -> list[str]:
    """Unlock and refresh `stack`; the steps taken. CommandFailed when it cannot be repaired."""
    env = cli_env()
    steps: list[str] = []
    backend = json.loads(run_pulumi(["whoami", "--json"], cwd, env).stdout or "{}").get("url", "")
    if str(backend).startswith("file://"):
        for sidecar in torn_metadata(backend):
            sidecar.unlink(missing_ok=True)
            steps.append(f"removed a metadata file the killed run left half-written ({sidecar.name})")
        stale, held = stale_locks(backend, project_name(cwd), stack)
        if held:
            raise CommandFailed(["recover"], f"stack {stack!r} is locked by a run that may still be going: "
                                f"{'; '.join(held)}; wait for it, or run `pulumi cancel` once sure it is gone")
        for lock in stale:
            lock.unlink(missing_ok=True)
            lock.with_name(lock.name + ".attrs").unlink(missing_ok=True)  # the file backend's metadata beside it
            steps.append(f"removed the lock of a run that is gone ({lock.name})")
    else:
        steps.append("not a file backend: a killed run's lock is the service's (`pulumi cancel` if it stays)")
    run_pulumi(["refresh", "--stack", stack, "--yes", "--clear-pending-creates", "--skip-preview",
                "--suppress-progress", "--color", "never"], cwd, env)
    steps.append("refreshed the state from the APIs and cleared unfinished creates")
    return steps


def run(args: argparse.Namespace) -> int:
    try:
        steps = recover(args.stack, args.cwd.resolve())
    except CommandFailed as failed:
        print(f"recover {args.stack}: failed: {failed.message}", file=sys.stderr)
        return FAILED
    print("\n".join([f"recover {args.stack}: ready", *(f"  {step}" for step in steps),
                     "  next: run the update again (`pulumi up` / `mailinfra deploy`)"]))
    return READY
