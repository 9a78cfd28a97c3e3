"""`mailinfra recover` removes only the locks of runs that are gone: a live process's lock, or another machine's,
is reported and kept."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from mailinfra_cli.recover import stale_locks, torn_metadata


def _lock(folder: Path, name: str, pid: int, host: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"pid": pid, "username": "ci", "hostname": host, "timestamp": "2026-11-24T10:00:00Z"}))
    return path


def test_only_a_dead_local_runs_lock_is_stale(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    locks = tmp_path / ".pulumi" / "locks" / "organization" / "proj" / "dev"
    gone = _lock(locks, "gone", int(dead.stdout), socket.gethostname())
    _lock(locks, "alive", os.getpid(), socket.gethostname())
    _lock(locks, "elsewhere", 1, "another-host")
    (locks / "torn.json").write_text("{\"pid\": 12")  # a run killed while writing its lock
    stale, held = stale_locks(f"file://{tmp_path}", "proj", "dev")
    assert sorted(p.name for p in stale) == [gone.name, "torn.json"]
    assert len(held) == 2 and any(f"pid {os.getpid()}" in h for h in held) and any("another-host" in h for h in held)
    assert stale_locks(f"file://{tmp_path}", "proj", "prod") == ([], [])  # another stack's locks are not looked at


def test_a_half_written_metadata_file_is_found_and_a_whole_one_kept(tmp_path: Path) -> None:
    stacks = tmp_path / ".pulumi" / "stacks" / "proj"
    stacks.mkdir(parents=True)
    (stacks / "dev.json.gz.attrs").write_text("")  # what a run killed inside the backend's attribute write leaves
    (stacks / "prod.json.gz.attrs").write_text('{"user.content_type": "application/octet-stream"')
    (stacks / "qa.json.gz.attrs").write_text('{"user.content_type": "application/octet-stream", "md5": null}\n')
    torn = torn_metadata(f"file://{tmp_path}")
    assert [p.name for p in torn] == ["dev.json.gz.attrs", "prod.json.gz.attrs"]
