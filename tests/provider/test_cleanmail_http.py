"""The Cleanmail providers against the emulator over real HTTP, driven as the engine drives them: create,
no-op diff, PATCH of only what changed, drift, soft delete on refresh, restore, adopt, secrets."""

from __future__ import annotations

import time
from typing import Any

import pytest

from pulumi_mailinfra import errors
from pulumi_mailinfra.cleanmail import providers as cleanmail_providers
from pulumi_mailinfra.cleanmail.providers import (
    AdminProvider,
    AdminTokenProvider,
    AttachmentFilterProvider,
    DomainAdminProvider,
    DomainAliasesProvider,
    DomainAliasProvider,
    DomainDefaultPolicyProvider,
    DomainDkimProvider,
    DomainOptionProvider,
    DomainPolicyProvider,
    DomainProvider,
    DomainSenderRuleProvider,
    DomainSenderRulesProvider,
    DomainUsersAccessProvider,
    EmailAliasProvider,
    MailboxSenderRuleProvider,
    MailboxSenderRulesProvider,
    SenderRulesProvider,
    UriBlFilterProvider,
    UserOptionProvider,
    UserProvider,
    UserSignatureProvider,
)
from tests.conftest import Emulator
from tests.provider.harness import Engine, configured

BIND_PASSWORD = "ldap-bind-Zr8q2"


def domain(name: str = "got.com", **extra: Any) -> dict[str, Any]:
    return {"name": name, "default_language": "DE", "quarantine": True, "retention": True, "archive": False,
            "outgoing_subnets": ["92.123.51.204/31"],
            "platforms": [{"name": "relay", "transport_dest": "1.2.3.4", "transport_type": "SMTP",
                           "transport_port": 25.0, "auth_type": "ldap",
                           "auth_data": {"host": "ldap.example.com", "port": 636.0, "bind_user": "cn=reader",
                                         "bind_password": BIND_PASSWORD, "use_ssl": True},
                           "default": True}], **extra}


def test_domain_lifecycle_with_patch_of_changed_fields_only(emulator: Emulator) -> None:
    provider = configured(DomainProvider, emulator)
    got = Engine(provider).create(domain())
    record = emulator.cleanmail().get(f"/domains/{got.id}")
    assert record["defaultLanguage"] == "DE" and record["platforms"][0]["authData"]["bind_user"] == "cn=reader"
    assert got.outputs["default_policy_id"] == record["policy"]["id"]
    assert got.outputs["platforms"][0]["auth_data"]["bind_password"] == BIND_PASSWORD  # not answered, kept
    assert not got.changes()
    emulator.reset_stats()
    got.update(domain(default_language="ES", incoming=False))
    assert emulator.requests() == 3  # PATCH of the domain's changed field, PATCH of its policy, GET
    record = emulator.cleanmail().get(f"/domains/{got.id}")
    assert record["defaultLanguage"] == "ES" and record["policy"]["incoming"] is False
    assert got.outputs["default_language"] == "ES" and not got.changes()


def test_patch_body_holds_only_what_changed(emulator: Emulator) -> None:
    provider = configured(DomainProvider, emulator)
    got = Engine(provider).create(domain())
    checked = provider.check(got.inputs, domain(description="new"))
    assert provider.changed_fields(provider.payload(provider.validated(checked.inputs), checked.inputs),
                                   got.outputs) == {"description": "new"}


def test_out_of_band_change_is_drift_and_soft_delete_is_gone(emulator: Emulator) -> None:
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    api = emulator.cleanmail()
    api.request("PATCH", f"/domains/{got.id}", json={"wblistPriority": "DOMAIN"})
    got.refresh()
    assert got.outputs["wblist_priority"] == "DOMAIN" and got.changes()
    got.update(got.inputs)
    assert api.get(f"/domains/{got.id}")["wblistPriority"] == "USER"
    api.request("DELETE", f"/domains/{got.id}")
    assert got.provider.read(got.id, got.outputs).id is None  # soft-deleted counts as gone


def test_creating_a_soft_deleted_domain_restores_it(emulator: Emulator) -> None:
    provider = configured(DomainProvider, emulator)
    first = Engine(provider).create(domain())
    provider.delete(first.id, first.outputs)
    assert emulator.cleanmail().get(f"/domains/{first.id}")["status"] == "DELETED"
    again = Engine(provider).create(domain(default_language="FR"))
    record = emulator.cleanmail().get(f"/domains/{again.id}")
    assert again.id == first.id and record["status"] == "ENABLED" and record["defaultLanguage"] == "FR"
    assert record["deletionDate"] is None


def test_adopt_an_existing_domain(emulator: Emulator) -> None:
    existing = emulator.cleanmail().create("/domains", {"name": "legacy.com", "status": "DISABLED",
                                                        "quarantine": False, "retention": False, "archive": False,
                                                        "defaultLanguage": "EN"})
    adopted = Engine(configured(DomainProvider, emulator)).create(domain("Legacy.com", adopt_existing=True))
    assert adopted.id == existing["id"]
    record = emulator.cleanmail().get(f"/domains/{existing['id']}")
    assert record["status"] == "ENABLED" and record["policy"]["quarantine"] is True
    assert not adopted.changes()


def test_pending_is_refused_on_create_and_kept_on_adoption_or_update() -> None:
    """The API sets PENDING only on a domain that exists: refused at preview for a create, not for a take-over
    (`mailinfra export` declares it) or an update."""
    provider = DomainProvider()
    refused = provider.check({}, domain(status="PENDING")).failures
    assert [f.reason for f in refused if f.reason.startswith("status: PENDING can be kept or set on a domain")]
    assert not provider.check({}, domain(status="PENDING", adopt_existing=True)).failures
    assert not provider.check(domain(), domain(status="PENDING")).failures


def test_bad_inputs_fail_at_check_naming_the_field() -> None:
    provider = DomainProvider()
    cases = {
        "name": domain(name="not a domain"),
        "outgoing_subnets[0]": domain(outgoing_subnets=["10.0.0.0"]),
        "default_language": domain(default_language="IT"),
        "platforms[0].transport_port": domain(platforms=[{**domain()["platforms"][0], "transport_port": 0}]),
        "platforms[0]": domain(platforms=[{**domain()["platforms"][0], "auth_type": "entra"}]),
    }
    for path, inputs in cases.items():
        reasons = [f.reason for f in provider.check({}, inputs).failures]
        assert any(r.startswith(f"{path}:") for r in reasons), (path, reasons)
        assert not any(BIND_PASSWORD in r for r in reasons)
    policy = DomainPolicyProvider().check({}, {"domain_id": "abcde", "name": "p", "quarantine": False,
                                               "retention": False, "incoming": True, "spam_score": 101})
    assert [f.reason.split(":")[0] for f in policy.failures] == ["spam_score"]


def test_policy_crud_and_refused_delete_of_a_default_policy(emulator: Emulator) -> None:
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    policies = configured(DomainPolicyProvider, emulator)
    policy = Engine(policies).create({"domain_id": got.id, "name": "executives", "quarantine": True,
                                      "retention": False, "incoming": True, "spam_score": 3.5,
                                      "quarantine_props": {"duration": 60.0, "store_virus": True}})
    record = emulator.cleanmail().get(f"/policies/{policy.id}")
    assert record["spamScore"] == 3.5 and record["quarantineProps"]["duration"] == 60
    assert not policy.changes()
    policy.update({**policy.inputs, "spam_score": 4.0})
    assert emulator.cleanmail().get(f"/policies/{policy.id}")["spamScore"] == 4.0
    policies.delete(policy.id, policy.outputs)
    with pytest.raises(errors.MailinfraError, match="default policy"):
        policies.delete(got.outputs["default_policy_id"], {"domain_id": got.id})


