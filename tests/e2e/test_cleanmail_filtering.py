"""Cleanmail filtering under the real Pulumi CLI: a domain with attachment and URI-BL filters, sender rules at
domain and mailbox level and a bulk list across owners — order on up and destroy, no-op preview with 0
requests, in-place update, out-of-band change and delete; bad inputs and a list mixed with single rules on one
owner refused at preview with 0 requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from pulumi_mailinfra import cleanmail
from tests.conftest import Emulator, StackFactory
from tests.e2e.test_root_project import finished

pytestmark = pytest.mark.e2e


def filtering(*, action: str = "DENY", spam_type: str = "BLOCK", extra: dict[str, Any] | None = None,
              mix: bool = False) -> Callable[[], None]:
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
        if mix:
            cleanmail.DomainSenderRule("one-more", domain_id=org.id, value="x.example", type="BLOCK")
        pulumi.export("org_id", org.id)
        pulumi.export("jane_id", jane.id)
        pulumi.export("attachment_filter_id", attachments.id)

    return program


def test_filters_and_sender_rules_lifecycle(make_stack: StackFactory, emulator: Emulator) -> None:
    stack = make_stack(filtering())
    events: list[Any] = []
    up = stack.up(on_event=events.append)
    assert up.summary.resource_changes == {"create": 8}
    created = finished(events, auto.OpType.CREATE)
    for part in ("no-exe", "bad-links", "org-senders", "jane"):
        assert created.index(part) > created.index("org")
    assert created.index("security-team") > created.index("jane")
    org, jane = up.outputs["org_id"].value, up.outputs["jane_id"].value
    api = emulator.cleanmail()
    assert sorted((r["value"], r["type"]) for r in api.get(f"/domains/{org}/wblist")) == [
        ("partner.example", "ALLOW"), ("spam.example", "BLOCK")]
    assert sorted(r["value"] for r in api.get(f"/users/{jane}/wblist")) == ["news@letters.example", "phish.example"]

    emulator.reset_stats()
    stack.preview(expect_no_changes=True)
    assert emulator.requests() == 0

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
    assert deleted.index("org") > max(deleted.index(p) for p in ("no-exe", "bad-links", "org-senders", "jane"))
    assert api.get(f"/domains/{org}/wblist") == [] and api.get(f"/domains/{org}/filters/uris") == []


@pytest.mark.parametrize(("program", "expected"), [
    (filtering(spam_type="QUARANTINE"), "rules[1].type: Input should be 'ALLOW', 'BLOCK' or 'PROTECTED'"),
    (filtering(extra={"expire_at": "2001-01-01T00:00:00Z"}), "rules[1].expire_at: must be in the future"),
    (filtering(extra={"expire_at": "next week"}), "rules[1].expire_at: must be an RFC 3339 date-time"),
    (filtering(action="QUARANTINE"), "action: Input should be 'ALLOW' or 'DENY'"),
    (filtering(mix=True), "already has its sender rules managed by a DomainSenderRule"),
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
