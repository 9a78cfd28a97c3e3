"""`mailinfra export` under the real CLI: the quickstart deployed, exported into a fresh project and `up` as a new
stack against the same server takes every object over (none created or deleted, same ids, the DKIM key kept) and
the next preview is empty; the generated file passes ruff, holds no secret and refers to exported objects through
their outputs. Also: an empty server, names that need quoting, one service at a time."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from mailinfra_cli import hand_filled
from mailinfra_cli.devtools import REPO_ROOT
from mailinfra_cli.export import requirement
from mailinfra_cli.hand_filled import SECRETS
from pulumi_mailinfra.cleanmail.client import CleanmailClient
from pulumi_mailinfra.errors import NotFoundError
from pulumi_mailinfra.greenarrow.client import GreenArrowClient
from pulumi_mailinfra.greenarrow.providers import RelayServerProvider, RouteProvider, ThrottlingTemplateProvider
from tests.conftest import CM_TOKEN, GA_PASSWORD, GA_USER, Emulator

pytestmark = pytest.mark.e2e
RELAY_PASSWORD = "Export-relay-pw-3318"


def credentials(emulator: Emulator) -> dict[str, str]:
    return {"GREENARROW_URL": emulator.url, "GREENARROW_USERNAME": GA_USER, "GREENARROW_PASSWORD": GA_PASSWORD,
            "CLEANMAIL_URL": emulator.cleanmail_url, "CLEANMAIL_TOKEN": CM_TOKEN, "ELEMTA_URL": emulator.elemta_url}


def export(emulator: Emulator, env: dict[str, str], out: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "mailinfra_cli", "export", "--out", str(out), *args],
                            env=env | credentials(emulator), capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    lint = subprocess.run([str(Path(sys.executable).parent / "ruff"), "check", "--no-cache", str(out)],
                          capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout
    # The project runs as written: Pulumi.yaml names the virtualenv requirements.txt fills (`pulumi install`);
    # here the test's own environment stands in for it.
    assert "virtualenv: venv" in (out / "Pulumi.yaml").read_text()
    assert (out / "requirements.txt").read_text() == f"{requirement()}\n"  # this installation's own origin
    assert requirement().startswith("pulumi-mailinfra @ file://") or requirement().startswith("pulumi-mailinfra>=")
    assert "pulumi install" in (out / "README.md").read_text()
    if not (out / "venv").exists():
        (out / "venv").symlink_to(Path(sys.prefix))
    return result.stdout


def snapshot(emulator: Emulator) -> dict[str, Any]:
    """Every object the two services hold, by id (and the DKIM records, whose key must not change)."""
    ga: GreenArrowClient = emulator.client()
    cm: CleanmailClient = emulator.cleanmail()
    found: dict[str, Any] = {}
    for provider in (RelayServerProvider, ThrottlingTemplateProvider, RouteProvider):
        found[provider.spec.type_name] = sorted(str(o["id"]) for o in ga.list_all(provider.spec.collection,
                                                                                   provider.spec.items_key))
    found["rules"] = sorted(str(r["id"]) for t in found["ThrottlingTemplate"]
                            for r in ga.get(f"/ga/api/v3/eng/throttling_templates/{t}")["throttling_template"]["rules"])
    domains = [d["id"] for d in cm.get("/domains")]
    found["domains"], found["users"] = domains, sorted(u["id"] for u in cm.get("/users"))
    for domain in domains:
        found[f"{domain}/policies"] = sorted(p["id"] for p in cm.get(f"/domains/{domain}/policies"))
        found[f"{domain}/groups"] = cm.get(f"/domains/{domain}/groups")
        found[f"{domain}/aliases"] = cm.get(f"/domains/{domain}/aliases")
        try:
            found[f"{domain}/dkim"] = cm.get(f"/domains/{domain}/dkim")
        except NotFoundError:
            found[f"{domain}/dkim"] = None
    return found


def adopt(project: Path, env: dict[str, str], emulator: Emulator, secrets: dict[str, str]) -> auto.Stack:
    command = auto.PulumiCommand(root=str(Path(shutil.which("pulumi", path=env["PATH"]) or "").parent.parent),
                                 skip_version_check=True)
    workspace = auto.LocalWorkspace(work_dir=str(project), env_vars=env, pulumi_command=command)
    stack = auto.Stack.create_or_select("adopted", workspace)
    for key, value in {"greenarrowUrl": emulator.url, "greenarrowUsername": GA_USER,
                       "cleanmailUrl": emulator.cleanmail_url}.items():
        stack.set_config(f"mailinfra:{key}", auto.ConfigValue(value))
    stack.set_config("mailinfra:greenarrowPassword", auto.ConfigValue(GA_PASSWORD, secret=True))
    stack.set_config("mailinfra:cleanmailToken", auto.ConfigValue(CM_TOKEN, secret=True))
    for key, value in secrets.items():
        stack.set_config(key, auto.ConfigValue(value, secret=True))
    return stack


def test_quickstart_round_trip(pulumi_env: dict[str, str], emulator: Emulator, tmp_path: Path) -> None:
    source_dir = tmp_path / "source"
    source_dir.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(REPO_ROOT / name, source_dir / name)
    shutil.copytree(REPO_ROOT / "examples" / "quickstart", source_dir / "examples" / "quickstart")
    (source_dir / ".venv").symlink_to(REPO_ROOT / ".venv")
    env = pulumi_env | credentials(emulator)
    command = auto.PulumiCommand(root=str(Path(shutil.which("pulumi", path=env["PATH"]) or "").parent.parent),
                                 skip_version_check=True)
    source = auto.Stack.create_or_select("source", auto.LocalWorkspace(work_dir=str(source_dir), env_vars=env,
                                                                       pulumi_command=command))
    source.set_config("mailinfra-quickstart:environment", auto.ConfigValue("rt"))
    source.set_config("mailinfra-quickstart:relayPassword", auto.ConfigValue(RELAY_PASSWORD, secret=True))
    source.set_config("mailinfra-quickstart:userPassword", auto.ConfigValue("rt-user-pw", secret=True))
    adopted = None
    try:
        source.up()
        before = snapshot(emulator)
        out = tmp_path / "exported"
        printed = export(emulator, pulumi_env, out, "--url", emulator.url)
        program = (out / "__main__.py").read_text()
        assert RELAY_PASSWORD not in program
        keys = re.findall(r"pulumi config set --secret (\S+)", printed)
        assert len(keys) == 1 and f'config.require_secret("{keys[0]}")' in program  # the primary relay's password
        assert re.search(r'redirect=\{"id": relay_fallback_relay_\w+\.id\}', program)  # a reference, not an id
        assert re.search(r'overflow_route=\{"id": route_overflow_route_\w+\.id\}', program)
        assert re.search(r"policy_id=policy_rt_quickstart_example_executives_policy_\w+\.id", program)

        adopted = adopt(out, env, emulator, {f"exported:{keys[0]}": RELAY_PASSWORD})
        up = adopted.up()
        assert set(up.summary.resource_changes or {}) == {"create"}  # new to this stack: taken over, not made
        assert snapshot(emulator) == before  # no object created or deleted, the DKIM key kept
        adopted.preview(expect_no_changes=True)
    finally:
        if adopted is not None:
            adopted.workspace.remove_stack("adopted", force=True)  # forget, never delete, the shared objects
        source.destroy()
        source.workspace.remove_stack("source")


def test_empty_server_quoting_and_one_service(pulumi_env: dict[str, str], emulator: Emulator,
                                              tmp_path: Path) -> None:
    env = pulumi_env | credentials(emulator)
    empty = tmp_path / "empty"
    export(emulator, pulumi_env, empty, "--url", emulator.url)
    assert "greenarrow." not in (empty / "__main__.py").read_text()
    stack = adopt(empty, env, emulator, {})
    try:
        assert stack.up().summary.resource_changes == {"create": 1}  # the stack alone
    finally:
        stack.workspace.remove_stack("adopted", force=True)

    quoted = 'Team "A" \\ B\'s limits'
    ga = emulator.client()
    ga.create("/throttling_templates", {"throttling_template": {
        "name": quoted, "default": {"max_concurrent_connections": 3, "max_messages_per_hour": 0},
        "rules": [{"domains": ["example.org"], "max_concurrent_connections": 1, "max_messages_per_hour": 60}]}})
    cm = emulator.cleanmail()
    domain = cm.create("/domains", {"name": "quoting.example", "status": "ENABLED", "quarantine": True,
                                    "retention": True, "archive": False, "defaultLanguage": "EN"})
    cm.create("/users", {"domainId": domain["id"], "email": "obrien@quoting.example", "firstname": 'O\'Brien "Ace"',
                         "status": "ENABLED"})
    before = snapshot(emulator)

    greenarrow_only = tmp_path / "greenarrow-only"
    export(emulator, pulumi_env, greenarrow_only, "--service", "greenarrow", "--url", emulator.url)
    program = (greenarrow_only / "__main__.py").read_text()
    assert "cleanmail." not in program and 'name="Team \\"A\\" \\\\ B\'s limits"' in program
    cleanmail_only = tmp_path / "cleanmail-only"
    export(emulator, pulumi_env, cleanmail_only, "--service", "cleanmail", "--url", emulator.cleanmail_url)
    assert "greenarrow." not in (cleanmail_only / "__main__.py").read_text()
    for one_service in (greenarrow_only, cleanmail_only):  # each service's round trip on its own
        stack = adopt(one_service, env, emulator, {})
        try:
            stack.up()
            assert snapshot(emulator) == before
            stack.preview(expect_no_changes=True)
        finally:
            stack.workspace.remove_stack("adopted", force=True)

    everything = tmp_path / "everything"
    export(emulator, pulumi_env, everything, "--url", emulator.url)
    assert 'firstname="O\'Brien \\"Ace\\""' in (everything / "__main__.py").read_text()
    stack = adopt(everything, env, emulator, {})
    try:
        stack.up()
        assert snapshot(emulator) == before
        stack.preview(expect_no_changes=True)
        cm_user = next(u for u in cm.get("/users") if u["email"] == "obrien@quoting.example")
        assert cm_user["firstname"] == 'O\'Brien "Ace"'
    finally:
        stack.workspace.remove_stack("adopted", force=True)


def server_records(emulator: Emulator) -> dict[str, Any]:
    """Everything both emulated services store, secrets included (the backends' own records)."""
    return copy.deepcopy({"greenarrow": emulator.server.greenarrow._objects,
                          "cleanmail": emulator.server.cleanmail._objects})


def changed_paths(before: Any, after: Any, path: str = "") -> list[str]:
    """Where two records differ, as `kind/id.key` paths (a readable failure instead of two whole stores)."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [found for key in sorted(set(before) | set(after), key=str)
                for found in changed_paths(before.get(key), after.get(key), f"{path}/{key}")]
    return [] if before == after else [f"{path}: {before!r} -> {after!r}"[:300]]


def test_hand_filled_server_round_trip(pulumi_env: dict[str, str], emulator: Emulator, tmp_path: Path) -> None:
    """Issue 24: export a server filled by hand, set the printed config, `up` as a new stack: nothing created or
    deleted, every record and every secret on the server unchanged, the next preview empty."""
    hand_filled.fill(emulator.client(), emulator.cleanmail())
    before = server_records(emulator)
    out = tmp_path / "exported"
    printed = export(emulator, pulumi_env, out, "--url", emulator.url)
    program = (out / "__main__.py").read_text()
    for secret in SECRETS.values():
        assert secret not in program and secret not in printed
    for expected in ("cleanmail.Admin(", "cleanmail.DomainAdmin(", "cleanmail.DomainUsersAccess(",
                     "cleanmail.UserOption(", "cleanmail.UserSignature(", "greenarrow.ThrottlingRule(",
                     "cleanmail.DomainSenderRules(", "cleanmail.MailboxSenderRules(", "cleanmail.DomainDkim(",
                     "cleanmail.EmailAlias(", "cleanmail.AttachmentFilter(", "cleanmail.UriBlFilter(",
                     "cleanmail.DomainOption(", "cleanmail.DomainAliases(", "cleanmail.DomainPolicy(",
                     "cleanmail.DomainDefaultPolicy(", "greenarrow.Route(", "greenarrow.RelayServer("):
        assert expected in program, expected
    assert "name=\"gone0.example\"" not in program and "not exported: domain 'gone0.example': soft-deleted" in printed
    assert "not exported: API token 'ci token' of administrator 'ops-admin-0'" in printed
    assert re.search(r'name="pending0\.example",\s+status="PENDING"', program)  # kept though refused on create
    assert "rules added to a template later, by another stack or by hand, are left alone" in printed
    keys = dict(re.findall(r"set the (.+?): pulumi config set --secret (\S+) \.\.\.", printed))
    assert len(keys) == 6, printed
    which = {"destination password": "relay", "LDAP bind password": "ldap", "OpenID client secret": "oidc",
             "(IMAP)": "imap", "(O365)": "o365", "(EXCHANGE)": "exchange"}
    config = {f"exported:{key}": SECRETS[next(v for k, v in which.items() if k in purpose)]
              for purpose, key in keys.items()}
    assert sorted(config.values()) == sorted(SECRETS.values())

    env = pulumi_env | credentials(emulator)
    stack = adopt(out, env, emulator, config)
    try:
        up = stack.up()
        assert set(up.summary.resource_changes or {}) == {"create"}  # new to this stack: taken over, not made
        assert changed_paths(before, server_records(emulator)) == []  # nothing made, deleted or changed; secrets kept
        stack.preview(expect_no_changes=True)
    finally:
        stack.workspace.remove_stack("adopted", force=True)  # forget, never delete, the shared objects
