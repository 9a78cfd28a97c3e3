"""Cleanmail resources under the real Pulumi CLI against the emulator: a domain with an LDAP platform, a policy
and DKIM; no-op preview with 0 requests; in-place update; soft delete out of band; destroy; secrets."""

from __future__ import annotations

import subprocess
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

    def flag_on_default_policy() -> None:
        # The Domain owns its default policy's services: two owners of one flag would undo each other every up.
        domain = cleanmail.Domain("flagged", name="flagged.com", default_language="EN", quarantine=True,
                                  retention=False, archive=False)
        cleanmail.DomainDefaultPolicy("flagged-default", domain_id=domain.id, quarantine=False, spam_score=5)

    def alias_named_like_a_domain() -> None:
        # Domain and alias names share one case-insensitive namespace (issue 22, item 4).
        first = cleanmail.Domain("first", name="first.example", default_language="EN", quarantine=True,
                                 retention=False, archive=False)
        cleanmail.Domain("second", name="second.example", default_language="EN", quarantine=True,
                         retention=False, archive=False)
        cleanmail.DomainAliases("first-aliases", domain_id=first.id, names=["Second.example"])

    def one_alias_on_two_domains() -> None:
        first = cleanmail.Domain("first", name="first.example", default_language="EN", quarantine=True,
                                 retention=False, archive=False)
        second = cleanmail.Domain("second", name="second.example", default_language="EN", quarantine=True,
                                  retention=False, archive=False)
        cleanmail.DomainAlias("first-alias", domain_id=first.id, name="shared.example")
        cleanmail.DomainAlias("second-alias", domain_id=second.id, name="SHARED.example")

    # The engine stops at the first resource whose check fails: one program per resource.
    for program, fields in ((bad_domain, ("name: ", "default_language: ", "outgoing_subnets[0]: ",
                                          "platforms[0].transport_port: ")),
                            (bad_policy, ("spam_score: ",)),
                            (flag_on_default_policy, ("quarantine: ", "Domain's own `quarantine` input")),
                            (alias_named_like_a_domain, ("Domain 'second' and DomainAliases 'first-aliases' both "
                                                         "declare 'Second.example'", "unique case-insensitively")),
                            (one_alias_on_two_domains, ("DomainAlias 'first-alias' and DomainAlias 'second-alias' "
                                                        "both declare 'SHARED.example'",))):
        stack = make_stack(program)
        emulator.reset_stats()
        with pytest.raises(auto.CommandError) as failure:
            stack.preview()
        for field in fields:
            assert field in str(failure.value), field
        assert emulator.requests() == 0


USER_PASSWORD = "user-pw-Hq2M8c"  # must never appear in state, export or output


def everything(*, lastname: str = "Doe", recipients: tuple[str, ...] = ("jane@got.org", "x@partner.net"),
               option: str = "WEEKLY", option_name: str = "REPORT_FREQUENCY", alias: str = "got.net",
               names: tuple[str, ...] = ("got.info",), html: str = "Jane<br/>Got", spam: float = 6.0,
               adopt: bool = False) -> Callable[[], None]:
    """Every Cleanmail resource on two domains (the list of aliases on one, a single alias on the other)."""

    def program() -> None:
        org = cleanmail.Domain("org", name="got.org", default_language="EN", quarantine=True, retention=True,
                               archive=False)
        other = cleanmail.Domain("other", name="got.io", default_language="EN", quarantine=False, retention=False,
                                 archive=False)
        cleanmail.DomainDefaultPolicy("default", domain_id=org.id, spam_score=spam)
        jane = cleanmail.User("jane", domain_id=org.id, email="jane@got.org", firstname="Jane", lastname=lastname,
                              password=USER_PASSWORD)
        cleanmail.UserSignature("sign", user_id=jane.id, html=html)
        cleanmail.UserOption("jane-reports", user_id=jane.id, name="REPORT_FREQUENCY", value="NEVER")
        cleanmail.EmailAlias("support", domain_id=org.id, email="support@got.org", recipients=list(recipients),
                             opts=pulumi.ResourceOptions(depends_on=[jane]))
        cleanmail.DomainOption("org-option", domain_id=org.id, name=option_name, value=option)
        cleanmail.DomainAliases("org-aliases", domain_id=org.id, names=list(names))
        cleanmail.DomainAlias("other-alias", domain_id=other.id, name=alias)
        if adopt:
            cleanmail.User("legacy", domain_id=org.id, email="legacy@got.org", firstname="Adopted",
                           adopt_existing=True)
        pulumi.export("org_id", org.id)
        pulumi.export("jane_id", jane.id)

    return program


