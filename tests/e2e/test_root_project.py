"""The root Pulumi.yaml project as a *local* program: the CLI starts a language host and runs
examples/quickstart in the project's virtualenv, as a plain `pulumi up` in the repository does."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pulumi import automation as auto

from mailinfra_cli.devtools import REPO_ROOT
from tests.conftest import CM_TOKEN, GA_PASSWORD, GA_USER, Emulator

pytestmark = pytest.mark.e2e


def test_root_project_up_preview_destroy(pulumi_env: dict[str, str], emulator: Emulator, tmp_path: Path) -> None:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    shutil.copytree(REPO_ROOT / "examples" / "quickstart", tmp_path / "examples" / "quickstart")
    (tmp_path / ".venv").symlink_to(REPO_ROOT / ".venv")  # Pulumi.yaml's `virtualenv: .venv`
    env = pulumi_env | {"GREENARROW_URL": emulator.url, "GREENARROW_USERNAME": GA_USER,
                        "GREENARROW_PASSWORD": GA_PASSWORD, "CLEANMAIL_URL": emulator.cleanmail_url,
                        "CLEANMAIL_TOKEN": CM_TOKEN, "ELEMTA_URL": emulator.elemta_url}
    command = auto.PulumiCommand(root=str(Path(shutil.which("pulumi", path=env["PATH"]) or "").parent.parent),
                                 skip_version_check=True)
    workspace = auto.LocalWorkspace(work_dir=str(tmp_path), env_vars=env, pulumi_command=command)
    stack = auto.Stack.create_or_select("ci", workspace)
    stack.set_config("mailinfra-quickstart:dailyVolume", auto.ConfigValue("120000"))
    stack.set_config("mailinfra-quickstart:environment", auto.ConfigValue("ci"))
    for key in ("relayPassword", "userPassword"):
        stack.set_config(f"mailinfra-quickstart:{key}", auto.ConfigValue(f"ci-{key}-value", secret=True))
    try:
        events: list[auto.EngineEvent] = []
        up = stack.up(on_event=events.append)
        assert up.summary.resource_changes == {"create": 18}
        created = finished(events, auto.OpType.CREATE)
        # Three services, one dependency graph: the domain after the relays whose IPs it allows, its parts
        # after it.
        assert created.index("quickstart-domain") > max(created.index("primary-relay"), created.index("fallback-relay"))
        for part in ("quickstart-dkim", "executives-policy", "ceo", "quickstart-aliases"):
            assert created.index(part) > created.index("quickstart-domain")
        assert created.index("postmaster") > max(created.index("ceo"), created.index("ops"))
        # 120 000 requested -> 3 IPs provisioned -> 75 000 recommended per day.
        assert up.outputs["main_route"].value["recommended_max_daily_volume"] == 75000
        assert up.outputs["primary_relay"].value["name"].startswith("primary-relay-")
        # The Cleanmail domain's allowed subnets are the GreenArrow relays' source IPs (another resource's output).
        assert up.outputs["domain"].value["outgoing_subnets"] == ["192.0.2.10/32", "192.0.2.20/32"]
        assert up.outputs["dkim_record"].value["name"] == "protect._domainkey.ci.quickstart.example"
        # The delivery check runs last: after the relays, the route and the domain with its policy and users.
        assert created.index("mail-path-check") > max(created.index(name) for name in (
            "primary-relay", "fallback-relay", "main-route", "quickstart-domain", "executives-policy", "ops"))
        assert up.outputs["delivery_check"].value["state"] == "delivered"
        sent = emulator.elemta().message_logs("delivery")
        assert [e.message_id for e in sent] == [up.outputs["delivery_check"].value["message_id"]]
        stack.preview(expect_no_changes=True)
        events.clear()
        stack.destroy(on_event=events.append)
        deleted = finished(events, auto.OpType.DELETE)
        assert deleted.index("quickstart-domain") < min(deleted.index("primary-relay"), deleted.index("fallback-relay"))
        assert deleted.index("quickstart-domain") > max(deleted.index("quickstart-dkim"), deleted.index("ceo"))
    finally:
        stack.destroy()
        workspace.remove_stack("ci")
    assert emulator.names("/relay_servers", "relay_servers") == []


@pytest.mark.parametrize(("settings", "expected"), [
    ({}, "is missing configuration values 'environment', 'relayPassword' and 'userPassword'"),
    ({"environment": ("qa", False), "relayPassword": ("r", False), "userPassword": ("u", True)},
     "configuration key 'relayPassword' must be encrypted as it's secret"),
    ({"environment": ("qa", False), "relayPassword": ("r", True), "userPassword": ("u", True),
      "dailyVolume": ("lots", False)}, "configuration key 'dailyVolume' must be of type 'integer'"),
])
def test_project_config_is_typed_for_every_stack(pulumi_env: dict[str, str], tmp_path: Path,
                                                 settings: dict[str, tuple[str, bool]], expected: str) -> None:
    """The root Pulumi.yaml declares the program's settings (type, default, secret): the CLI refuses a stack that
    lacks one or gives a wrong type, before the program runs."""
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    command = auto.PulumiCommand(root=str(Path(shutil.which("pulumi", path=pulumi_env["PATH"]) or "").parent.parent),
                                 skip_version_check=True)
    workspace = auto.LocalWorkspace(work_dir=str(tmp_path), env_vars=pulumi_env, pulumi_command=command)
    stack = auto.Stack.create_or_select("qa", workspace)
    try:
        for key, (value, secret) in settings.items():
            stack.set_config(f"mailinfra-quickstart:{key}", auto.ConfigValue(value, secret=secret))
        # The plain CLI: the Automation API (3.139) leaves its event-log watcher thread running forever when a
        # command fails before the engine starts, which would keep the test process from exiting.
        refused = subprocess.run(["pulumi", "preview", "--stack", "qa", "--non-interactive"], cwd=tmp_path,
                                 env=pulumi_env, capture_output=True, text=True, timeout=300, check=False)
        assert refused.returncode != 0 and expected in refused.stdout + refused.stderr
    finally:
        workspace.remove_stack("qa")


def finished(events: list[auto.EngineEvent], op: auto.OpType) -> list[str]:
    """The logical names of the resources whose `op` finished, in the order the engine finished them."""
    done = [e.res_outputs_event.metadata for e in events if e.res_outputs_event]
    return [m.urn.rsplit("::", 1)[1] for m in done if m.op == op]
