"""`mailinfra drift` under the real CLI: two stacks of one project, clean (exit 0), one drifted out of band (exit 1,
the resource and field with both values, secrets masked, JSON for machines), and a stack that cannot be checked
(exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest

from pulumi_mailinfra import cleanmail
from tests.conftest import Emulator, StackFactory

pytestmark = pytest.mark.e2e
PASSWORD = "Drift-user-pw-8841"


def environment_program() -> Callable[[], None]:
    def program() -> None:
        stack = pulumi.get_stack()
        domain = cleanmail.Domain("org", name=f"{stack}.drift.example", default_language="EN", quarantine=True,
                                  retention=True, archive=False, description=f"the {stack} domain")
        cleanmail.User("ops", domain_id=domain.id, email=f"ops@{stack}.drift.example", password=PASSWORD)
        pulumi.export("domain_id", domain.id)

    return program


def drift(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailinfra_cli", "drift", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def test_drift_clean_drifted_and_error(make_stack: StackFactory, emulator: Emulator,
                                       pulumi_env: dict[str, str]) -> None:
    project = f"drift-{uuid.uuid4().hex[:8]}"
    dev = make_stack(environment_program(), "dev", project=project)
    staging = make_stack(environment_program(), "staging", project=project)
    dev.up()
    staging_domain = staging.up().outputs["domain_id"].value
    cwd = Path(dev.workspace.work_dir)

    clean = drift(cwd, pulumi_env, "--stack", "dev", "--stack", "staging", "--json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert [(s["stack"], s["status"]) for s in json.loads(clean.stdout)["stacks"]] == [
        ("dev", "clean"), ("staging", "clean")]

    api = emulator.cleanmail()
    api.request("PATCH", f"/domains/{staging_domain}", json={"description": "edited in the console"})
    user = next(u for u in api.get("/users") if u["email"] == "ops@staging.drift.example")
    api.request("DELETE", f"/users/{user['id']}")

    drifted = drift(cwd, pulumi_env, "-s", "dev", "-s", "staging", "--json")
    assert drifted.returncode == 1, drifted.stdout + drifted.stderr
    report: dict[str, Any] = json.loads(drifted.stdout)
    assert report["exit_code"] == 1
    by_stack = {s["stack"]: s for s in report["stacks"]}
    assert by_stack["dev"]["status"] == "clean" and by_stack["staging"]["status"] == "drift"
    changes = {(r["type"], r["name"], r["change"]): r["fields"] for r in by_stack["staging"]["resources"]}
    assert changes[("cleanmail:Domain", "org", "update")] == [
        {"path": "description", "before": "the staging domain", "after": "edited in the console"}]
    assert ("cleanmail:User", "ops", "delete") in changes

    table = drift(cwd, pulumi_env, "-s", "staging")
    assert table.returncode == 1
    assert "cleanmail:Domain::org" in table.stdout and "edited in the console" in table.stdout
    assert "staging: drift in 2 resource(s)" in table.stdout
    for text in (table.stdout, drifted.stdout, table.stderr):
        assert PASSWORD not in text

    broken = drift(cwd, pulumi_env, "-s", "dev", "-s", "no-such-stack", "--json")
    assert broken.returncode == 2, broken.stdout + broken.stderr
    errors = {s["stack"]: s["error"] for s in json.loads(broken.stdout)["stacks"]}
    assert errors["dev"] is None and "no-such-stack" in errors["no-such-stack"]
    staging.refresh()  # accept the drift so the fixture's destroy has the real state


def test_drift_says_why_a_stack_could_not_be_checked(make_stack: StackFactory, emulator: Emulator,
                                                     pulumi_env: dict[str, str]) -> None:
    """Issue 25, item 2: an API failure during the check printed `dev: error: error: Preview failed: Traceback
    (most recent call last):; ...`. Now: the resource and the API's words, on one line."""
    dev = make_stack(environment_program(), "dev")
    dev.up()
    emulator.fault(kind="status", status=403, path="cleanmail/domains/", method="GET")
    failed = drift(Path(dev.workspace.work_dir), pulumi_env, "--stack", "dev")
    emulator.clear_faults()
    assert failed.returncode == 2, failed.stdout + failed.stderr
    line = next(line for line in failed.stdout.splitlines() if line.startswith("dev: error: "))
    assert "Domain 'org': cleanmail GET /domains/" in line and "HTTP 403" in line, failed.stdout
    assert "Traceback" not in failed.stdout + failed.stderr and "Preview failed" not in line


MAIN_PY = """import pulumi
from pulumi_mailinfra import cleanmail

domain = cleanmail.Domain("org", name="dev.drift.example", default_language="EN", quarantine=True, retention=True,
                          archive=False, description="the dev domain")
cleanmail.User("ops", domain_id=domain.id, email="ops@dev.drift.example", password="Drift-user-pw-8841")
pulumi.export("domain_id", domain.id)
"""


def test_drift_checks_with_todays_configuration(make_stack: StackFactory, emulator: Emulator,
                                                pulumi_env: dict[str, str]) -> None:
    """Issue 25, item 3: after an `up` with a wrong token failed and the token was put back, the check still used
    the failed run's settings (401, exit 2). It uses the stack's current configuration."""
    from pulumi import automation as auto

    def changed() -> None:
        cleanmail.Domain("org", name="dev.drift.example", default_language="EN", quarantine=True, retention=True,
                         archive=False, description="a change, so the up sends a request")

    dev = make_stack(environment_program(), "dev")
    dev.up()
    cwd = Path(dev.workspace.work_dir)  # the project's program on disk, which `--run-program` runs
    (cwd / "__main__.py").write_text(MAIN_PY)
    token = dev.get_config("mailinfra:cleanmailToken").value
    dev.set_config("mailinfra:cleanmailToken", auto.ConfigValue("rotated-away", secret=True))
    dev.workspace.program = changed
    with pytest.raises(auto.CommandError, match="HTTP 401"):
        dev.up()
    dev.set_config("mailinfra:cleanmailToken", auto.ConfigValue(token, secret=True))
    checked = drift(cwd, pulumi_env, "--stack", "dev", "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    dev.workspace.program = environment_program()
    dev.up()  # the state's settings are today's again, for the fixture's destroy