def test_dkim_outputs_the_dns_record(emulator: Emulator) -> None:
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    dkim = Engine(configured(DomainDkimProvider, emulator)).create({"domain_id": got.id})
    assert dkim.id == got.id and dkim.outputs["dns_record_name"] == "protect._domainkey.got.com"
    assert dkim.outputs["txt_value"].startswith("v=DKIM1; p=")
    assert not dkim.changes()
    dkim.update({"domain_id": got.id, "selector": "s2026", "public_key": "QUJD", "private_key": "secret-key"})
    assert dkim.outputs["dns_record_name"] == "s2026._domainkey.got.com"
    assert dkim.outputs["txt_value"] == "v=DKIM1; p=QUJD"
    dkim.provider.delete(dkim.id, dkim.outputs)
    assert dkim.provider.read(dkim.id, dkim.outputs).id is None
    made = emulator.cleanmail().request("POST", f"/domains/{got.id}/dkim", json={"selector": "protect"})
    adopted = Engine(configured(DomainDkimProvider, emulator)).create({"domain_id": got.id, "adopt_existing": True})
    assert adopted.outputs["txt_value"] == str(made[0]).partition(" TXT ")[2]  # adopting keeps the published key


def test_default_policy_is_taken_over_and_reset_on_delete(emulator: Emulator) -> None:
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    policy_id = got.outputs["default_policy_id"]
    before = emulator.cleanmail().get(f"/policies/{policy_id}")
    default = Engine(configured(DomainDefaultPolicyProvider, emulator)).create(
        {"domain_id": got.id, "spam_score": 6.0, "quarantine_props": {"duration": 45.0}})
    assert default.id == policy_id  # taken over, nothing created
    taken = emulator.cleanmail().get(f"/policies/{policy_id}")
    assert taken["spamScore"] == 6.0 and taken["quarantineProps"]["duration"] == 45
    assert taken["quarantineProps"]["storeSpam"] == before["quarantineProps"]["storeSpam"]  # the rest as it was
    assert not default.changes()
    default.provider.delete(default.id, default.outputs)
    after = emulator.cleanmail().get(f"/policies/{policy_id}")
    assert after == before  # left in place, reset to the settings it had


def test_alias_list_is_authoritative_and_single_aliases_stand_alone(emulator: Emulator) -> None:
    provider = configured(DomainProvider, emulator)
    got = Engine(provider).create(domain())
    aliases = Engine(configured(DomainAliasesProvider, emulator)).create(
        {"domain_id": got.id, "names": ["got.net", "Got.org"]})
    assert aliases.outputs["names"] == ["got.net", "got.org"] and set(aliases.outputs["alias_ids"]) == {
        "got.net", "got.org"}
    emulator.cleanmail().request("POST", f"/domains/{got.id}/aliases", json=["intruder.net"])
    aliases.refresh()
    assert aliases.changes()
    aliases.update(aliases.inputs)
    listed = emulator.cleanmail().get(f"/domains/{got.id}/aliases")
    assert sorted(a["name"] for a in listed) == ["got.net", "got.org"]
    aliases.provider.delete(aliases.id, aliases.outputs)
    assert emulator.cleanmail().get(f"/domains/{got.id}/aliases") == []

    other = Engine(provider).create(domain("other.com"))
    single = Engine(configured(DomainAliasProvider, emulator)).create({"domain_id": other.id, "name": "other.net"})
    assert [a["id"] for a in emulator.cleanmail().get(f"/domains/{other.id}/aliases")] == [single.id]
    assert not single.changes()
    single.provider.delete(single.id, single.outputs)
    assert single.provider.read(single.id, single.outputs).id is None


def test_mixing_the_list_and_single_aliases_on_one_domain_is_refused_at_check(emulator: Emulator) -> None:
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    listed = configured(DomainAliasesProvider, emulator).check({}, {"domain_id": got.id, "names": ["got.net"]})
    assert listed.failures == []
    single = configured(DomainAliasProvider, emulator).check({}, {"domain_id": got.id, "name": "got.org"})
    assert [f.reason for f in single.failures if "DomainAliases" in f.reason]


def test_user_lifecycle_password_secret_and_drift(emulator: Emulator) -> None:
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    users = configured(UserProvider, emulator)
    jane = Engine(users).create({"domain_id": got.id, "email": "Jane@Got.com", "firstname": "Jane",
                                 "password": "s3cret-Jane-pw"})
    record = emulator.cleanmail().get(f"/users/{jane.id}")
    assert record["email"] == "jane@got.com" and "password" not in record
    assert jane.outputs["password"] == "s3cret-Jane-pw" and not jane.changes()  # not answered: kept
    emulator.cleanmail().request("PATCH", f"/users/{jane.id}", json={"firstname": "Janet"})
    jane.refresh()
    assert jane.changes()
    jane.update({**jane.inputs, "lastname": "Doe"})
    record = emulator.cleanmail().get(f"/users/{jane.id}")
    assert (record["firstname"], record["lastname"]) == ("Jane", "Doe")
    with pytest.raises(errors.MailinfraError) as failure:  # the address is taken by an account that differs
        Engine(users, owner=jane.owner).create(
            {"domain_id": got.id, "email": "jane@got.com", "firstname": "Other", "password": "another-pw-123"})
    assert "differs from the inputs in firstname" in str(failure.value) and "409" in str(failure.value)
    with pytest.raises(errors.MailinfraError) as failure:  # and by another resource: not its to take
        Engine(users).create({"domain_id": got.id, "email": "jane@got.com", "firstname": "Jane"})
    assert "this resource did not make it" in str(failure.value) and "adopt_existing=True" in str(failure.value)
    assert "another-pw-123" not in str(failure.value)
    # The same account (an earlier run lost its answer): taken over, not duplicated; its password is applied.
    again = users.create(dict(users.check({}, {**jane.inputs, "password": "another-pw-123"}).inputs))
    assert again.id == jane.id and len(emulator.cleanmail().get("/users")) == 1
    assert emulator.server.cleanmail._objects["user"][jane.id]["password"] == "another-pw-123"
    users.delete(jane.id, jane.outputs)
    assert users.read(jane.id, jane.outputs).id is None


def test_signature_round_trip(emulator: Emulator) -> None:
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    jane = Engine(configured(UserProvider, emulator)).create({"domain_id": got.id, "email": "jane@got.com"})
    sign = Engine(configured(UserSignatureProvider, emulator)).create({"user_id": jane.id, "html": "Jane<br/>Got"})
    assert emulator.cleanmail().get(f"/users/{jane.id}/sign")["sign"] == "SmFuZTxici8+R290"
    assert not sign.changes()
    sign.update({"user_id": jane.id, "html": "Jane Doe"})
    assert sign.outputs["html"] == "Jane Doe"
    sign.provider.delete(sign.id, sign.outputs)
    assert sign.provider.read(sign.id, sign.outputs).id is None


