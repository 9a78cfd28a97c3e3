"""Cleanmail filtering under the real Pulumi CLI: a domain with attachment and URI-BL filters, sender rules at
domain and mailbox level, a bulk list across owners and a domain administrator with a token — order on up and
destroy, no-op preview with 0 requests, in-place update, out-of-band change and delete, the token's value and
the admin's password never in the state export or the command output; bad inputs and a list mixed with single
rules on one owner refused at preview with 0 requests."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from pulumi_mailinfra import cleanmail
from tests.conftest import Emulator, StackFactory
from tests.e2e.test_root_project import finished

pytestmark = pytest.mark.e2e


ADMIN_PASSWORD = "Sec-team-pw-4711"


def filtering(*, action: str = "DENY", spam_type: str = "BLOCK", extra: dict[str, Any] | None = None,
              mix: bool = False, admin: dict[str, Any] | None = None) -> Callable[[], None]:
    def program() -> None:
        org = cleanmail.Domain("org", name="filtering.example", default_language="EN", quarantine=True,
                               retention=True, archive=False)
        jane = cleanmail.User("jane", domain_id=org.id, email="jane@filtering.example")
        attachments = cleanmail.AttachmentFilter("no-exe", domain_id=org.id, action=action, check_type="FILENAME",
                                                 filter="[.]exe$")
        cleanmail.UriBlFilter("bad-links", domain_id=org.id, action="BLACKLIST_URI_HOST", filter="bulist.com")
        cleanmail.DomainSenderRules("org-senders", domain_id=org.id, rules=[
            {"value": "partner.example", "type": "ALLOW", "spf_on": True},
            {"value": "spam.example", "type": spam_type, **(extra or {})}])
        cleanmail.MailboxSenderRule("jane-news", user_id=jane.id, value="news@letters.example", type="ALLOW",
                                    spf_on=False)
        cleanmail.SenderRules("security-team", rules=[
            {"owner": "jane@filtering.example", "value": "phish.example", "type": "BLOCK"}],
            opts=pulumi.ResourceOptions(depends_on=[jane]))
        security = cleanmail.DomainAdmin("security-admin", domain_id=org.id, **(admin or {
            "login": "security", "display_name": "Security team", "email": "security@filtering.example",
            "password": ADMIN_PASSWORD, "permissions": ["FILTERS_WRITE", "WBLIST_WRITE"]}))
        token = cleanmail.AdminToken("security-ci", admin_id=security.id, name="ci", expiration="2031-01-01T00:00:00Z")
        pulumi.export("token", token.value)
        pulumi.export("admin_id", security.id)
        if mix:
            cleanmail.DomainSenderRule("one-more", domain_id=org.id, value="x.example", type="BLOCK")
        pulumi.export("org_id", org.id)
        pulumi.export("jane_id", jane.id)
        pulumi.export("attachment_filter_id", attachments.id)

    return program


def test_filters_and_sender_rules_lifecycle(make_stack: StackFactory, emulator: Emulator,
                                            pulumi_env: dict[str, str]) -> None:
    stack = make_stack(filtering())
    events: list[Any] = []
    preview = stack.preview()
    up = stack.up(on_event=events.append)
    assert up.summary.resource_changes == {"create": 10}
    created = finished(events, auto.OpType.CREATE)
    for part in ("no-exe", "bad-links", "org-senders", "jane", "security-admin"):
        assert created.index(part) > created.index("org")
    assert created.index("security-team") > created.index("jane")
    assert created.index("security-ci") > created.index("security-admin")
    token = up.outputs["token"]
    assert token.secret and len(token.value) == 32
    admin = emulator.cleanmail().get(f"/security/admins/{up.outputs['admin_id'].value}")
    assert admin["login"] == "security" and admin["authorities"][0]["permissions"] == ["FILTERS_WRITE", "WBLIST_WRITE"]
    org, jane = up.outputs["org_id"].value, up.outputs["jane_id"].value
    api = emulator.cleanmail()
    assert sorted((r["value"], r["type"]) for r in api.get(f"/domains/{org}/wblist")) == [
        ("partner.example", "ALLOW"), ("spam.example", "BLOCK")]
    assert sorted(r["value"] for r in api.get(f"/users/{jane}/wblist")) == ["news@letters.example", "phish.example"]

    emulator.reset_stats()
    again = stack.preview(expect_no_changes=True)
    assert emulator.requests() == 0
    # The CLI's own export (the Automation API's export_stack adds --show-secrets).
    exported = subprocess.run(["pulumi", "stack", "export", "--stack", stack.name], cwd=stack.workspace.work_dir,
                              env=pulumi_env, capture_output=True, text=True, check=True).stdout
    assert "ciphertext" in exported
    for text in (preview.stdout, up.stdout, again.stdout, exported):
        assert token.value not in text and ADMIN_PASSWORD not in text

    stack.workspace.program = filtering(action="ALLOW", spam_type="PROTECTED")
    changed = stack.up().summary.resource_changes
    assert changed.get("update") == 2, changed
    assert api.get(f"/domains/{org}/filters/attachments")[0]["action"] == "ALLOW"

    # Out of band: a filter edited and a mailbox rule deleted; refresh sees both, up puts them back.
    filter_id = up.outputs["attachment_filter_id"].value
    api.request("PATCH", f"/filters/attachments/{filter_id}", json={"filter": "[.]com$"})
    news = next(r for r in api.get(f"/users/{jane}/wblist") if r["value"] == "news@letters.example")
    api.request("DELETE", f"/users/{jane}/wblist/{news['id']}")
    refreshed = stack.refresh().summary.resource_changes
    assert refreshed.get("update") == 1 and refreshed.get("delete") == 1, refreshed
    stack.up()
    assert api.get(f"/domains/{org}/filters/attachments")[0]["filter"] == "[.]exe$"
    assert "news@letters.example" in {r["value"] for r in api.get(f"/users/{jane}/wblist")}
    stack.preview(expect_no_changes=True)

    events.clear()
    stack.destroy(on_event=events.append)
    deleted = finished(events, auto.OpType.DELETE)
    assert deleted.index("org") > max(deleted.index(p) for p in ("no-exe", "bad-links", "org-senders", "jane",
                                                                 "security-admin"))
    assert deleted.index("security-admin") > deleted.index("security-ci")
    assert api.get(f"/domains/{org}/wblist") == [] and api.get(f"/domains/{org}/filters/uris") == []
    assert api.get("/security/admins") == []  # its only access revoked: the account went, its token with it


@pytest.mark.parametrize(("program", "expected"), [
    (filtering(spam_type="QUARANTINE"), "rules[1].type: Input should be 'ALLOW', 'BLOCK' or 'PROTECTED'"),
    (filtering(extra={"expire_at": "2001-01-01T00:00:00Z"}), "rules[1].expire_at: must be in the future"),
    (filtering(extra={"expire_at": "next week"}), "rules[1].expire_at: must be an RFC 3339 date-time"),
    (filtering(action="QUARANTINE"), "action: Input should be 'ALLOW' or 'DENY'"),
    (filtering(mix=True), "already has its sender rules managed by a DomainSenderRule"),
    (filtering(admin={"login": "x", "admin_id": "Eygdk", "permissions": []}), "give admin_id (an existing account)"),
    (filtering(admin={"login": "x", "display_name": "X", "email": "x@filtering.example", "password": "p",
                      "permissions": ["read filters"]}), "permissions[0]: String should match pattern"),
])
def test_bad_filtering_inputs_fail_at_preview_with_no_request(
    make_stack: StackFactory, emulator: Emulator, program: Callable[[], None], expected: str
) -> None:
    stack = make_stack(program)
    emulator.reset_stats()
    with pytest.raises(auto.CommandError) as failed:
        stack.preview()
    assert expected in str(failed.value)
    assert emulator.requests() == 0


def test_bulk_rule_owner_must_be_an_address_or_a_domain(make_stack: StackFactory, emulator: Emulator) -> None:
    def program() -> None:
        cleanmail.SenderRules("bad-owner", rules=[{"owner": "not an owner", "value": "x.example", "type": "BLOCK"}])

    stack = make_stack(program)
    emulator.reset_stats()
    with pytest.raises(auto.CommandError, match=r"rules\[0\]\.owner: 'not an owner' is neither a mailbox"):
        stack.preview()
    assert emulator.requests() == 0


def renamed(name: str) -> Callable[[], None]:
    def program() -> None:
        org = cleanmail.Domain("org", name=name, default_language="EN", quarantine=True, retention=False,
                               archive=False)
        # The owner follows the domain's name: one edit renames both.
        rules = cleanmail.SenderRules("bulk", rules=[
            {"owner": org.name, "value": "spam.example", "type": "BLOCK"},
            {"owner": org.name, "value": "partner.example", "type": "ALLOW", "spf_on": True}])
        pulumi.export("domain_id", org.id)
        pulumi.export("rule_ids", rules.rule_ids)

    return program


def test_bulk_rules_follow_their_owner_through_a_rename(make_stack: StackFactory, emulator: Emulator) -> None:
    """Issue 22, item 7: the rename updates the domain first, so a rule's old owner name no longer finds it."""
    stack = make_stack(renamed("before.example"))
    first = stack.up().outputs
    domain_id = first["domain_id"].value
    stack.workspace.program = renamed("after.example")
    up = stack.up()
    assert up.summary.resource_changes == {"update": 2, "same": 1}
    api = emulator.cleanmail()
    assert sorted(r["value"] for r in api.get(f"/domains/{domain_id}/wblist")) == ["partner.example", "spam.example"]
    # Same rules, same ids: renaming the owner moved nothing on the server.
    assert sorted(up.outputs["rule_ids"].value.values()) == sorted(first["rule_ids"].value.values())
    assert set(up.outputs["rule_ids"].value) == {"after.example/spam.example", "after.example/partner.example"}
    refresh = stack.refresh()
    assert refresh.summary.resource_changes == {"same": 3}
    stack.preview(expect_no_changes=True)
    stack.destroy()
    assert api.get(f"/domains/{domain_id}/wblist") == []  # the soft-deleted domain is still readable
