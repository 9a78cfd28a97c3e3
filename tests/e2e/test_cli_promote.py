"""`mailinfra promote` under the real CLI, on a project whose program is a file (as users have it): each refusal
with its reason (never updated, last update failed, drift, a delivery check that saw no delivery, the target's
Elemta gate closed), then a promotion: the configuration differences (a secret compared, never shown), the
target's preview, and with --yes its update, recorded in `pulumi stack history` and the target's tags."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from pulumi import automation as auto

from mailinfra_cli.promote import program_hash
from tests.conftest import Emulator, StackFactory

pytestmark = pytest.mark.e2e
SECRET_STAGING, SECRET_PROD = "staging-api-secret-5531", "prod-api-secret-7702"

PROGRAM = '''\
import pulumi

from pulumi_mailinfra import cleanmail, elemta

config = pulumi.Config()
stack = pulumi.get_stack()
domain = cleanmail.Domain("org", name=f"{stack}.promote.example", default_language="EN", quarantine=True,
                          retention=True, archive=False, description=config.get("description") or "promoted")
check = elemta.DeliveryCheck("mail-path", sender="ops@promote.example", recipient="probe@example.net",
                             triggers=[domain.id, domain.description.apply(str)],
                             wait_for=config.get("waitFor") or "delivered", timeout_seconds=10,
                             poll_interval_seconds=0.1)
pulumi.export("domain_id", domain.id)
'''


def promote(cwd: Path, env: dict[str, str], *args: str) -> tuple[int, dict[str, Any], str]:
    result = subprocess.run([sys.executable, "-m", "mailinfra_cli", "promote", "--from", "staging", "--to", "prod",
                             *args, "--json"], cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
                            check=False)
    try:
        report = json.loads(result.stdout)
    except ValueError:
        raise AssertionError(result.stdout + result.stderr) from None
    return result.returncode, report, result.stdout + result.stderr


def file_project(tmp_path: Path, prefix: str) -> tuple[str, Path]:
    """A project whose program is a file (`PROGRAM`), as `pulumi` and `mailinfra promote` run it: (name, folder)."""
    project = f"{prefix}-{uuid.uuid4().hex[:8]}"
    cwd = tmp_path / project
    cwd.mkdir()
    (cwd / "Pulumi.yaml").write_text(f"name: {project}\nruntime: python\n")
    (cwd / "__main__.py").write_text(PROGRAM)
    return project, cwd


def test_promote_refusals_then_a_recorded_promotion(make_stack: StackFactory, emulator: Emulator,
                                                   pulumi_env: dict[str, str], tmp_path: Path) -> None:
    project, cwd = file_project(tmp_path, "promote")
    staging = make_stack(None, "staging", project=project)
    prod = make_stack(None, "prod", project=project)
    staging.set_config(f"{project}:apiSecret", auto.ConfigValue(SECRET_STAGING, secret=True))
    prod.set_config(f"{project}:apiSecret", auto.ConfigValue(SECRET_PROD, secret=True))
    prod.set_config(f"{project}:description", auto.ConfigValue("production"))

    code, report, _ = promote(cwd, pulumi_env)
    assert (code, report["status"]) == (1, "refused") and "has never been updated" in report["reason"]

    staging.up()
    # A failed update of the source: every write to domains refused by the API.
    staging.set_config(f"{project}:description", auto.ConfigValue("edited"))
    emulator.fault(kind="status", status=400, method="PATCH", path="/cleanmail/domains/")
    with pytest.raises(auto.CommandError):
        staging.up()
    emulator.clear_faults()
    code, report, _ = promote(cwd, pulumi_env)
    assert code == 1 and "the last update of 'staging'" in report["reason"] and "failed" in report["reason"]
    staging.remove_config(f"{project}:description")
    staging.up()

    api = emulator.cleanmail()
    domain_id = staging.outputs()["domain_id"].value
    api.request("PATCH", f"/domains/{domain_id}", json={"description": "hand-edited"})
    code, report, _ = promote(cwd, pulumi_env)
    assert code == 1 and "has drift: cleanmail:Domain::org (changed)" in report["reason"]
    staging.refresh()
    staging.up()  # the program's value back

    staging.set_config(f"{project}:waitFor", auto.ConfigValue("queued"))
    staging.up()
    code, report, _ = promote(cwd, pulumi_env)
    assert code == 1 and "DeliveryCheck 'mail-path' of 'staging' did not see its message delivered" in \
        report["reason"] and "'queued'" in report["reason"]
    staging.remove_config(f"{project}:waitFor")
    staging.up()

    httpx.post(f"{emulator.url}/_emulator/elemta/health", json={"status": "degraded"}).raise_for_status()
    code, report, _ = promote(cwd, pulumi_env)
    assert code == 1 and "the Elemta gate of 'prod' is closed" in report["reason"]
    httpx.post(f"{emulator.url}/_emulator/elemta/health", json={"status": "healthy"}).raise_for_status()

    # A program changed here but not yet run on the source (issue 25, item 5): refused, or a note when allowed.
    (cwd / "__main__.py").write_text(PROGRAM + "pulumi.export('untested', True)\n")
    code, report, _ = promote(cwd, pulumi_env)
    assert code == 1 and "is not the one stack 'staging' last ran" in report["reason"], report
    assert "--allow-untested-program" in report["reason"]
    code, report, text = promote(cwd, pulumi_env, "--allow-untested-program")
    assert (code, report["status"]) == (0, "previewed"), text
    assert any("promoted anyway (--allow-untested-program)" in note for note in report["notes"])
    (cwd / "__main__.py").write_text(PROGRAM)

    code, report, text = promote(cwd, pulumi_env)
    assert (code, report["status"]) == (0, "previewed"), text
    assert not report["notes"], report["notes"]
    changes = {c["key"]: c for c in report["config_changes"]}
    assert changes[f"{project}:apiSecret"] == {"key": f"{project}:apiSecret", "change": "changed", "source": None,
                                               "target": None, "secret": True}
    assert changes[f"{project}:description"]["change"] == "added"
    assert report["target_changes"].get("create") == 3  # the stack, the domain, the check
    assert SECRET_STAGING not in text and SECRET_PROD not in text
    assert prod.history() == []  # a preview changes nothing

    code, report, text = promote(cwd, pulumi_env, "--yes")
    assert (code, report["status"]) == (0, "promoted"), text
    assert SECRET_STAGING not in text and SECRET_PROD not in text
    assert api.get("/domains", name="prod.promote.example")[0]["description"] == "production"
    version = report["source_version"]
    assert version == len(staging.history())  # the file backend numbers no update: its place in the history
    last = prod.history(page_size=1)[0]
    assert last.kind == "update" and last.result == "succeeded"
    assert last.message == f"promote staging v{version} (program {program_hash(cwd)[:12]}) by mailinfra"
    tags = prod.workspace.list_tags("prod")
    assert tags["mailinfra:promoted-from"] == f"staging@{version}"
    assert tags["mailinfra:program-hash"] == program_hash(cwd)


def test_promote_refuses_an_interrupted_source(make_stack: StackFactory, emulator: Emulator,
                                               pulumi_env: dict[str, str], tmp_path: Path) -> None:
    """An update killed half-way leaves a pending operation in the checkpoint: promote refuses to go on."""
    project, cwd = file_project(tmp_path, "pending")
    staging = make_stack(None, "staging", project=project)
    make_stack(None, "prod", project=project)
    staging.up()
    staging.set_config(f"{project}:description", auto.ConfigValue("slow change"))
    emulator.fault(kind="latency", latency_ms=20000, method="PATCH", path="/cleanmail/domains/")
    update = subprocess.Popen(["pulumi", "up", "--yes", "--stack", "staging", "--non-interactive"], cwd=cwd,
                              env=pulumi_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    deadline = time.monotonic() + 120
    while emulator.stats().get("by_method", {}).get("PATCH", 0) == 0 and time.monotonic() < deadline:
        time.sleep(0.2)  # until the update is in flight
    os.killpg(update.pid, signal.SIGKILL)
    update.wait()
    emulator.clear_faults()

    code, report, _ = promote(cwd, pulumi_env)  # reading the checkpoint needs no lock
    assert code == 1 and "has pending operations from an interrupted update (org)" in report["reason"]
    backend = Path(pulumi_env["PULUMI_BACKEND_URL"].removeprefix("file://"))
    for lock in (backend / ".pulumi" / "locks" / "organization" / project).rglob("*.json"):
        lock.unlink()  # the killed update's lock, as the CLI's message says, so the stack can be cleaned up
    exported = json.loads(subprocess.run(["pulumi", "stack", "export", "--stack", "staging"], cwd=cwd,
                                         env=pulumi_env, capture_output=True, text=True, check=True).stdout)
    exported["deployment"].pop("pending_operations", None)  # resolved: the fixture can destroy the stack
    (tmp_path / "state.json").write_text(json.dumps(exported))
    subprocess.run(["pulumi", "stack", "import", "--stack", "staging", "--file", str(tmp_path / "state.json")],
                   cwd=cwd, env=pulumi_env, capture_output=True, check=True)
