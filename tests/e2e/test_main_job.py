"""The README's main command end to end: `mailinfra deploy` (what scripts/deploy.sh runs)
brings up the root stack on the embedded emulator, prints its outputs, is a no-op the second time, and
destroys cleanly. Run in a subprocess, exactly as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mailinfra_cli.devtools import REPO_ROOT
from pulumi_mailinfra.emulator.cleanmail.backend import CleanmailBackend
from pulumi_mailinfra.emulator.greenarrow.backend import GreenArrowBackend

pytestmark = pytest.mark.e2e


def deploy(state_dir: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "mailinfra_cli", "deploy", "--state-dir", str(state_dir), *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_main_job_up_twice_then_destroy(tmp_path: Path) -> None:
    first = deploy(tmp_path)
    assert "+ 18 created" in first
    outputs = json.loads(first.split("stack outputs:", 1)[1])
    assert outputs["main_route"]["recommended_max_daily_volume"] == 25000
    assert outputs["primary_redirect"] == {"id": int(outputs["fallback_relay"]["id"])}  # the API's id is an integer
    assert "18 unchanged" in deploy(tmp_path)  # state persisted in SQLite across emulator restarts
    deploy(tmp_path, "--destroy")
    backend = GreenArrowBackend(str(tmp_path / "emulator.sqlite"))
    cleanmail = CleanmailBackend(str(tmp_path / "emulator.sqlite"))
    try:
        for listing in (backend.list_relay_servers(), backend.list_throttling_templates(), backend.list_routes()):
            assert listing["pagination"]["num_records"] == 0
        [domain], _ = cleanmail.list_domains({})
        assert domain["status"] == "DELETED"  # Cleanmail's soft delete: the name stays reserved until purged
        assert cleanmail.list_users(None, {})[1] == 0 and cleanmail.list_groups(domain["id"], {})[1] == 0
        assert cleanmail.list_policies(domain["id"], {})[1] == 1  # only the default, reset, stays
    finally:
        backend.close()
        cleanmail.close()
    again = deploy(tmp_path, "--fast")  # the soft-deleted domain is restored, not refused; state written at the end
    assert "+ 18 created" in again
    state = list((tmp_path / "backend" / ".pulumi" / "stacks").rglob("dev.json*"))
    assert [f.name for f in state if not f.name.endswith((".bak", ".attrs"))] == ["dev.json.gz"]  # gzip by default
    assert "18 unchanged" in deploy(tmp_path)  # the default mode reads what fast mode wrote


def test_main_job_stacks_side_by_side_on_one_emulator(tmp_path: Path) -> None:
    dev = json.loads(deploy(tmp_path).split("stack outputs:", 1)[1])
    prod = json.loads(deploy(tmp_path, "--stack", "prod").split("stack outputs:", 1)[1])
    assert dev["domain"]["name"] == "dev.quickstart.example" and prod["domain"]["name"] == "prod.quickstart.example"
    assert dev["primary_relay"]["name"] != prod["primary_relay"]["name"]  # autonames differ per stack
    backend = GreenArrowBackend(str(tmp_path / "emulator.sqlite"))
    cleanmail = CleanmailBackend(str(tmp_path / "emulator.sqlite"))
    try:
        assert backend.list_relay_servers()["pagination"]["num_records"] == 4
        assert cleanmail.list_users(None, {})[1] == 4
    finally:
        backend.close()
        cleanmail.close()
    assert "18 unchanged" in deploy(tmp_path, "--stack", "prod", "--preview")
