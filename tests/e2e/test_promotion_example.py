"""examples/promotion/ as a user runs it, under the real CLI: the shared stack, then the app's `dev` stack whose
`pulumi.StackReference` (the committed `sharedStack` config) resolves to it, then `mailinfra promote --from dev
--to staging --yes`. Every cross-stack reference is read back from the emulator: the environments' throttling
rules sit in the shared template, their routes overflow into the shared route, their ops mailboxes live in the
shared Cleanmail domain under the shared policy; the shared stack sees none of it as drift, refuses to be
destroyed while protected, and staging's next preview is empty."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from mailinfra_cli.devtools import REPO_ROOT, select_stack
from tests.conftest import CM_TOKEN, GA_PASSWORD, GA_USER, Emulator

pytestmark = pytest.mark.e2e
EXAMPLE = REPO_ROOT / "examples" / "promotion"
SHARED_REF = "organization/mailinfra-shared/shared"  # a project-scoped stack's name on the file (DIY) backend
PASSWORDS = {"dev": "dev-relay-pw-4417", "staging": "staging-relay-pw-9023"}


def configure(stack: Any, emulator: Emulator) -> None:
    """Provider settings as stack config, as tests/conftest.py's make_stack sets them."""
    stack.set_config("mailinfra:greenarrowUrl", auto.ConfigValue(emulator.url))
    stack.set_config("mailinfra:greenarrowUsername", auto.ConfigValue(GA_USER))
    stack.set_config("mailinfra:greenarrowPassword", auto.ConfigValue(GA_PASSWORD, secret=True))
    stack.set_config("mailinfra:maxAttempts", auto.ConfigValue("8"))
    stack.set_config("mailinfra:cleanmailUrl", auto.ConfigValue(emulator.cleanmail_url))
    stack.set_config("mailinfra:cleanmailToken", auto.ConfigValue(CM_TOKEN, secret=True))
    stack.set_config("mailinfra:elemtaUrl", auto.ConfigValue(emulator.elemta_url))


def mailinfra(cwd: Path, env: dict[str, str], *args: str) -> tuple[int, dict[str, Any], str]:
    result = subprocess.run([sys.executable, "-m", "mailinfra_cli", *args, "--json"], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=900, check=False)
    try:
        report = json.loads(result.stdout)
    except ValueError:
        raise AssertionError(result.stdout + result.stderr) from None
    return result.returncode, report, result.stdout + result.stderr


def outputs(stack: Any) -> dict[str, Any]:
    return {key: value.value for key, value in stack.outputs().items()}


def assert_uses_shared(emulator: Emulator, env: str, app: dict[str, Any], shared: dict[str, Any]) -> None:
    """What the API holds for one environment refers to the shared stack's objects."""
    ga = emulator.client()
    template = ga.get(ga.path(f"/throttling_templates/{shared['template_id']}"))["throttling_template"]
    rules = {str(rule["id"]): sorted(rule["domains"]) for rule in template["rules"]}
    assert rules[str(shared["gmail_rule_id"])] == ["[*.]googlemail.com", "gmail.com"]
    assert rules[str(app["throttle_rule_id"])] == [f"[*.]{env}.promotion.example"]

    route = ga.get(ga.path(f"/routes/{app['main_route']['id']}"))["route"]
    assert route["name"] == app["main_route"]["name"]
    assert route["overflow_route"] == {"id": int(shared["overflow_route_id"]), "name": shared["overflow_route_name"]}

    cm = emulator.cleanmail()
    user = cm.get(f"/users/{app['ops_mailbox']['id']}")
    assert user["email"] == f"ops-{env}@{shared['corp_domain_name']}" == app["ops_mailbox"]["email"]
    assert user["domainId"] == shared["corp_domain_id"]
    policy = user.get("policy") or {}
    assert (policy.get("id") if isinstance(policy, dict) else policy) == shared["compliance_policy_id"], user
    domain = cm.get(f"/domains/{app['domain']['id']}")
    assert domain["name"] == f"{env}.promotion.example"
    assert app["delivery_check"]["state"] == "delivered"


