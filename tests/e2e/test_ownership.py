"""One owner per object (issue 23) under the real CLI: two resources of one program that would manage one object
(by the API's unique key, case-insensitively, under the same parent) are refused at preview with 0 requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from pulumi_mailinfra import cleanmail, greenarrow
from tests.conftest import Emulator, StackFactory

pytestmark = pytest.mark.e2e


def domain(name: str = "owned.example") -> cleanmail.Domain:
    return cleanmail.Domain("owned", name=name, default_language="EN", quarantine=True, retention=False,
                            archive=False)


def pair(make: Callable[[Any, str, str], None]) -> Callable[[], None]:
    def program() -> None:
        owner = domain()
        make(owner, "first", "x")
        make(owner, "second", "X")

    return program


PAIRS: dict[str, tuple[Callable[[Any, str, str], None], str]] = {
    "attachment filters": (lambda d, n, case: cleanmail.AttachmentFilter(
        n, domain_id=d.id, action="DENY", check_type="FILENAME", filter=f"{case}.exe$"),
        "both declare the check type 'FILENAME' and the filter '{case}.exe$' on one domain"),
    "uri filters": (lambda d, n, case: cleanmail.UriBlFilter(
        n, domain_id=d.id, action="BLACKLIST_URI_HOST", filter=f"{case}.example"),
        "both declare the filter '{case}.example' on one domain"),
    "sender rules": (lambda d, n, case: cleanmail.DomainSenderRule(
        n, domain_id=d.id, value=f"{case}@spam.example", type="BLOCK"),
        "both declare the value '{case}@spam.example' on one domain"),
    "options": (lambda d, n, case: cleanmail.DomainOption(
        n, domain_id=d.id, name="REPORT_FREQUENCY" if case == "x" else "report_frequency", value="WEEKLY"),
        "both declare the name 'report_frequency' on one domain"),
    "aliases": (lambda d, n, case: cleanmail.DomainAlias(n, domain_id=d.id, name=f"{case}.example"),
                "both declare 'X.example'"),
    "dkim": (lambda d, n, case: cleanmail.DomainDkim(n, domain_id=d.id),
             "both manage the one DomainDkim on one domain"),
    "throttling rules": (lambda d, n, case: greenarrow.ThrottlingRule(
        n, template_id="7", domains=[f"{case}.example"], max_concurrent_connections=1, max_messages_per_hour=0),
        "both declare the domains '{case}.example' on one template"),
}


@pytest.mark.parametrize("kind", sorted(PAIRS))
def test_two_resources_managing_one_object_are_refused_at_preview(
    kind: str, make_stack: StackFactory, emulator: Emulator
) -> None:
    make, message = PAIRS[kind]
    stack = make_stack(pair(make))
    emulator.reset_stats()
    with pytest.raises(auto.CommandError) as refused:
        stack.preview()
    assert message.format(case="X") in str(refused.value)
    assert "'first' and " in str(refused.value) and "'second'" in str(refused.value)
    assert emulator.requests() == 0


def policies(*, keep_policy: bool) -> Callable[[], None]:
    def program() -> None:
        owner = domain()
        if keep_policy:
            policy = cleanmail.DomainPolicy("executives", domain_id=owner.id, quarantine=True, retention=False,
                                            incoming=True)
            pulumi.export("policy_id", policy.id)
        pulumi.export("domain_id", owner.id)

    return program


def test_deleting_a_policy_an_account_uses_is_refused_readably(make_stack: StackFactory, emulator: Emulator) -> None:
    """The docs answer 400 "the policy is affected to a domain or a user"; the emulator did not check accounts,
    so a program that fails against the real API passed offline (issue 23, item 4)."""
    stack = make_stack(policies(keep_policy=True))
    up = stack.up().outputs
    api = emulator.cleanmail()
    jane = api.request("POST", "/users", json={
        "email": "jane@owned.example", "domainId": up["domain_id"].value, "firstname": "Jane", "lastname": "Doe",
        "status": "ENABLED", "policyId": up["policy_id"].value})
    stack.workspace.program = policies(keep_policy=False)
    with pytest.raises(auto.CommandError) as refused:
        stack.up()
    assert "affected to a domain or a user (it is the policy of jane@owned.example)" in str(refused.value)
    assert api.get(f"/policies/{up['policy_id'].value}")["id"] == up["policy_id"].value  # still there
    api.request("DELETE", f"/users/{jane['id']}")
    assert stack.up().summary.resource_changes == {"delete": 1, "same": 2}


def company(*, adopt: bool = False) -> Callable[[], None]:
    def program() -> None:
        owner = cleanmail.Domain("company", name="company.example", default_language="EN", quarantine=True,
                                 retention=False, archive=False, adopt_existing=adopt)
        policy = cleanmail.DomainPolicy("execs", domain_id=owner.id, name="execs", quarantine=True, retention=False,
                                        incoming=True)
        pulumi.export("domain_id", owner.id)
        pulumi.export("policy_id", policy.id)

    return program


def test_another_stack_declaring_the_same_objects_is_refused_and_its_destroy_touches_nothing(
    make_stack: StackFactory, emulator: Emulator
) -> None:
    """Issue 23, item 2: the second stack "created" the first's domain and policy (409, looked up, identical, taken
    over) and its destroy then deleted them."""
    first = make_stack(company())
    made = first.up().outputs
    second = make_stack(company())  # another project, same inputs, no adopt_existing
    with pytest.raises(auto.CommandError) as refused:
        second.up()
    message = str(refused.value)
    assert "domain 'company.example' already exists" in message and "this resource did not make it" in message
    project = first.export_stack().deployment["resources"][0]["urn"].split("::")[1]
    assert f"/{project}/dev: Domain 'company' set out to create it" in message  # who, when known
    assert "adopt_existing=True" in message
    second.destroy()
    api = emulator.cleanmail()
    assert api.get(f"/domains/{made['domain_id'].value}")["status"] == "ENABLED"
    assert api.get(f"/policies/{made['policy_id'].value}")["name"] == "execs"
    assert first.refresh().summary.resource_changes == {"same": 3}


def domain_with_children(name: str = "children.example") -> None:
    owner = domain(name)
    jane = cleanmail.User("jane", domain_id=owner.id, email="jane@children.example")
    dkim = cleanmail.DomainDkim("dkim", domain_id=owner.id, domain_name=owner.name, selector="mail")
    policy = cleanmail.DomainPolicy("staff", domain_id=owner.id, name="staff", quarantine=True, retention=False,
                                    incoming=True)
    pulumi.export("domain_id", owner.id)
    pulumi.export("jane_id", jane.id)
    pulumi.export("policy_id", policy.id)
    pulumi.export("txt", dkim.txt_value)


def test_replacing_a_domain_keeps_its_accounts_and_dkim_key(make_stack: StackFactory, emulator: Emulator) -> None:
    """Issue 23, item 3: `up --replace <Domain>` soft-deletes the domain and restores it with the same id, yet the
    engine's delete-before-replace cascade (dependents' diff with `domain_id` unknown) hard-deleted the accounts
    (losing what their holders set) and regenerated the DKIM key published in DNS."""
    stack = make_stack(domain_with_children)
    made = stack.up().outputs
    api = emulator.cleanmail()
    jane = made["jane_id"].value
    api.request("POST", f"/users/{jane}/wblist", json=[{"value": "friend@else.example", "type": "BLOCK"}])
    urn = next(r["urn"] for r in stack.export_stack().deployment["resources"] if r["urn"].endswith("::owned"))
    preview = stack.preview(replace=[urn])
    assert preview.change_summary == {"replace": 1, "same": 4}
    replaced = stack.up(replace=[urn])
    assert replaced.summary.resource_changes == {"replace": 1, "same": 4}
    outputs = replaced.outputs
    assert {k: v.value for k, v in outputs.items()} == {k: v.value for k, v in made.items()}
    assert [r["value"] for r in api.get(f"/users/{jane}/wblist")] == ["friend@else.example"]  # the holder's own
    assert api.get(f"/domains/{made['domain_id'].value}")["status"] == "ENABLED"
    assert stack.refresh().summary.resource_changes == {"same": 5}
    assert stack.preview().change_summary == {"same": 5}
    # Renamed and replaced, the domain is a new object with a new id: its children would go with it (review).
    stack.workspace.program = lambda: domain_with_children(name="renamed-children.example")
    emulator.reset_stats()
    with pytest.raises(auto.CommandError, match=r"user 'jane@children\.example': `domain_id` changes"):
        stack.preview(replace=[urn])
    assert emulator.requests() == 0


def moved(*, account: bool, dkim: str) -> Callable[[], None]:
    """`domain_with_children` with its policy, (`account`) its account and (`dkim`: "stays", "generated" or
    "pair") its DKIM moved to a second domain."""
    def program() -> None:
        owner = domain("children.example")
        other = cleanmail.Domain("other", name="other.example", default_language="EN", quarantine=True,
                                 retention=False, archive=False)
        cleanmail.User("jane", domain_id=(other if account else owner).id,
                       email=f"jane@{'other' if account else 'children'}.example")
        pair = {"public_key": "MIIBIjANBgkq", "private_key": "private"} if dkim == "pair" else {}
        dkim_domain = owner if dkim == "stays" else other
        cleanmail.DomainDkim("dkim", domain_id=dkim_domain.id, domain_name=dkim_domain.name, selector="mail", **pair)
        cleanmail.DomainPolicy("staff", domain_id=other.id, name="staff", quarantine=True, retention=False,
                               incoming=True)
        pulumi.export("domain_id", owner.id)

    return program


def test_a_change_that_would_replace_an_account_or_a_generated_key_is_refused_at_preview(
    make_stack: StackFactory, emulator: Emulator
) -> None:
    """Moving an account to another domain replaces it (the API cannot move one): the account, its mail and what
    its holder set would be deleted, as would a generated DKIM key published in DNS. Refused at preview with 0
    requests, naming what would be lost and how to do it on purpose; a policy (all declared) is replaced."""
    stack = make_stack(domain_with_children)
    stack.up()
    emulator.reset_stats()
    stack.workspace.program = moved(account=True, dkim="stays")
    with pytest.raises(auto.CommandError) as refused:
        stack.preview()
    message = str(refused.value)
    assert "user 'jane@children.example': `domain_id` changes (its value is not known until the object it names is " \
           "created or replaced), which the API cannot change in place" in message
    assert "deletes the account (the API's delete is final) with its mail in quarantine and archive and what its " \
           "holder set on it" in message
    assert "declare the new user as another resource (another resource name) and remove this one" in message
    stack.workspace.program = moved(account=False, dkim="generated")
    with pytest.raises(auto.CommandError) as refused:
        stack.preview()
    message = str(refused.value)
    assert "DKIM" in message and "deletes the key pair the API generated, whose public key is published" in message
    assert "Nothing is lost when `private_key` is given." in message
    assert emulator.requests() == 0
    stack.workspace.program = moved(account=False, dkim="pair")  # a declared key pair loses nothing
    assert stack.preview().change_summary == {"create": 1, "replace": 2, "same": 3}
    assert emulator.requests() == 0


def template_program(*, keep: bool) -> Callable[[], None]:
    def program() -> None:
        if keep:
            template = greenarrow.ThrottlingTemplate("standard", name="standard", default={
                "max_concurrent_connections": 4, "max_messages_per_hour": 0})
            pulumi.export("template_id", template.id)

    return program


def test_deleting_a_template_an_ip_address_uses_is_refused_naming_it(
    make_stack: StackFactory, emulator: Emulator
) -> None:
    """GreenArrow's documented "in use" refusal for templates (409 `in_use`), reported readably under the CLI;
    the template stays and the next `up` deletes it once nothing uses it."""
    stack = make_stack(template_program(keep=True))
    template_id = stack.up().outputs["template_id"].value
    ga = emulator.client()
    ip = ga.request("POST", "/ga/api/v3/eng/ip_addresses", json={"ip_address": {
        "name": "ipaddr-1", "ip": "192.0.2.9", "hostname": "mx.example.com",
        "throttling_template": {"id": int(template_id)}}})["ip_address"]
    stack.workspace.program = template_program(keep=False)
    with pytest.raises(auto.CommandError) as refused:
        stack.up()
    assert f"Throttling Template 'standard' is in use by: ip_address 'ipaddr-1' (id {ip['id']})" in str(refused.value)
    assert ga.get(f"/ga/api/v3/eng/throttling_templates/{template_id}")["throttling_template"]["name"] == "standard"
    ga.request("DELETE", f"/ga/api/v3/eng/ip_addresses/{ip['id']}")
    assert stack.up().summary.resource_changes == {"delete": 1, "same": 1}