def test_signature_of_an_account_whose_policy_lost_its_services(emulator: Emulator) -> None:
    """The API refuses to read or delete a signature (400, documented) once the account's policy has no
    quarantine, retention or archive service: refresh must drop it, not fail, and destroy must go through."""
    api = emulator.cleanmail()
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    jane = Engine(configured(UserProvider, emulator)).create({"domain_id": got.id, "email": "jane@got.com"})
    sign = Engine(configured(UserSignatureProvider, emulator)).create({"user_id": jane.id, "html": "Jane"})
    policy_id = api.get(f"/domains/{got.id}")["policy"]["id"]
    api.request("PATCH", f"/domains/{got.id}", json={"quarantine": False, "retention": False, "archive": False})
    assert api.get(f"/policies/{policy_id}")["quarantine"] is False  # out of band: no service left
    assert sign.provider.read(sign.id, sign.outputs).id is None
    sign.provider.delete(sign.id, sign.outputs)


def test_email_alias_changes_only_the_recipients_that_differ(emulator: Emulator) -> None:
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    Engine(configured(UserProvider, emulator)).create({"domain_id": got.id, "email": "jane@got.com"})
    alias = Engine(configured(EmailAliasProvider, emulator)).create(
        {"domain_id": got.id, "email": "support@got.com", "recipients": ["jane@got.com", "x@partner.net"]})
    live = emulator.cleanmail().get(f"/domains/{got.id}/groups/{alias.id}")
    assert {r["email"]: r["type"] for r in live["recipients"]} == {"jane@got.com": "USER",
                                                                   "x@partner.net": "EXTERNAL_ADDRESS"}
    assert not alias.changes()
    jane_id = alias.outputs["recipient_ids"]["jane@got.com"]
    emulator.reset_stats()
    alias.update({**alias.inputs, "recipients": ["jane@got.com", "y@partner.net"]})
    assert emulator.requests() == 4  # GET, POST the new address, DELETE the old one, GET
    assert alias.outputs["recipient_ids"]["jane@got.com"] == jane_id  # untouched
    assert alias.outputs["recipients"] == ["jane@got.com", "y@partner.net"]
    alias.update({**alias.inputs, "email": "help@got.com"})
    assert emulator.cleanmail().get(f"/domains/{got.id}/groups/{alias.id}")["email"] == "help@got.com"
    alias.provider.delete(alias.id, alias.outputs)
    assert alias.provider.read(alias.id, alias.outputs).id is None


def test_options_at_domain_and_user_scope(emulator: Emulator) -> None:
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    jane = Engine(configured(UserProvider, emulator)).create({"domain_id": got.id, "email": "jane@got.com"})
    domain_option = Engine(configured(DomainOptionProvider, emulator)).create(
        {"domain_id": got.id, "name": "REPORT_FREQUENCY", "value": "WEEKLY"})
    assert domain_option.id == f"{got.id}/REPORT_FREQUENCY" and domain_option.outputs["parent_value"] == "DAILY"
    user_option = Engine(configured(UserOptionProvider, emulator)).create(
        {"user_id": jane.id, "name": "REPORT_FREQUENCY", "value": "NEVER"})
    assert user_option.outputs["parent_value"] == "WEEKLY"  # the domain's value
    assert not user_option.changes()
    user_option.update({**user_option.inputs, "value": "DAILY"})
    assert user_option.outputs["value"] == "DAILY"
    user_option.provider.delete(user_option.id, user_option.outputs)
    assert user_option.provider.read(user_option.id, user_option.outputs).id is None  # inherited again
    with pytest.raises(errors.MailinfraError, match="422"):
        configured(UserOptionProvider, emulator).create({"user_id": jane.id, "name": "DOMAIN_ADMIN",
                                                         "value": "a@got.com"})


def test_lookups_follow_pages_to_the_end_and_health_runs(emulator: Emulator) -> None:
    from pulumi_mailinfra.cleanmail import client as client_module
    from pulumi_mailinfra.cleanmail import lookups

    api = emulator.cleanmail()
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    for index in range(7):
        api.create("/users", {"email": f"u{index}@got.com", "status": "ENABLED", "domainId": got.id})
    api.create(f"/domains/{got.id}/groups", {"email": "all@got.com", "recipients": ["u0@got.com"]})
    original = client_module.PAGE_SIZE
    client_module.PAGE_SIZE = 3  # seven users over three pages
    try:
        assert [u["email"] for u in lookups.domain_users(got.id, api)] == [f"u{i}@got.com" for i in range(7)]
    finally:
        client_module.PAGE_SIZE = original
    assert [g["email"] for g in lookups.email_aliases(got.id, api)] == ["all@got.com"]
    assert {o["option"]["name"] for o in lookups.domain_options(got.id, api)} >= {"DOMAIN_ADMIN"}
    assert [d["name"] for d in lookups.find_domains("got*", api)] == ["got.com"]
    assert lookups.find_domain("GOT.com", api)["id"] == got.id
    with pytest.raises(errors.NotFoundError):
        lookups.find_domain("nope.com", api)
    report = lookups.run_domain_diagnostic(got.id, api)
    assert [e["result"] for e in report["report"]["entries"]] == ["OK", "ERROR_DKIM_MISSING_ENTRY"]
    assert lookups.domain_diagnostic(got.id, api) == report
    assert [e["name"] for e in lookups.health_errors(api)] == ["got.com"]
    platform_id = api.get(f"/domains/{got.id}")["platforms"][0]["id"]
    assert lookups.run_platform_diagnostic(platform_id, api)["report"]["status"] is True
    bad = lookups.try_relay({"transportDest": "smtp.example.invalid", "transportPort": 25, "authType": "local"}, api)
    assert bad["status"] is False


def test_cleanmail_converges_through_faults_without_duplicates(emulator: Emulator) -> None:
    emulator.fault(kind="status", status=429, retry_after=0.2, times=2, method="POST")
    emulator.fault(kind="drop_after_write", times=1, method="POST", path="cleanmail/domains$")
    emulator.fault(kind="drop_after_write", times=1, method="POST", path="cleanmail/users$")
    emulator.fault(kind="status", status=503, times=2, method="PATCH")
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    jane = Engine(configured(UserProvider, emulator)).create({"domain_id": got.id, "email": "jane@got.com"})
    got.update(domain(default_language="ES"))
    emulator.clear_faults()
    api = emulator.cleanmail()
    assert [d["name"] for d in api.get("/domains")] == ["got.com"]  # the lost answer did not make a duplicate
    assert [u["id"] for u in api.get(f"/domains/{got.id}/users")] == [jane.id]
    assert api.get(f"/domains/{got.id}")["defaultLanguage"] == "ES"


