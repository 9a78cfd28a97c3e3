"""Cleanmail access under the real Pulumi CLI: end users' permissions and an administrator's token whose value
never shows in plaintext (state export, up and preview text), works on the API, and is revoked by destroy; an
existing administrator's settings managed (update, drift, destroy deletes the account) and a user's welcome mail
sent once."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

import httpx
import pulumi
import pytest

from pulumi_mailinfra import cleanmail
from pulumi_mailinfra.cleanmail.client import CleanmailClient
from pulumi_mailinfra.config import ServiceSettings
from pulumi_mailinfra.errors import AuthenticationError
from tests.conftest import Emulator, StackFactory

pytestmark = pytest.mark.e2e


def test_users_access_and_a_secret_admin_token(make_stack: StackFactory, emulator: Emulator,
                                               pulumi_env: dict[str, str]) -> None:
    api = emulator.cleanmail()
    domain_id = api.create("/domains", {"name": "access.example", "status": "ENABLED", "quarantine": True,
                                        "retention": True, "archive": False, "defaultLanguage": "EN"})["id"]
    admin = api.request("POST", f"/domains/{domain_id}/admins", json={
        "login": "ops", "displayName": "Ops", "email": "ops@access.example", "password": "pw-987654",
        "enabled": True, "language": "EN", "permissions": ["DOMAIN_READ"]})

    def program() -> None:
        cleanmail.DomainUsersAccess("users", domain_id=domain_id, permissions=["WBLIST_WRITE", "QUARANTINE_RELEASE"])
        token = cleanmail.AdminToken("ci-token", admin_id=admin["id"], name="ci", expiration="2031-01-01T00:00:00Z")
        pulumi.export("token", token.value)
        pulumi.export("token_id", token.id)

    stack = make_stack(program)
    preview = stack.preview()
    up = stack.up()
    value = up.outputs["token"].value
    assert up.outputs["token"].secret and len(value) == 32
    as_token = CleanmailClient(ServiceSettings(url=emulator.cleanmail_url, token=value))
    assert [d["name"] for d in as_token.get("/domains")] == ["access.example"]
    assert {p["name"] for p in api.get(f"/domains/{domain_id}/access") if p["enabled"]} == {
        "WBLIST_WRITE", "QUARANTINE_RELEASE"}

    emulator.reset_stats()
    again = stack.preview(expect_no_changes=True)
    assert emulator.requests() == 0
    exported = subprocess.run(["pulumi", "stack", "export", "--stack", stack.name], cwd=stack.workspace.work_dir,
                              env=pulumi_env, capture_output=True, text=True, check=True).stdout
    for text in (preview.stdout, up.stdout, again.stdout, exported):
        assert value not in text
    assert "ciphertext" in exported

    refreshed = stack.refresh()
    assert refreshed.summary.resource_changes.get("update") is None
    stack.destroy()
    with pytest.raises(AuthenticationError):
        as_token.get("/domains")  # revoked
    assert not any(p["enabled"] for p in api.get(f"/domains/{domain_id}/access"))


def test_admin_settings_and_a_welcome_mail_sent_once(make_stack: StackFactory, emulator: Emulator) -> None:
    api = emulator.cleanmail()
    domain_id = api.create("/domains", {"name": "welcome.example", "status": "ENABLED", "quarantine": True,
                                        "retention": True, "archive": False, "defaultLanguage": "EN"})["id"]
    made = api.request("POST", f"/domains/{domain_id}/admins", json={
        "login": "helpdesk", "displayName": "Helpdesk", "email": "helpdesk@welcome.example",
        "password": "pw-987654", "enabled": True, "language": "EN", "permissions": ["USERS_READ"]})

    def program(language: str = "FR") -> Callable[[], None]:
        def run() -> None:
            cleanmail.Admin("helpdesk", admin_id=made["id"], language=language, display_name="Help desk")
            cleanmail.User("newcomer", domain_id=domain_id, email="newcomer@welcome.example", send_welcome_mail=True)
        return run

    def tasks() -> list[dict[str, Any]]:
        return httpx.get(f"{emulator.url}/_emulator/cleanmail/tasks").json()

    stack = make_stack(program())
    assert stack.up().summary.resource_changes == {"create": 3}  # with the stack itself
    account = api.get(f"/security/admins/{made['id']}")
    assert (account["language"], account["displayName"]) == ("FR", "Help desk")
    assert [t["params"]["recipient"] for t in tasks()] == ["newcomer@welcome.example"]
    emulator.reset_stats()
    stack.preview(expect_no_changes=True)
    assert emulator.requests() == 0
    stack.workspace.program = program("DE")
    assert stack.up().summary.resource_changes.get("update") == 1
    assert api.get(f"/security/admins/{made['id']}")["language"] == "DE" and len(tasks()) == 1
    api.request("PATCH", f"/security/admins/{made['id']}", json={"displayName": "Renamed"})  # out of band
    assert stack.refresh().summary.resource_changes.get("update") == 1
    stack.up()
    assert api.get(f"/security/admins/{made['id']}")["displayName"] == "Help desk" and len(tasks()) == 1
    stack.destroy()  # the account was made by hand: it stays (its settings as last set)
    assert [a["login"] for a in api.get("/security/admins")] == ["helpdesk"]
    assert api.get(f"/domains/{domain_id}/users") == []
