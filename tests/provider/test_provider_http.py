"""The provider classes against the emulator over real HTTP: CRUD, drift, adopt, convergence under faults."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_mailinfra import errors
from pulumi_mailinfra.greenarrow import lookups
from pulumi_mailinfra.greenarrow.providers import (
    RelayServerProvider,
    RouteProvider,
    ThrottlingRuleProvider,
    ThrottlingTemplateProvider,
)
from tests.conftest import Emulator
from tests.provider.harness import Engine, configured

RELAY: dict[str, Any] = {
    "name": "relay-1",
    "source_ip": {"ip": "192.0.2.1", "hostname": "out.example.com"},
    "destination": {"hostname": "dest.example.com", "port": 25.0, "username": "u", "password": "secret-pw-123"},
    "throttle_limits": {"max_concurrent_connections": 2.0, "max_messages_per_hour": 0.0},
    "redirect": None,
}
RULE = {"domains": ["a.com"], "max_concurrent_connections": 1, "max_messages_per_hour": 0, "throttle_program": None}


def test_relay_crud_round_trip(emulator: Emulator) -> None:
    provider = configured(RelayServerProvider, emulator)
    created = provider.create(dict(RELAY))
    assert created.outs["name"] == "relay-1"
    read = provider.read(created.id, created.outs)
    assert read.id == created.id and read.outs == created.outs  # no drift right after create
    news = {**RELAY, "destination": {**RELAY["destination"], "port": 587}}
    updated = provider.update(created.id, created.outs, news)
    assert updated.outs["destination"]["port"] == 587
    assert set(updated.outs) >= set(RELAY)  # update returns the full outputs
    provider.delete(created.id, updated.outs)
    assert provider.read(created.id, updated.outs).id is None
    provider.delete(created.id, updated.outs)  # deleting an already-gone object succeeds


def test_api_rejection_quotes_the_api_and_hides_the_password(emulator: Emulator) -> None:
    provider = configured(RelayServerProvider, emulator)
    provider.create(dict(RELAY))
    with pytest.raises(errors.MailinfraError) as failure:
        provider.create({**RELAY, "name": "RELAY-1"})  # names are unique case-insensitively
    assert "relay_server.name" in str(failure.value)
    assert "secret-pw-123" not in str(failure.value)


def test_update_of_object_deleted_out_of_band_says_refresh(emulator: Emulator) -> None:
    provider = configured(RelayServerProvider, emulator)
    created = provider.create(dict(RELAY))
    emulator.client().request("DELETE", f"/ga/api/v3/eng/relay_servers/{created.id}")
    with pytest.raises(errors.MailinfraError, match="refresh"):
        provider.update(created.id, created.outs, {**RELAY, "name": "relay-2"})


def test_create_converges_through_429_and_5xx(emulator: Emulator) -> None:
    emulator.fault(kind="status", status=429, retry_after=0.2, times=2, method="POST")
    emulator.fault(kind="status", status=503, times=2, method="GET")
    provider = configured(RelayServerProvider, emulator)
    created = provider.create(dict(RELAY))
    assert provider.read(created.id, created.outs).id == created.id
    assert emulator.names("/relay_servers", "relay_servers") == ["relay-1"]


def test_dropped_connection_after_post_does_not_duplicate(emulator: Emulator) -> None:
    emulator.fault(kind="drop_after_write", times=1, method="POST", path="relay_servers$")
    provider = configured(RelayServerProvider, emulator)
    created = provider.create(dict(RELAY))
    assert emulator.names("/relay_servers", "relay_servers") == ["relay-1"]
    assert created.outs["name"] == "relay-1"


def test_5xx_on_post_before_write_is_retried_after_lookup(emulator: Emulator) -> None:
    emulator.fault(kind="status", status=502, times=2, method="POST", path="relay_servers$")
    created = configured(RelayServerProvider, emulator).create(dict(RELAY))
    assert emulator.names("/relay_servers", "relay_servers") == ["relay-1"]
    assert created.id


def test_adopt_existing_by_name(emulator: Emulator) -> None:
    provider = configured(RelayServerProvider, emulator)
    first = provider.create(dict(RELAY))
    adopted = provider.create({**RELAY, "name": "Relay-1", "adopt_existing": True})
    assert adopted.id == first.id
    assert emulator.names("/relay_servers", "relay_servers") == ["Relay-1"]


def test_template_rule_ids_stay_stable_through_edits(emulator: Emulator) -> None:
    provider = configured(ThrottlingTemplateProvider, emulator)
    base = {"name": "t", "default": {"max_concurrent_connections": 1, "max_messages_per_hour": 0}}
    b = {**RULE, "domains": ["b.com"]}
    created = provider.create({**base, "rules": [RULE, b]})
    ids = created.outs["rule_ids"]
    reordered = provider.update(created.id, created.outs, {**base, "rules": [b, RULE]})
    assert reordered.outs["rule_ids"] == [ids[1], ids[0]]
    c = {**RULE, "domains": ["c.com"], "max_messages_per_hour": 5}
    edited = provider.update(created.id, reordered.outs, {**base, "rules": [{**b, "max_concurrent_connections": 9}, c]})
    # b.com keeps its id (same domains); the a.com rule's id is reused for c.com (edited in place).
    assert edited.outs["rule_ids"] == [ids[1], ids[0]]
    live = emulator.client().get(f"/ga/api/v3/eng/throttling_templates/{created.id}")["throttling_template"]
    assert {r["id"]: r["domains"] for r in live["rules"]} == {ids[1]: ["b.com"], ids[0]: ["c.com"]}
    grown = provider.update(created.id, edited.outs, {**base, "rules": [b, c, RULE]})
    assert grown.outs["rule_ids"][:2] == [ids[1], ids[0]] and grown.outs["rule_ids"][2] not in ids  # via rules_new
    shrunk = provider.update(created.id, grown.outs, {**base, "rules": [c]})
    assert shrunk.outs["rule_ids"] == [ids[0]]
    assert provider.read(created.id, shrunk.outs).outs == shrunk.outs


def test_standalone_rule_read_and_unmanaged_template_reports_no_drift(emulator: Emulator) -> None:
    templates = configured(ThrottlingTemplateProvider, emulator)
    base = {"default": {"max_concurrent_connections": 1, "max_messages_per_hour": 0}}
    t1 = templates.create({**base, "name": "pool-1"})
    rules = configured(ThrottlingRuleProvider, emulator)
    rule = rules.create({**RULE, "template_id": int(t1.id)})
    assert rules.read(rule.id, rule.outs).outs == rule.outs
    # The template, managed without inline rules, does not report the standalone rule as drift.
    assert templates.read(t1.id, t1.outs).outs == t1.outs
    rules.delete(rule.id, rule.outs)
    assert rules.read(rule.id, rule.outs).id is None


def test_template_in_use_cannot_be_deleted_and_used_by_lists_users(emulator: Emulator) -> None:
    templates = configured(ThrottlingTemplateProvider, emulator)
    t1 = templates.create({"name": "pool-1", "default": {"max_concurrent_connections": 1, "max_messages_per_hour": 0}})
    ga = emulator.client()
    ga.request("POST", "/ga/api/v3/eng/ip_addresses", json={"ip_address": {
        "name": "ip-1", "ip": "192.0.2.50", "hostname": "ip1.example.com", "throttling_template": {"id": int(t1.id)}}})
    assert [u["name"] for u in lookups.used_by(t1.id, client=ga)] == ["ip-1"]
    with pytest.raises(errors.MailinfraError, match="ip-1"):
        templates.delete(t1.id, t1.outs)


def test_route_computed_outputs_and_overflow(emulator: Emulator) -> None:
    provider = configured(RouteProvider, emulator)
    overflow = provider.create({"name": "overflow", "requested_target_daily_volume": 25000})
    main = provider.create({"name": "main", "requested_target_daily_volume": 50000,
                            "overflow_route": {"id": overflow.id}})
    assert main.outs["recommended_max_daily_volume"] == 25000
    assert main.outs["recommended_max_delivery_rate_per_hour"] == 10000
    assert main.outs["routing_rule"]["name"] == f"main R{main.id}"
    assert main.outs["overflow_route"] == {"id": int(overflow.id)}  # as `check` records it
    renamed = provider.update(main.id, main.outs, {**main.outs, "name": "renamed", "routing_rule": None})
    assert renamed.outs["routing_rule"]["name"] == f"renamed R{main.id}"
    with pytest.raises(errors.MailinfraError, match="renamed"):
        provider.delete(overflow.id, overflow.outs)


def test_lookups_by_name(emulator: Emulator) -> None:
    configured(RelayServerProvider, emulator).create(dict(RELAY))
    ga = emulator.client()
    found = lookups.find("relay_server", "RELAY-1", client=ga)
    assert found["name"] == "relay-1" and found["destination"]["password"] is None
    with pytest.raises(errors.NotFoundError):
        lookups.find("route", "nope", client=ga)


def test_wrong_credentials_fail_with_a_typed_error(emulator: Emulator) -> None:
    provider = configured(RelayServerProvider, emulator, **{"mailinfra:greenarrowPassword": "wrong"})
    with pytest.raises(errors.MailinfraError, match="401"):
        provider.create(dict(RELAY))


def test_lost_create_answer_never_takes_over_a_different_object(emulator: Emulator) -> None:
    provider = configured(RelayServerProvider, emulator)
    provider.create({**RELAY, "destination": {**RELAY["destination"], "hostname": "someone-else.example.com"}})
    emulator.fault(kind="status", status=502, times=1, method="POST", path="relay_servers$")
    with pytest.raises(errors.MailinfraError, match="adopt_existing"):
        provider.create(dict(RELAY))


TEMPLATE_BASE = {"name": "t", "default": {"max_concurrent_connections": 1, "max_messages_per_hour": 0}}


def test_template_update_survives_a_dropped_rules_new_answer(emulator: Emulator) -> None:
    provider = configured(ThrottlingTemplateProvider, emulator)
    created = provider.create({**TEMPLATE_BASE, "rules": [RULE]})
    emulator.fault(kind="drop_after_write", times=1, method="PUT", path="throttling_templates/[0-9]+$")
    b = {**RULE, "domains": ["b.com"]}
    updated = provider.update(created.id, created.outs, {**TEMPLATE_BASE, "rules": [RULE, b]})
    live = emulator.client().get(f"/ga/api/v3/eng/throttling_templates/{created.id}")["throttling_template"]
    assert [r["domains"] for r in live["rules"]] == [["a.com"], ["b.com"]]  # appended once
    assert updated.outs["rule_ids"] == [r["id"] for r in live["rules"]]


def test_template_update_plans_against_live_rules(emulator: Emulator) -> None:
    provider = configured(ThrottlingTemplateProvider, emulator)
    b = {**RULE, "domains": ["b.com"]}
    created = provider.create({**TEMPLATE_BASE, "rules": [RULE, b]})
    ga = emulator.client()
    base_path = f"/ga/api/v3/eng/throttling_templates/{created.id}"
    ga.request("DELETE", f"{base_path}/throttling_rules/{created.outs['rule_ids'][0]}")  # out of band
    # Move b.com to the first rule and give the second rule c.com: needs ordered PUTs.
    moved = [{**RULE, "domains": ["b.com", "y.com"]}, {**RULE, "domains": ["c.com"]}]
    updated = provider.update(created.id, created.outs, {**TEMPLATE_BASE, "rules": moved})
    live = ga.get(base_path)["throttling_template"]["rules"]
    assert sorted(r["domains"] for r in live) == [["b.com", "y.com"], ["c.com"]]
    assert provider.read(created.id, updated.outs).outs == updated.outs


@pytest.mark.parametrize("kind", ["relay", "template", "rule", "route"])
def test_creating_again_what_exists_takes_it_over_instead_of_duplicating(emulator: Emulator, kind: str) -> None:
    """The state of a create was lost (a killed `up`): the next create finds the object and takes it over."""
    template = Engine(configured(ThrottlingTemplateProvider, emulator)).create(
        {"name": "partner", "default": {"max_concurrent_connections": 4, "max_messages_per_hour": 0}})
    provider_class, inputs, listed, key = {
        "relay": (RelayServerProvider, dict(RELAY), "/relay_servers", "relay_servers"),
        "template": (ThrottlingTemplateProvider, {"name": "standard", "default": {"max_concurrent_connections": 10,
                     "max_messages_per_hour": 0}, "rules": [RULE]}, "/throttling_templates", "throttling_templates"),
        "rule": (ThrottlingRuleProvider, {**RULE, "template_id": template.id}, None, None),
        "route": (RouteProvider, {"name": "main", "requested_target_daily_volume": 1000}, "/routes", "routes"),
    }[kind]
    client = emulator.client()

    def count() -> int:
        if listed is None:
            return len(client.get(f"/ga/api/v3/eng/throttling_templates/{template.id}")["throttling_template"]["rules"])
        return len(list(client.list_all(listed, key)))

    first = Engine(configured(provider_class, emulator)).create(inputs)
    before = count()
    again = Engine(configured(provider_class, emulator), owner=first.owner).create(inputs)  # same resource
    assert (again.id, count()) == (first.id, before) and not again.changes()
    with pytest.raises(errors.MailinfraError, match="differs from the inputs"):
        changed = {**inputs, "requested_target_daily_volume": 2000} if kind == "route" else \
            {**inputs, "max_concurrent_connections": 9} if kind == "rule" else \
            {**inputs, "default": {"max_concurrent_connections": 9, "max_messages_per_hour": 0}} if kind == "template" \
            else {**inputs, "throttle_limits": {"max_concurrent_connections": 9, "max_messages_per_hour": 0}}
        Engine(configured(provider_class, emulator), owner=first.owner).create(changed)
    assert count() == before
    # Another resource (another stack, say) declaring the same object is refused, naming who set out to make it.
    with pytest.raises(errors.MailinfraError, match=r"this resource did not make it \(organization/harness/dev: "):
        Engine(configured(provider_class, emulator)).create(inputs)
    assert count() == before
    # ...also when the answer to its create is lost: the object found then is the other's, not this call's.
    emulator.fault(kind="drop_after_write", times=1, method="POST")
    with pytest.raises(errors.MailinfraError, match=r"this resource did not make it \(organization/harness/dev: "):
        Engine(configured(provider_class, emulator)).create(inputs)
    emulator.clear_faults()
    assert count() == before


def test_a_failed_look_first_leaves_the_journal_as_it_was(emulator: Emulator) -> None:
    """Review of issue 23: the journal recorded the second resource before its look-first read; when that read
    failed nothing undid it, so its next create found `previous == owner` and took the first one's object over."""
    Engine(configured(RelayServerProvider, emulator)).create(dict(RELAY))
    emulator.fault(kind="status", status=401, method="GET", times=3)
    with pytest.raises(errors.MailinfraError, match="HTTP 401"):
        Engine(configured(RelayServerProvider, emulator), owner="org/other/dev: RelayServer 'x'").create(dict(RELAY))
    emulator.clear_faults()
    with pytest.raises(errors.MailinfraError, match=r"this resource did not make it \(organization/harness/dev: "):
        Engine(configured(RelayServerProvider, emulator), owner="org/other/dev: RelayServer 'x'").create(dict(RELAY))