def _made_by_hand(api: Any, kind: str, domain_id: str, user_id: str) -> tuple[dict[str, Any], str]:
    """An object of `kind` created directly through the API (not by a resource), with the id a resource
    adopting it must end up with; and the inputs that adopt it."""
    if kind == "policy":
        api.create(f"/domains/{domain_id}/policies", {"name": "legacy", "quarantine": False, "retention": False,
                                                      "incoming": True})
        found = next(p for p in api.get(f"/domains/{domain_id}/policies") if p["name"] == "legacy")
        return {"domain_id": domain_id, "name": "legacy", "quarantine": True, "retention": False,
                "incoming": True, "spam_score": 5.0}, found["id"]
    if kind == "dkim":
        api.request("POST", f"/domains/{domain_id}/dkim")
        return {"domain_id": domain_id, "selector": "protect"}, domain_id
    if kind == "aliases":
        api.request("POST", f"/domains/{domain_id}/aliases", json=["got.net"])
        return {"domain_id": domain_id, "names": ["got.net", "got.org"]}, domain_id
    if kind == "alias":
        api.request("POST", f"/domains/{domain_id}/aliases", json=["got.biz"])
        found = next(a for a in api.get(f"/domains/{domain_id}/aliases") if a["name"] == "got.biz")
        return {"domain_id": domain_id, "name": "got.biz"}, found["id"]
    if kind == "user":
        made = api.create("/users", {"email": "legacy@got.com", "status": "ENABLED", "domainId": domain_id})
        return {"domain_id": domain_id, "email": "legacy@got.com", "firstname": "Adopted"}, made["id"]
    if kind == "signature":
        api.request("PUT", f"/users/{user_id}/sign", json={"sign": "T2xk"})
        return {"user_id": user_id, "html": "New"}, user_id
    if kind == "email_alias":
        made = api.create(f"/domains/{domain_id}/groups", {"email": "team@got.com", "recipients": ["a@x.net"]})
        return {"domain_id": domain_id, "email": "team@got.com", "recipients": ["a@x.net", "b@x.net"]}, made["id"]
    if kind == "domain_option":
        api.request("POST", f"/domains/{domain_id}/options", json={"name": "REPORT_FREQUENCY", "value": "WEEKLY"})
        return {"domain_id": domain_id, "name": "REPORT_FREQUENCY", "value": "NEVER"}, f"{domain_id}/REPORT_FREQUENCY"
    api.request("POST", f"/users/{user_id}/options", json={"name": "REPORT_FREQUENCY", "value": "WEEKLY"})
    return {"user_id": user_id, "name": "REPORT_FREQUENCY", "value": "NEVER"}, f"{user_id}/REPORT_FREQUENCY"


@pytest.mark.parametrize(("kind", "provider_class", "count_path"), [
    ("policy", DomainPolicyProvider, "/domains/{d}/policies"),
    ("dkim", DomainDkimProvider, "/domains/{d}/dkim"),
    ("aliases", DomainAliasesProvider, "/domains/{d}/aliases"),
    ("alias", DomainAliasProvider, "/domains/{d}/aliases"),
    ("user", UserProvider, "/domains/{d}/users"),
    ("signature", UserSignatureProvider, None),
    ("email_alias", EmailAliasProvider, "/domains/{d}/groups"),
    ("domain_option", DomainOptionProvider, None),
    ("user_option", UserOptionProvider, None),
])
def test_every_adoptable_resource_takes_over_what_exists(
    emulator: Emulator, kind: str, provider_class: type, count_path: str | None
) -> None:
    api = emulator.cleanmail()
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    jane = Engine(configured(UserProvider, emulator)).create({"domain_id": got.id, "email": "jane@got.com"})
    inputs, existing_id = _made_by_hand(api, kind, got.id, jane.id)
    before = len(api.get(count_path.format(d=got.id))) if count_path else None
    adopted = Engine(configured(provider_class, emulator)).create({**inputs, "adopt_existing": True})
    assert adopted.id == existing_id  # taken over, not made anew
    if count_path:
        after = api.get(count_path.format(d=got.id))
        assert len(after) == before + (1 if kind == "aliases" else 0)  # the list gained the one missing name
    assert not adopted.changes()
    adopted.refresh()
    assert not adopted.changes()  # the object now holds the inputs



def test_attachment_filter_lifecycle_read_from_the_domain_list(emulator: Emulator) -> None:
    api = emulator.cleanmail()
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    rule = Engine(configured(AttachmentFilterProvider, emulator)).create(
        {"domain_id": got.id, "action": "deny", "check_type": "filename", "filter": "[.]exe$"})
    assert rule.outputs["action"] == "DENY" and rule.outputs["scope"] == "got.com" and rule.outputs["priority"] == 1
    assert not rule.changes()
    emulator.reset_stats()
    rule.update({**rule.inputs, "description": "no executables"})
    assert emulator.requests() == 2  # PATCH of the one field, then the domain's list (no GET of one rule)
    assert api.get(f"/domains/{got.id}/filters/attachments")[0]["description"] == "no executables"
    api.request("PATCH", f"/filters/attachments/{rule.id}", json={"action": "ALLOW"})  # out of band
    rule.refresh()
    assert rule.outputs["action"] == "ALLOW" and rule.changes()
    rule.update(rule.inputs)
    assert api.get(f"/domains/{got.id}/filters/attachments")[0]["action"] == "DENY"
    with pytest.raises(errors.MailinfraError, match=r"409.*already exists with same rules"):
        configured(AttachmentFilterProvider, emulator).create(
            dict(rule.provider.check({}, {**rule.inputs, "action": "ALLOW"}).inputs))
    adopted = Engine(configured(AttachmentFilterProvider, emulator)).create(
        {**rule.inputs, "filter": "[.]EXE$", "adopt_existing": True})  # the same rule, another spelling
    assert adopted.id == rule.id
    api.request("DELETE", f"/filters/attachments/{rule.id}")
    assert rule.provider.read(rule.id, rule.outputs).id is None  # gone out of band: refresh drops it
    checked = rule.provider.check(rule.inputs, {**rule.inputs, "domain_id": "other"})
    assert rule.provider.diff(rule.id, rule.outputs, checked.inputs).replaces == ["domain_id"]


def test_uri_bl_filter_lifecycle(emulator: Emulator) -> None:
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    rule = Engine(configured(UriBlFilterProvider, emulator)).create(
        {"domain_id": got.id, "action": "BLACKLIST_URI_HOST", "filter": "bulist.com"})
    assert not rule.changes()
    rule.update({**rule.inputs, "action": "whitelist_uri_host"})
    assert emulator.cleanmail().get(f"/domains/{got.id}/filters/uris")[0]["action"] == "WHITELIST_URI_HOST"
    assert not rule.changes()
    rule.provider.delete(rule.id, rule.outputs)
    assert emulator.cleanmail().get(f"/domains/{got.id}/filters/uris") == []
    rule.provider.delete(rule.id, rule.outputs)  # already gone: deleting succeeded



def test_single_sender_rule_lifecycle(emulator: Emulator) -> None:
    api = emulator.cleanmail()
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    rule = Engine(configured(DomainSenderRuleProvider, emulator)).create(
        {"domain_id": got.id, "value": "Bad@Evil.example", "type": "block", "expire_at": "2031-01-01T01:00:00+01:00"})
    listed = api.get(f"/domains/{got.id}/wblist")
    assert [(r["value"], r["expireAt"]) for r in listed] == [("bad@evil.example", 1924992000000)]
    assert rule.outputs["expire_at"] == "2031-01-01T00:00:00Z" and rule.outputs["owner"] == "got.com"
    assert not rule.changes()
    emulator.reset_stats()
    rule.update({**rule.inputs, "type": "PROTECTED", "description": "watch"})
    assert emulator.requests() == 1  # PUT of the rule (the API's "replace"), which answers the rule
    assert api.get(f"/domains/{got.id}/wblist")[0]["type"] == "PROTECTED"
    checked = rule.provider.check(rule.inputs, {**rule.inputs, "value": "other@evil.example"})
    assert rule.provider.diff(rule.id, rule.outputs, checked.inputs).replaces == ["value"]
    api.request("PUT", f"/domains/{got.id}/wblist/{rule.id}", json={"value": "bad@evil.example", "type": "BLOCK"})
    rule.refresh()
    assert rule.changes()  # drift: the type and description changed out of band
    adopted = Engine(configured(DomainSenderRuleProvider, emulator)).create(
        {**rule.inputs, "value": "BAD@evil.example", "adopt_existing": True})
    assert adopted.id == rule.id and api.get(f"/domains/{got.id}/wblist")[0]["type"] == "PROTECTED"
    api.request("DELETE", f"/domains/{got.id}/wblist/{rule.id}")
    assert rule.provider.read(rule.id, rule.outputs).id is None
    jane = Engine(configured(UserProvider, emulator)).create({"domain_id": got.id, "email": "jane@got.com"})
    mine = Engine(configured(MailboxSenderRuleProvider, emulator)).create(
        {"user_id": jane.id, "value": "news.example", "type": "ALLOW", "spf_on": False})
    assert mine.outputs["owner"] == "jane@got.com" and not mine.changes()
    mine.provider.delete(mine.id, mine.outputs)
    assert api.get(f"/users/{jane.id}/wblist") == []