def test_every_cleanmail_resource_updates_replaces_drifts_adopts_and_goes(
    make_stack: StackFactory, emulator: Emulator, pulumi_env: dict[str, str]
) -> None:
    stack = make_stack(everything(), project="cleanmail-all")
    up = stack.up()
    assert up.summary.resource_changes == {"create": 11}
    org, jane = up.outputs["org_id"].value, up.outputs["jane_id"].value
    api = emulator.cleanmail()
    emulator.reset_stats()
    stack.preview(expect_no_changes=True)
    assert emulator.requests() == 0

    # In place: a user's name, an alias's recipients (only the difference), an option, the alias list, the
    # signature, the default policy. Replacement: the option's name and the single alias's name.
    stack.workspace.program = everything(lastname="Stark", recipients=("jane@got.org", "y@partner.net"),
                                         option="DAILY", option_name="USER_OPTION_EXAMPLE", alias="got.biz",
                                         names=("got.info", "got.eu"), html="Jane Stark", spam=7.0)
    changed = stack.up().summary.resource_changes
    assert changed.get("update") == 5 and changed.get("replace") == 2, changed
    assert api.get(f"/users/{jane}")["lastname"] == "Stark"
    group = api.get(f"/domains/{org}/groups")[0]
    assert sorted(r["email"] for r in group["recipients"]) == ["jane@got.org", "y@partner.net"]
    options = {o["option"]["name"]: o["value"] for o in api.get(f"/domains/{org}/options")}
    assert options["USER_OPTION_EXAMPLE"] == "DAILY" and options["REPORT_FREQUENCY"] is None  # the old one deleted
    assert sorted(a["name"] for a in api.get(f"/domains/{org}/aliases")) == ["got.eu", "got.info"]
    stack.preview(expect_no_changes=True)

    # Out of band: an extra recipient is drift (refresh, then up reverts it); a deleted user is recreated.
    api.request("POST", f"/domains/{org}/groups/{group['id']}/addresses", json=["intruder@evil.example"])
    api.request("DELETE", f"/users/{jane}/options/REPORT_FREQUENCY")
    refreshed = stack.refresh().summary.resource_changes
    assert refreshed.get("update") == 1 and refreshed.get("delete") == 1, refreshed
    stack.up()
    group = api.get(f"/domains/{org}/groups")[0]
    assert "intruder@evil.example" not in {r["email"] for r in group["recipients"]}
    assert {o["option"]["name"]: o["value"] for o in api.get(f"/users/{jane}/options")}["REPORT_FREQUENCY"] == "NEVER"

    # Adopt: an account made by hand is taken over, not recreated.
    existing = api.create("/users", {"email": "legacy@got.org", "status": "ENABLED", "domainId": org})
    stack.workspace.program = everything(lastname="Stark", recipients=("jane@got.org", "y@partner.net"),
                                         option="DAILY", option_name="USER_OPTION_EXAMPLE", alias="got.biz",
                                         names=("got.info", "got.eu"), html="Jane Stark", spam=7.0, adopt=True)
    stack.up()
    assert api.get(f"/users/{existing['id']}")["firstname"] == "Adopted"
    assert len(api.get(f"/domains/{org}/users")) == 2

    # `pulumi stack export` as a user runs it (the Automation API's export adds --show-secrets).
    exported = subprocess.run(["pulumi", "stack", "export", "--stack", stack.name], cwd=stack.workspace.work_dir,
                              env=pulumi_env, capture_output=True, text=True, check=True).stdout
    assert USER_PASSWORD not in exported and CM_TOKEN not in exported and "ciphertext" in exported

    stack.destroy()
    for domain_id in (org,):
        assert api.get(f"/domains/{domain_id}/users") == [] and api.get(f"/domains/{domain_id}/groups") == []
        assert api.get(f"/domains/{domain_id}/aliases") == []
        assert all(o["value"] is None for o in api.get(f"/domains/{domain_id}/options"))
    assert {d["status"] for d in api.get("/domains")} == {"DELETED"}


def test_policy_moved_to_another_domain_is_replaced_and_a_domain_is_adopted(
    make_stack: StackFactory, emulator: Emulator
) -> None:
    api = emulator.cleanmail()
    legacy = api.create("/domains", {"name": "legacy.net", "status": "DISABLED", "quarantine": False,
                                     "retention": False, "archive": False, "defaultLanguage": "FR"})

    def program(target: str) -> Callable[[], None]:
        def run() -> None:
            domains = {
                "new": cleanmail.Domain("new", name="new.net", default_language="EN", quarantine=True,
                                        retention=False, archive=False),
                "legacy": cleanmail.Domain("legacy", name="legacy.net", default_language="EN", quarantine=True,
                                           retention=False, archive=False, adopt_existing=True),
            }
            policy = cleanmail.DomainPolicy("vip", domain_id=domains[target].id, name="vip", quarantine=True,
                                            retention=False, incoming=True)
            pulumi.export("legacy_id", domains["legacy"].id)
            pulumi.export("policy_id", policy.id)

        return run

    stack = make_stack(program("new"))
    up = stack.up()
    assert up.summary.resource_changes == {"create": 4}
    assert up.outputs["legacy_id"].value == legacy["id"]  # taken over, not created
    adopted = api.get(f"/domains/{legacy['id']}")
    assert adopted["status"] == "ENABLED" and adopted["defaultLanguage"] == "EN"
    first_policy = up.outputs["policy_id"].value
    stack.preview(expect_no_changes=True)
    stack.workspace.program = program("legacy")
    moved = stack.up()
    assert moved.summary.resource_changes.get("replace") == 1
    assert api.get(f"/policies/{moved.outputs['policy_id'].value}")["domainId"] == legacy["id"]
    with pytest.raises(Exception, match="404"):
        api.get(f"/policies/{first_policy}")
