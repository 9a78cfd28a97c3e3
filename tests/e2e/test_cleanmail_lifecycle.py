"""Cleanmail resources under the real Pulumi CLI against the emulator: a domain with an LDAP platform, a policy
and DKIM; no-op preview with 0 requests; in-place update; soft delete out of band; destroy; secrets."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pytest
from pulumi import automation as auto

from pulumi_mailinfra import cleanmail
from tests.conftest import CM_TOKEN, Emulator, StackFactory
from tests.e2e.test_lifecycle import state_file_text

pytestmark = pytest.mark.e2e
BIND_PASSWORD = "ldap-bind-pw-7QxW2"  # must never appear in state or output


def mail_domain(*, language: str = "DE", spam_score: float = 3.5, selector: str = "protect") -> Callable[[], None]:
    def program() -> None:
        domain = cleanmail.Domain(
            "got", name="got.com", default_language=language, quarantine=True, retention=True, archive=False,
            outgoing_subnets=["192.0.2.0/28"],
            platforms=[{"name": "relay", "transport_dest": "smtp.got.com", "transport_type": "SMTP",
                        "transport_port": 25, "auth_type": "ldap",
                        "auth_data": {"host": "ldap.got.com", "port": 636, "bind_user": "cn=reader",
                                      "bind_password": BIND_PASSWORD, "use_ssl": True}, "default": True}])
        policy = cleanmail.DomainPolicy("executives", domain_id=domain.id, quarantine=True, retention=False,
                                        incoming=True, spam_score=spam_score,
                                        quarantine_props={"duration": 60, "store_virus": True})
        dkim = cleanmail.DomainDkim("dkim", domain_id=domain.id, selector=selector)
        pulumi.export("domain_id", domain.id)
        pulumi.export("default_policy_id", domain.default_policy_id)
        pulumi.export("policy_id", policy.id)
        pulumi.export("dkim", {"name": dkim.dns_record_name, "value": dkim.txt_value})

    return program


def test_cleanmail_domain_policy_dkim_lifecycle(make_stack: StackFactory, emulator: Emulator,
                                                pulumi_env: dict[str, str]) -> None:
    stack = make_stack(mail_domain(), project="cleanmail-e2e")
    preview = stack.preview(diff=True)
    up = stack.up()
    assert up.summary.resource_changes == {"create": 4}
    outs = {k: v.value for k, v in up.outputs.items()}
    api = emulator.cleanmail()
    domain = api.get(f"/domains/{outs['domain_id']}")
    assert domain["policy"]["id"] == outs["default_policy_id"] and domain["policiesCount"] == 2
    assert outs["dkim"]["name"] == "protect._domainkey.got.com" and outs["dkim"]["value"].startswith("v=DKIM1; p=")
    assert api.get(f"/policies/{outs['policy_id']}")["spamScore"] == 3.5

    emulator.reset_stats()
    stack.preview(expect_no_changes=True)
    assert emulator.requests() == 0

    stack.workspace.program = mail_domain(language="FR", spam_score=4.0, selector="s2026")
    update = stack.up()
    assert update.summary.resource_changes == {"update": 3, "same": 1}
    assert api.get(f"/domains/{outs['domain_id']}")["defaultLanguage"] == "FR"
    assert update.outputs["dkim"].value["name"] == "s2026._domainkey.got.com"

    for text in (preview.stdout, up.stdout, update.stdout, state_file_text(pulumi_env, "cleanmail-e2e")):
        assert BIND_PASSWORD not in text and CM_TOKEN not in text

    # Soft-deleted out of band: refresh drops it, the next up restores the same domain (its name is reserved).
    api.request("DELETE", f"/domains/{outs['domain_id']}")
    refresh = stack.refresh()
    assert refresh.summary.resource_changes.get("delete") == 1
    again = stack.up()
    assert again.outputs["domain_id"].value == outs["domain_id"]
    assert api.get(f"/domains/{outs['domain_id']}")["status"] == "ENABLED"
    stack.preview(expect_no_changes=True)

    stack.destroy()
    assert api.get(f"/domains/{outs['domain_id']}")["status"] == "DELETED"  # the API's soft delete
    with pytest.raises(Exception, match="404"):
        api.get(f"/policies/{outs['policy_id']}")


def test_bad_cleanmail_inputs_fail_at_preview_with_no_request(make_stack: StackFactory, emulator: Emulator) -> None:
    def bad_domain() -> None:
        cleanmail.Domain("bad", name="not a domain", default_language="IT", quarantine=True, retention=False,
                         archive=False, outgoing_subnets=["10.0.0.0"],
                         platforms=[{"name": "p", "transport_dest": "h", "transport_type": "SMTP",
                                     "transport_port": 0}])

    def bad_policy() -> None:
        cleanmail.DomainPolicy("bad-policy", domain_id="abcde", quarantine=False, retention=False, incoming=True,
                               spam_score=500)

    # The engine stops at the first resource whose check fails: one program per resource.
    for program, fields in ((bad_domain, ("name: ", "default_language: ", "outgoing_subnets[0]: ",
                                          "platforms[0].transport_port: ")),
                            (bad_policy, ("spam_score: ",))):
        stack = make_stack(program)
        emulator.reset_stats()
        with pytest.raises(auto.CommandError) as failure:
            stack.preview()
        for field in fields:
            assert field in str(failure.value), field
        assert emulator.requests() == 0