def test_sender_rule_lists_are_authoritative_and_exclusive(emulator: Emulator) -> None:
    api = emulator.cleanmail()
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    rules = [{"value": "z.example", "type": "BLOCK"}, {"value": "a.example", "type": "ALLOW", "spf_on": True}]
    whole = Engine(configured(DomainSenderRulesProvider, emulator)).create({"domain_id": got.id, "rules": rules})
    assert not whole.changes() and set(whole.outputs["rule_ids"]) == {"z.example", "a.example"}
    assert not whole.changes({"domain_id": got.id, "rules": list(reversed(rules))})  # the order is no change
    api.request("POST", f"/domains/{got.id}/wblist", json=[{"value": "intruder.example", "type": "ALLOW",
                                                            "spfOn": False}])
    whole.refresh()
    assert whole.changes()
    whole.update(whole.inputs)
    assert sorted(r["value"] for r in api.get(f"/domains/{got.id}/wblist")) == ["a.example", "z.example"]
    single = configured(DomainSenderRuleProvider, emulator).check({}, {"domain_id": got.id, "value": "x.example",
                                                                       "type": "BLOCK"})
    assert any("already has its sender rules managed by a DomainSenderRules" in f.reason for f in single.failures)
    late = whole.provider.check(whole.inputs, {"domain_id": got.id, "rules": [
        *rules, {"value": "late.example", "type": "BLOCK", "expire_at": "2001-01-01T00:00:00Z"}]})
    assert [f.reason for f in late.failures] == ["rules[2].expire_at: must be in the future (got 2001-01-01T00:00:00Z)"]
    whole.provider.delete(whole.id, whole.outputs)
    assert api.get(f"/domains/{got.id}/wblist") == []
    jane = Engine(configured(UserProvider, emulator)).create({"domain_id": got.id, "email": "jane@got.com"})
    box = Engine(configured(MailboxSenderRulesProvider, emulator)).create(
        {"user_id": jane.id, "rules": [{"value": "family.example", "type": "ALLOW", "spf_on": False}]})
    assert [r["owner"] for r in api.get(f"/users/{jane.id}/wblist")] == ["jane@got.com"] and not box.changes()


def test_bulk_sender_rules_touch_only_their_own(emulator: Emulator) -> None:
    api = emulator.cleanmail()
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    jane = Engine(configured(UserProvider, emulator)).create({"domain_id": got.id, "email": "jane@got.com"})
    api.request("POST", f"/domains/{got.id}/wblist", json=[{"value": "someone-else.example", "type": "BLOCK"}])
    bulk = Engine(configured(SenderRulesProvider, emulator)).create({"rules": [
        {"owner": "got.com", "value": "spam.example", "type": "BLOCK"},
        {"owner": "Jane@got.com", "value": "friend@a.example", "type": "ALLOW", "spf_on": True}]})
    assert set(bulk.outputs["rule_ids"]) == {"got.com/spam.example", "jane@got.com/friend@a.example"}
    assert not bulk.changes()
    bulk.update({"rules": [{"owner": "got.com", "value": "spam.example", "type": "BLOCK", "description": "x"},
                           {"owner": "got.com", "value": "new.example", "type": "BLOCK"}]})
    assert sorted(r["value"] for r in api.get(f"/domains/{got.id}/wblist")) == [
        "new.example", "someone-else.example", "spam.example"]
    assert api.get(f"/users/{jane.id}/wblist") == [] and not bulk.changes()
    api.request("DELETE", f"/domains/{got.id}/wblist/{bulk.outputs['rule_ids']['got.com/new.example']}")
    bulk.refresh()
    assert bulk.changes()  # a rule deleted out of band is missing: the next update adds it again
    with pytest.raises(errors.MailinfraError, match=r"422.*not a known domain or mailbox"):
        configured(SenderRulesProvider, emulator).create(
            {"rules": [{"owner": "ghost@nowhere.example", "value": "x.example", "type": "BLOCK"}]})
    bulk.provider.delete(bulk.id, bulk.outputs)
    assert [r["value"] for r in api.get(f"/domains/{got.id}/wblist")] == ["someone-else.example"]



def test_users_access_is_one_authoritative_set(emulator: Emulator) -> None:
    from pulumi_mailinfra.cleanmail import lookups

    api = emulator.cleanmail()
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    access = Engine(configured(DomainUsersAccessProvider, emulator)).create(
        {"domain_id": got.id, "permissions": ["WBLIST_WRITE", "QUARANTINE_RELEASE"]})
    assert access.outputs["permissions"] == ["QUARANTINE_RELEASE", "WBLIST_WRITE"]
    assert "REPORTS_READ" in access.outputs["available_permissions"]
    assert not access.changes() and not access.changes({"domain_id": got.id,
                                                        "permissions": ["QUARANTINE_RELEASE", "WBLIST_WRITE"]})
    api.request("PUT", f"/domains/{got.id}/access", json=["REPORTS_READ"])  # out of band
    access.refresh()
    assert access.changes()
    access.update(access.inputs)
    assert [p["name"] for p in lookups.user_permissions(got.id, api) if p["enabled"]] == [
        "QUARANTINE_RELEASE", "WBLIST_WRITE"]
    with pytest.raises(errors.MailinfraError, match="not in the permission list: GRANT"):
        access.update({"domain_id": got.id, "permissions": ["GRANT"]})
    for names, path in ((["wblist write"], "permissions[0]"), (["REPORTS_READ", "REPORTS_READ"], "permissions")):
        failures = access.provider.check({}, {"domain_id": got.id, "permissions": names}).failures
        assert [f.reason.split(":")[0] for f in failures] == [path]
    access.provider.delete(access.id, access.outputs)
    assert not any(p["enabled"] for p in lookups.user_permissions(got.id, api))
    assert {p["name"] for p in lookups.permissions("domain", got.id, api)} >= {"GRANT", "WBLIST_WRITE"}