@pytest.fixture
def stacks(pulumi_env: dict[str, str], emulator: Emulator) -> Iterator[list[Any]]:
    """The stacks a test creates; destroyed and removed afterwards, the environments first, the shared stack last
    (its protection lifted in the state, so no API call is needed for that)."""
    created: list[Any] = []
    yield created
    errors = []
    for stack in reversed(created):
        try:
            if stack.name == "shared":
                cli = shutil.which("pulumi", path=pulumi_env["PATH"]) or "pulumi"
                subprocess.run([cli, "state", "unprotect", "--all", "--yes", "--stack", "shared",
                                "--non-interactive"], cwd=stack.workspace.work_dir, env=pulumi_env,
                               capture_output=True, text=True, timeout=300, check=True)
            stack.destroy()
            stack.workspace.remove_stack(stack.name)
        except Exception as error:  # clean up the others anyway; reported below
            errors.append(f"{stack.name}: {error}")
    assert not errors, errors


def test_shared_stack_dev_then_promotion_to_staging(pulumi_env: dict[str, str], emulator: Emulator,
                                                    tmp_path: Path, stacks: list[Any]) -> None:
    root = tmp_path / "promotion"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    (root / ".venv").symlink_to(Path(sys.prefix))  # both Pulumi.yaml name `virtualenv: ../.venv`
    for name in ("dev", "staging", "prod"):  # the committed stack files point at the shared stack, no secret
        committed = yaml.safe_load((root / "app" / f"Pulumi.{name}.yaml").read_text())
        assert committed["config"]["mailinfra-app:sharedStack"] == SHARED_REF
        assert not any("relayPassword" in key for key in committed["config"])

    shared = select_stack(root / "shared", "shared", pulumi_env)
    stacks.append(shared)
    configure(shared, emulator)
    shared_out = {key: value.value for key, value in shared.up().outputs.items()}

    dev = select_stack(root / "app", "dev", pulumi_env)
    stacks.append(dev)
    configure(dev, emulator)
    dev.set_config("mailinfra-app:relayPassword", auto.ConfigValue(PASSWORDS["dev"], secret=True))
    up = dev.up()
    assert up.summary.resource_changes == {"create": 7}  # the stack and six resources (the reference is read)
    dev_out = outputs(dev)
    assert_uses_shared(emulator, "dev", dev_out, shared_out)
    relay = emulator.client().get(emulator.client().path(f"/relay_servers/{dev_out['relay']['id']}"))
    assert relay["relay_server"]["source_ip"]["ip"] == "192.0.2.10"  # Pulumi.dev.yaml's relaySourceIp

    # The environment's rule in the shared template is not the shared stack's drift (no inline `rules`).
    code, report, text = mailinfra(root / "shared", pulumi_env, "drift", "--stack", "shared")
    assert (code, [s["status"] for s in report["stacks"]]) == (0, ["clean"]), text

    staging = select_stack(root / "app", "staging", pulumi_env)
    stacks.append(staging)
    configure(staging, emulator)
    staging.set_config("mailinfra-app:relayPassword", auto.ConfigValue(PASSWORDS["staging"], secret=True))
    code, report, text = mailinfra(root / "app", pulumi_env, "promote", "--from", "dev", "--to", "staging",
                                   "--yes")
    assert (code, report["status"]) == (0, "promoted"), text
    changes = {change["key"]: change for change in report["config_changes"]}
    assert changes["mailinfra-app:relaySourceIp"]["target"] == "192.0.2.20"
    assert changes["mailinfra-app:dailyVolume"]["target"] == "20000"
    assert changes["mailinfra-app:relayPassword"] == {"key": "mailinfra-app:relayPassword", "change": "changed",
                                                      "source": None, "target": None, "secret": True}
    assert "mailinfra-app:sharedStack" not in changes  # both environments use the same shared stack
    assert report["target_changes"] == {"create": 7}
    assert not any(password in text for password in PASSWORDS.values())

    staging_out = outputs(staging)
    assert_uses_shared(emulator, "staging", staging_out, shared_out)
    assert staging_out["throttle_rule_id"] != dev_out["throttle_rule_id"]
    assert staging_out["main_route"]["recommended_max_daily_volume"] == 25000  # 20 000 asked: one IP
    assert staging.workspace.list_tags("staging")["mailinfra:promoted-from"].startswith("dev@")

    preview = staging.preview(expect_no_changes=True)
    assert set(preview.change_summary) == {"same"}, preview.change_summary

    # Protected: destroying the shared stack under the environments is refused, nothing deleted.
    with pytest.raises(auto.CommandError, match="protected"):
        shared.destroy()
    template = shared_out["template_id"]
    assert emulator.client().get(emulator.client().path(f"/throttling_templates/{template}"))