def test_admin_token_value_is_kept_secret_and_recreated_when_revoked(emulator: Emulator) -> None:
    api = emulator.cleanmail()
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    admin = api.request("POST", f"/domains/{got.id}/admins", json={
        "login": "ned", "displayName": "Ned", "email": "ned@got.com", "password": "pw-123456", "enabled": True,
        "language": "EN", "permissions": ["DOMAIN_READ"]})
    token = Engine(configured(AdminTokenProvider, emulator)).create(
        {"admin_id": admin["id"], "name": "ci", "expiration": "2031-01-01T00:00:00Z"})
    value = token.outputs["value"]
    assert len(value) == 32 and token.outputs["expiration"] == "2031-01-01T00:00:00Z"
    assert emulator.cleanmail().get(f"/admins/{admin['id']}/tokens")[0]["expiration"] == 1924992000000
    token.refresh()
    assert token.outputs["value"] == value and not token.changes()  # never answered again: the recorded one stays
    from pulumi_mailinfra.cleanmail.client import CleanmailClient
    from pulumi_mailinfra.config import ServiceSettings

    as_token = CleanmailClient(ServiceSettings(url=emulator.cleanmail_url, token=value))
    assert as_token.get("/domains")[0]["name"] == "got.com"
    checked = token.provider.check(token.inputs, {**token.inputs, "name": "ci-2"})
    assert token.provider.diff(token.id, token.outputs, checked.inputs).replaces == ["name"]
    late = token.provider.check({}, {"admin_id": admin["id"], "name": "x", "expiration": "2001-01-01T00:00:00Z"})
    assert [f.reason for f in late.failures] == ["expiration: must be in the future (got 2001-01-01T00:00:00Z)"]
    api.request("DELETE", f"/admins/{admin['id']}/tokens/{token.id}")  # revoked out of band
    assert token.provider.read(token.id, token.outputs).id is None  # refresh drops it; the next up recreates it
    with pytest.raises(errors.AuthenticationError):
        as_token.get("/domains")
    token.provider.delete(token.id, token.outputs)  # already gone: deleting succeeded
    with pytest.raises(errors.MailinfraError) as failure:
        configured(AdminTokenProvider, emulator).create({"admin_id": "nope", "name": "x"})
    assert "404" in str(failure.value)



def new_admin(domain_id: str, **extra: Any) -> dict[str, Any]:
    return {"domain_id": domain_id, "login": "ned", "display_name": "Ned Stark", "email": "ned@got.com",
            "password": "winter-is-coming", "permissions": ["WBLIST_WRITE", "DOMAIN_READ"], **extra}


def test_domain_admin_new_account_lifecycle(emulator: Emulator) -> None:
    api = emulator.cleanmail()
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    ned = Engine(configured(DomainAdminProvider, emulator)).create(new_admin(got.id))
    account = api.get(f"/security/admins/{ned.id}")
    assert account["login"] == "ned" and account["enabled"] is True and account["language"] == "EN"
    assert account["authorities"][0]["permissions"] == ["DOMAIN_READ", "WBLIST_WRITE"]
    assert ned.outputs["permissions"] == ["DOMAIN_READ", "WBLIST_WRITE"] and ned.outputs["account_login"] == "ned"
    assert ned.outputs["password"] == "winter-is-coming"  # never answered: the input is kept (secret by name)
    emulator.reset_stats()
    assert not ned.changes() and not ned.changes(new_admin(got.id, permissions=["DOMAIN_READ", "WBLIST_WRITE"]))
    assert emulator.requests() == 0

    ned.update(new_admin(got.id, permissions=["DOMAIN_READ"], display_name="Lord Stark"))
    account = api.get(f"/domains/{got.id}/admins/{ned.id}")
    assert account["displayName"] == "Lord Stark" and account["authorities"][0]["permissions"] == ["DOMAIN_READ"]
    api.request("PUT", f"/domains/{got.id}/admins/{ned.id}/authorities", json=["GRANT"])  # out of band
    api.request("PATCH", f"/security/admins/{ned.id}", json={"enabled": False})  # unmanaged: not drift
    ned.refresh()
    assert ned.outputs["permissions"] == ["GRANT"] and ned.changes()
    ned.update(ned.inputs)
    assert api.get(f"/domains/{got.id}/admins/{ned.id}")["authorities"][0]["permissions"] == ["DOMAIN_READ"]
    checked = ned.provider.check(ned.inputs, new_admin(got.id, login="eddard", permissions=["DOMAIN_READ"]))
    with pytest.raises(errors.MailinfraError, match="`login` changes, which the API cannot change in place") as lost:
        ned.provider.diff(ned.id, ned.outputs, checked.inputs)  # a replacement would delete the account's tokens
    assert "every API token made for it (also those made outside this stack)" in str(lost.value)

    ned.provider.delete(ned.id, ned.outputs)  # revoking the only access deletes the account
    with pytest.raises(errors.NotFoundError):
        api.get(f"/security/admins/{ned.id}")
    assert ned.provider.read(ned.id, ned.outputs).id is None
    ned.provider.delete(ned.id, ned.outputs)  # already gone: a success


def test_domain_admin_for_an_existing_account_and_adoption(emulator: Emulator) -> None:
    api = emulator.cleanmail()
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    north = Engine(configured(DomainProvider, emulator)).create(domain("north.com"))
    ned = Engine(configured(DomainAdminProvider, emulator)).create(new_admin(got.id))
    second = Engine(configured(DomainAdminProvider, emulator)).create(
        {"domain_id": north.id, "admin_id": ned.id, "permissions": ["DOMAIN_READ"]})
    assert second.id == ned.id and second.outputs["account_login"] == "ned"
    assert "display_name" not in second.outputs  # an existing account's settings are not this resource's
    assert len(api.get(f"/security/admins/{ned.id}")["authorities"]) == 2
    second.provider.delete(second.id, second.outputs)  # the account keeps its other access
    assert [a["objectId"] for a in api.get(f"/security/admins/{ned.id}")["authorities"]] == [got.id]

    adopted = Engine(configured(DomainAdminProvider, emulator)).create(
        {**new_admin(got.id, permissions=["DOMAIN_READ"]), "adopt_existing": True})
    assert adopted.id == ned.id and len(api.get("/security/admins")) == 1
    assert api.get(f"/security/admins/{ned.id}")["authorities"][0]["permissions"] == ["DOMAIN_READ"]
    with pytest.raises(errors.MailinfraError, match="409"):
        configured(DomainAdminProvider, emulator).create(new_admin(north.id))  # the login is taken
    with pytest.raises(errors.MailinfraError, match="not in the permission list"):
        configured(DomainAdminProvider, emulator).create(new_admin(north.id, login="jon", permissions=["SUDO"]))


@pytest.mark.parametrize(("inputs", "message"), [
    ({"permissions": ["DOMAIN_READ"]}, "give admin_id (an existing account) or login"),
    ({"permissions": ["DOMAIN_READ"], "admin_id": "x", "login": "y"}, "give admin_id (an existing account) or login"),
    ({"permissions": ["DOMAIN_READ"], "admin_id": "x", "email": "a@b.example"}, "email: an existing account's"),
    ({"permissions": ["DOMAIN_READ"], "login": "y", "email": "a@b.example"}, "display_name, password: required"),
    ({"permissions": ["read"], "admin_id": "x"}, "permissions[0]"),
    (new_admin("d", email="not-an-address"), "email"),
    (new_admin("d", language="IT"), "language"),
])
def test_domain_admin_bad_inputs_fail_at_check(inputs: dict[str, Any], message: str) -> None:
    failures = DomainAdminProvider().check({}, {"domain_id": "d", **inputs}).failures
    assert failures and message in failures[0].reason, failures


def test_admin_account_settings_and_delete(emulator: Emulator) -> None:
    api = emulator.cleanmail()
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    made = api.request("POST", f"/domains/{got.id}/admins", json={
        "login": "sam", "displayName": "Sam", "email": "sam@got.com", "password": "pw-123456", "enabled": True,
        "language": "EN", "permissions": ["DOMAIN_READ"]})
    emulator.reset_stats()
    sam = Engine(configured(AdminProvider, emulator)).create(
        {"admin_id": made["id"], "email": "samwell@got.com", "language": "FR", "password": "new-secret"})
    assert emulator.requests() == 2  # PATCH of the given settings, then GET: nothing created
    account = api.get(f"/security/admins/{made['id']}")
    assert (account["email"], account["language"], account["displayName"]) == ("samwell@got.com", "FR", "Sam")
    assert sam.outputs["login"] == "sam" and sam.outputs["authorities"][0]["objectId"] == got.id
    emulator.reset_stats()
    assert "display_name" not in sam.outputs and not sam.changes()
    assert emulator.requests() == 0
    api.request("PATCH", f"/security/admins/{made['id']}", json={"language": "DE"})  # out of band
    sam.refresh()
    assert sam.outputs["language"] == "DE" and sam.changes()
    sam.update({**sam.inputs, "enabled": False})
    account = api.get(f"/security/admins/{made['id']}")
    assert account["language"] == "FR" and account["enabled"] is False
    failures = sam.provider.check({}, {"admin_id": made["id"], "totp": True}).failures
    assert failures and failures[0].reason.startswith("totp")
    emulator.reset_stats()
    sam.provider.delete(sam.id, sam.outputs)  # the account was not made here: it stays, with its accesses
    assert emulator.requests() == 0 and [a["id"] for a in api.get(f"/domains/{got.id}/admins")] == [made["id"]]
    api.request("DELETE", f"/security/admins/{made['id']}")
    assert sam.provider.read(sam.id, sam.outputs).id is None  # gone: refresh drops it
    with pytest.raises(errors.MailinfraError, match="404"):
        configured(AdminProvider, emulator).create({"admin_id": made["id"], "language": "FR"})


def test_user_welcome_mail_runs_once_after_create(emulator: Emulator) -> None:
    import httpx

    got = Engine(configured(DomainProvider, emulator)).create(domain())

    def tasks() -> list[dict[str, Any]]:
        return httpx.get(f"{emulator.url}/_emulator/cleanmail/tasks").json()

    arya = Engine(configured(UserProvider, emulator)).create(
        {"domain_id": got.id, "email": "arya@got.com", "send_welcome_mail": True})
    assert [(t["command"], t["params"]) for t in tasks()] == [("send_welcome_mail", {"recipient": "arya@got.com"})]
    arya.update({**arya.inputs, "firstname": "Arya"})
    arya.refresh()
    assert not arya.changes() and len(tasks()) == 1  # once, at creation
    Engine(configured(UserProvider, emulator)).create({"domain_id": got.id, "email": "bran@got.com"})
    assert len(tasks()) == 1
    # The task refused (the account is disabled): the account is removed again, so the next up retries both.
    with pytest.raises(errors.MailinfraError, match=r"welcome mail to sansa@got.com could not be sent.*422"):
        configured(UserProvider, emulator).create({"domain_id": got.id, "email": "sansa@got.com",
                                                   "status": "DISABLED", "send_welcome_mail": True})
    assert [u["email"] for u in emulator.cleanmail().get("/users")] == ["arya@got.com", "bran@got.com"]


def test_tasks_and_temporary_tokens(emulator: Emulator) -> None:
    import httpx

    from pulumi_mailinfra.cleanmail import tasks

    api = emulator.cleanmail()
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    Engine(configured(UserProvider, emulator)).create({"domain_id": got.id, "email": "jon@got.com"})
    assert tasks.send_token_mail("jon@got.com", 12, client=api) is True
    assert tasks.send_password_reset_mail("jon@got.com", client=api) is True
    sent = httpx.get(f"{emulator.url}/_emulator/cleanmail/tasks").json()
    assert [(t["command"], t["params"].get("validity")) for t in sent] == [
        ("send_token_mail", 12), ("send_password_reset_mail", 6)]
    emulator.reset_stats()
    for call, message in ((lambda: tasks.run_task("reboot", {}, api), "command"),
                          (lambda: tasks.send_welcome_mail("not-an-address", api), "recipient"),
                          (lambda: tasks.send_token_mail("jon@got.com", 0, api), "validity")):
        with pytest.raises(errors.MailinfraError, match=message):
            call()
    assert emulator.requests() == 0  # refused before sending
    with pytest.raises(errors.MailinfraError, match=r"422.*no enabled account ghost@got\.com"):
        tasks.send_welcome_mail("ghost@got.com", api)

    token = tasks.temporary_auth_token("jon@got.com", 2, client=api)
    assert token is not None and token.token and token.url and token.token in token.url
    assert token.expire_at is not None and 7_100_000 < token.expire_at - time.time() * 1000 <= 7_200_000
    with pytest.raises(errors.NotFoundError, match="Unknown username"):
        tasks.temporary_auth_token("nobody@got.com", client=api)
    with pytest.raises(errors.MailinfraError, match="validity"):
        tasks.temporary_auth_token("jon@got.com", 0, client=api)
    with pytest.raises(errors.MailinfraError, match="username"):
        tasks.temporary_auth_token("jon", client=api)


# ----- idempotent creates: a second create of the same inputs (an earlier run's answer or state was lost) ----------
def _created_twice_inputs(kind: str, domain_id: str, admin_id: str) -> tuple[type, dict[str, Any], str]:
    """The provider, the inputs and the list that must not grow, for each kind whose object the API makes."""
    cases: dict[str, tuple[type, dict[str, Any], str]] = {
        "policy": (DomainPolicyProvider, {"domain_id": domain_id, "name": "execs", "quarantine": True,
                                          "retention": False, "incoming": True}, "/domains/{d}/policies"),
        "alias": (DomainAliasProvider, {"domain_id": domain_id, "name": "got.biz"}, "/domains/{d}/aliases"),
        "user": (UserProvider, {"domain_id": domain_id, "email": "kim@got.com", "password": "kim-pw-Secret1"},
                 "/domains/{d}/users"),
        "email_alias": (EmailAliasProvider, {"domain_id": domain_id, "email": "team@got.com",
                                             "recipients": ["a@x.net"]}, "/domains/{d}/groups"),
        "attachment_filter": (AttachmentFilterProvider, {"domain_id": domain_id, "action": "DENY",
                                                         "check_type": "FILENAME", "filter": "[.]exe$"},
                              "/domains/{d}/filters/attachments"),
        "uri_filter": (UriBlFilterProvider, {"domain_id": domain_id, "action": "BLACKLIST_URI_HOST",
                                             "filter": "bad.example"}, "/domains/{d}/filters/uris"),
        "sender_rule": (DomainSenderRuleProvider, {"domain_id": domain_id, "value": "spam.example", "type": "BLOCK"},
                        "/domains/{d}/wblist"),
        "dkim": (DomainDkimProvider, {"domain_id": domain_id, "selector": "protect"}, "/domains/{d}/dkim"),
        "domain_admin": (DomainAdminProvider, {"domain_id": domain_id, "login": "sec", "display_name": "Sec",
                                               "email": "sec@got.com", "password": "sec-pw-Secret1",
                                               "permissions": ["DOMAIN_READ"]}, "/domains/{d}/admins"),
        "token": (AdminTokenProvider, {"admin_id": admin_id, "name": "ci"}, "/admins/{a}/tokens"),
    }
    return cases[kind]


@pytest.mark.parametrize("kind", ["policy", "alias", "user", "email_alias", "attachment_filter", "uri_filter",
                                  "sender_rule", "dkim", "domain_admin", "token"])
def test_creating_again_what_exists_takes_it_over_instead_of_duplicating(emulator: Emulator, kind: str) -> None:
    api = emulator.cleanmail()
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    admin = Engine(configured(DomainAdminProvider, emulator)).create(
        {"domain_id": got.id, "login": "owner", "display_name": "Owner", "email": "owner@got.com",
         "password": "owner-pw-Secret1", "permissions": ["DOMAIN_READ"]})
    provider_class, inputs, listed = _created_twice_inputs(kind, got.id, admin.id)
    path = listed.format(d=got.id, a=admin.id)
    first = Engine(configured(provider_class, emulator)).create(inputs)
    count = len(api.get(path))
    if kind == "token":  # a second token resource of that name in the same deployment keeps the first's token
        sibling = Engine(configured(provider_class, emulator)).create(inputs)
        assert {t["id"] for t in api.get(path)} == {first.id, sibling.id}
        sibling.provider.delete(sibling.id, sibling.outputs)
        cleanmail_providers._TOKENS_MADE.clear()  # what a killed run's provider process knew dies with it
    # A fresh provider, the same resource: the state was lost.
    again = Engine(configured(provider_class, emulator), owner=first.owner).create(inputs)
    assert len(api.get(path)) == count  # no duplicate
    if kind == "token":  # a token's value is answered once: the never-used leftover is revoked, a new one made
        assert again.id != first.id and [t["id"] for t in api.get(path)] == [again.id]
    else:
        assert again.id == first.id and not again.changes()


def test_creating_what_exists_but_differs_changes_nothing_and_names_the_fields(emulator: Emulator) -> None:
    api = emulator.cleanmail()
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    inputs = {"domain_id": got.id, "name": "execs", "quarantine": True, "retention": False, "incoming": True}
    first = Engine(configured(DomainPolicyProvider, emulator)).create(inputs)
    before = api.get(f"/policies/{first.id}")
    with pytest.raises(errors.MailinfraError, match=r"differs from the inputs in quarantine, spam_score.*409"):
        Engine(configured(DomainPolicyProvider, emulator), owner=first.owner).create(
            {**inputs, "quarantine": False, "spam_score": 2.0})
    assert api.get(f"/policies/{first.id}") == before and len(api.get(f"/domains/{got.id}/policies")) == 2


def test_deleting_an_object_already_deleted_succeeds(emulator: Emulator) -> None:
    provider = configured(DomainProvider, emulator)
    got = Engine(provider).create(domain())
    provider.delete(got.id, got.outputs)
    provider.delete(got.id, got.outputs)  # the API refuses (422 already deleted): gone is what was wanted
    assert emulator.cleanmail().get(f"/domains/{got.id}")["status"] == "DELETED"


def test_a_token_whose_creation_answer_was_lost_leaves_no_orphan(emulator: Emulator) -> None:
    """Found by the fault campaign: a token POST applied but dropped on the way back was sent again, and the first
    token stayed, working and unrecorded. The lost one is now revoked before the create is sent again."""
    api = emulator.cleanmail()
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    admin = api.request("POST", f"/domains/{got.id}/admins", json={
        "login": "ned", "displayName": "Ned", "email": "ned@got.com", "password": "pw-123456", "enabled": True,
        "language": "EN", "permissions": ["DOMAIN_READ"]})
    emulator.fault(kind="drop_after_write", method="POST", path="/tokens$", times=1)
    token = Engine(configured(AdminTokenProvider, emulator)).create({"admin_id": admin["id"], "name": "ci"})
    listed = api.get(f"/admins/{admin['id']}/tokens")
    assert [t["id"] for t in listed] == [token.id] and len(token.outputs["value"]) == 32


# ----- upgrades and half-done updates (review of issue 22's fixes) -------------------------------------------------
def test_default_policy_from_an_older_state_drops_its_flag_without_clearing_it(emulator: Emulator) -> None:
    """States written before the flags were refused hold `quarantine`: removing it must not PATCH a null."""
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    default = Engine(configured(DomainDefaultPolicyProvider, emulator))
    checked = default.provider.check({}, default._program({"domain_id": got.id, "spam_score": 6.0}))
    inputs = default._recorded({**checked.inputs, "quarantine": True})  # as the previous version recorded it
    created = default.provider.create(dict(inputs))
    default.id, default.inputs, default.outputs = created.id, inputs, {**default._recorded(created.outs),
                                                                         "quarantine": True}
    default.update({"domain_id": got.id, "spam_score": 6.0})
    assert emulator.cleanmail().get(f"/policies/{default.id}")["quarantine"] is True  # the Domain's, untouched


def test_sender_rules_from_an_older_state_follow_a_rename(emulator: Emulator) -> None:
    api = emulator.cleanmail()
    owner = Engine(configured(DomainProvider, emulator)).create(domain("before.example"))
    bulk = Engine(configured(SenderRulesProvider, emulator)).create(
        {"rules": [{"owner": "before.example", "value": "spam.example", "type": "BLOCK"}]})
    rule_id = next(iter(bulk.outputs["rule_ids"].values()))
    bulk.outputs.pop("owner_lists")  # as the previous version recorded it
    owner.update(domain("after.example"))
    bulk.update({"rules": [{"owner": "after.example", "value": "spam.example", "type": "BLOCK"}]})
    assert [r["id"] for r in api.get(f"/domains/{owner.id}/wblist")] == [rule_id]
    assert bulk.outputs["owner_lists"] == {"after.example/spam.example": f"/domains/{owner.id}/wblist"}


def test_sender_rules_update_that_failed_halfway_converges_on_the_next(emulator: Emulator) -> None:
    """Owners given as plain names do not wait for the rename: the first update deletes the rule and fails to add
    it (no such owner yet); the engine keeps the old state, so the next update finds the recorded rule gone."""
    api = emulator.cleanmail()
    owner = Engine(configured(DomainProvider, emulator)).create(domain("before.example"))
    bulk = Engine(configured(SenderRulesProvider, emulator)).create(
        {"rules": [{"owner": "before.example", "value": "spam.example", "type": "BLOCK"}]})
    renamed = {"rules": [{"owner": "after.example", "value": "spam.example", "type": "BLOCK"}]}
    with pytest.raises(errors.MailinfraError):
        bulk.update(renamed)
    owner.update(domain("after.example"))
    bulk.update(renamed)
    assert [r["value"] for r in api.get(f"/domains/{owner.id}/wblist")] == ["spam.example"]
    assert not bulk.changes(renamed)


def test_dkim_key_pair_dropped_from_the_program_is_regenerated(emulator: Emulator) -> None:
    """The docs: without a key pair the API generates one; the old (perhaps leaked) pair must not stay."""
    got = Engine(configured(DomainProvider, emulator)).create(domain())
    dkim = Engine(configured(DomainDkimProvider, emulator)).create(
        {"domain_id": got.id, "selector": "s1", "public_key": "QUJD", "private_key": "secret-key"})
    before = dkim.outputs["txt_value"]
    dkim.update({"domain_id": got.id, "selector": "s1"})
    assert dkim.outputs["txt_value"] != before
