"""Diff decisions and drift reconciliation: the logic that makes a preview tell the truth."""

from __future__ import annotations

from typing import Any

from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from pulumi_mailinfra.greenarrow.providers import (
    RelayServerProvider,
    ThrottlingRuleProvider,
    ThrottlingTemplateProvider,
    plan_rule_changes,
)
from pulumi_mailinfra.reconcile import reconcile

RELAY = {
    "name": "relay-1",
    "source_ip": {"ip": "127.0.0.2", "hostname": "out.example.com"},
    "destination": {"hostname": "dest.example.com", "port": 25.0, "username": "u", "password": "p"},
    "throttle_limits": {"max_concurrent_connections": 2.0, "max_messages_per_hour": 0.0},
    "redirect": {"name": "Relay-B"},
}


def test_no_changes_when_inputs_match_recorded_outputs_despite_float_numbers() -> None:
    olds = {**RELAY, "destination": {**RELAY["destination"], "port": 25}, "__provider": "x"}
    result = RelayServerProvider().diff("1", olds, dict(RELAY))
    assert result.changes is False
    assert result.replaces == []


def test_dropping_adopt_existing_after_the_first_up_changes_nothing() -> None:
    result = RelayServerProvider().diff("1", {**RELAY, "adopt_existing": True}, dict(RELAY))
    assert result.changes is False


def test_changed_field_is_an_in_place_update() -> None:
    news = {**RELAY, "destination": {**RELAY["destination"], "port": 587}}
    result = RelayServerProvider().diff("1", dict(RELAY), news)
    assert result.changes is True
    assert result.replaces == []
    assert "destination" not in result.stables


def test_unknown_input_during_preview_counts_as_change() -> None:
    news = {**RELAY, "redirect": {"id": Unknown()}}
    result = RelayServerProvider().diff("1", dict(RELAY), news)
    assert result.changes is True


def test_template_id_forces_replacement_of_a_rule() -> None:
    olds = {"template_id": 3, "domains": ["a.com"], "max_concurrent_connections": 1, "max_messages_per_hour": 0,
            "throttle_program": None}
    same = ThrottlingRuleProvider().diff("9", olds, dict(olds))
    moved = ThrottlingRuleProvider().diff("9", olds, {**olds, "template_id": 4.0})
    assert same.changes is False
    assert moved.changes is True and moved.replaces == ["template_id"]
    assert moved.delete_before_replace is False  # rules have no unique name: create first, then delete


def test_check_reports_field_paths_and_lets_unknowns_pass() -> None:
    provider = RelayServerProvider()
    bad = {**RELAY, "destination": {**RELAY["destination"], "port": 70000}, "colour": "red"}
    result = provider.check({}, bad)
    # The engine looks a failure's property up as a top-level key only, so the path and the offending value
    # travel in the reason: it prints "resource 'x' has a problem: destination.port: ... (got 70000)".
    assert [f.property for f in result.failures] == ["", ""]
    reasons = sorted(f.reason for f in result.failures)
    assert reasons[0].startswith("colour: is not an input of RelayServer; it takes name, source_ip")
    assert reasons[1] == "destination.port: Input should be less than or equal to 65535 (got 70000)"
    pending = provider.check({}, {**RELAY, "name": Unknown(), "redirect": {"id": Unknown()}})
    assert pending.failures == []
    # Unknowns go back to the engine as its wire sentinel (the SDK cannot serialise Unknown objects).
    assert pending.inputs["name"] == UNKNOWN and pending.inputs["redirect"] == {"id": UNKNOWN}


def test_check_message_never_contains_the_password() -> None:
    provider = RelayServerProvider()
    secret = "s3cr3t-value-" + "x" * 200  # too long: a failure on the password field itself
    result = provider.check({}, {**RELAY, "destination": {**RELAY["destination"], "password": secret}})
    assert [f.reason.split(":")[0] for f in result.failures] == ["destination.password"]
    assert all(secret not in f.reason and "s3cr3t" not in f.reason for f in result.failures)
    assert result.failures[0].reason.endswith("(got a secret value)")


def test_check_returns_inputs_as_the_model_reads_them() -> None:
    destination = {"hostname": "dest.example.com", "port": 25}
    relay = RelayServerProvider().check({}, {**RELAY, "destination": destination, "throttle_limits": None})
    # Nested keys left out are recorded as their documented default, so a value set out of band shows as drift.
    assert relay.inputs["destination"]["username"] is None and "password" in relay.inputs["destination"]
    assert relay.inputs["throttle_limits"] == {"max_concurrent_connections": 0, "max_messages_per_hour": 0}
    rule = ThrottlingRuleProvider().check({}, {"template_id": "12", "domains": ["a.com"],
                                               "max_concurrent_connections": 1.0, "max_messages_per_hour": 0})
    assert rule.failures == [] and rule.inputs["template_id"] == 12  # another resource's id output is a string
    assert rule.inputs["max_concurrent_connections"] == 1 and rule.inputs.get("throttle_program") is None
    # ... and a state written before defaults were filled in does not differ from it.
    old = {k: v for k, v in rule.inputs.items() if k != "throttle_program"}
    assert ThrottlingRuleProvider().diff("9", old, rule.inputs).changes is False


def test_reconcile_keeps_user_spelling_when_equivalent() -> None:
    actual_redirect = {"type": "relay_server", "id": 7, "name": "relay-b"}
    assert reconcile({"name": "Relay-B"}, actual_redirect) == {"name": "Relay-B"}
    assert reconcile({"id": "7"}, actual_redirect) == {"id": "7"}
    assert reconcile({"id": 8}, actual_redirect) == {"id": 7, "name": "relay-b"}
    assert reconcile(None, actual_redirect) == actual_redirect  # a redirect added out of band
    assert reconcile({"port": 25.0, "hostname": "h"}, {"port": 26, "hostname": "h"}) == {"port": 26, "hostname": "h"}


def test_relay_outputs_report_drift_only_where_the_api_differs() -> None:
    record: dict[str, Any] = {
        "id": 16, "name": "relay-1", "source_ip": {"ip": "127.0.0.2", "hostname": "out.example.com"},
        "destination": {"hostname": "dest.example.com", "port": 2525, "username": "u", "password": "p"},
        "throttle_limits": {"max_concurrent_connections": 2, "max_messages_per_hour": 0},
        "redirect": {"type": "relay_server", "id": 7, "name": "relay-b"},
    }
    outs = RelayServerProvider().outputs(RELAY, record)
    assert outs["redirect"] == {"name": "Relay-B"}
    assert outs["destination"]["port"] == 2525
    diff = RelayServerProvider().diff("16", outs, dict(RELAY))
    assert diff.changes is True and diff.stables and "destination" not in diff.stables


def _rule(*domains: str, **extra: Any) -> dict[str, Any]:
    return {"domains": list(domains), "max_concurrent_connections": 1, "max_messages_per_hour": 0,
            "throttle_program": None, **extra}


def test_rule_plan_keeps_ids_on_reorder_and_edits_in_place() -> None:
    a, b, c = _rule("a.com"), _rule("b.com"), _rule("c.com", max_concurrent_connections=3)
    live = [{"id": 11, **a}, {"id": 12, **b}]
    assert plan_rule_changes(live, [b, a]) == ([], [], [], [12, 11])
    b2 = {**b, "max_messages_per_hour": 100}
    deletes, updates, additions, assigned = plan_rule_changes(live, [a, b2, c])
    assert deletes == [] and updates == [(12, b2)] and additions == [c] and assigned == [11, 12, None]
    deletes, updates, additions, assigned = plan_rule_changes(live, [b])
    assert deletes == [11] and updates == [] and assigned == [12]


def test_rule_plan_matches_program_by_name_against_resolved_reference() -> None:
    wanted = _rule("a.com", throttle_program={"name": "automatic backoff"})
    live = [{"id": 11, **_rule("a.com", throttle_program={"id": 1, "name": "Automatic Backoff"})}]
    assert plan_rule_changes(live, [wanted]) == ([], [], [], [11])


def test_rule_plan_orders_puts_so_no_domain_is_held_twice() -> None:
    live = [{"id": 1, **_rule("a.com", "x.com")}, {"id": 2, **_rule("b.com")}]
    # x.com moves from rule 1 to rule 2: rule 1 must let go of it first.
    _, updates, _, assigned = plan_rule_changes(live, [_rule("a.com"), _rule("b.com", "x.com")])
    assert assigned == [1, 2] and [rid for rid, _ in updates] == [1, 2]
    # A swap where each keeps a domain: shrink one first, then both take their final shape.
    live = [{"id": 1, **_rule("a.com", "k1.com")}, {"id": 2, **_rule("b.com", "k2.com")}]
    _, updates, _, _ = plan_rule_changes(live, [_rule("b.com", "k1.com"), _rule("a.com", "k2.com")])
    assert updates[0] == (1, _rule("k1.com"))
    held: dict[str, int] = {"a.com": 1, "k1.com": 1, "b.com": 2, "k2.com": 2}
    for rid, rule in updates:  # replay: never two rules holding one domain
        for d in [d for d, owner in held.items() if owner == rid]:
            del held[d]
        assert not set(rule["domains"]) & set(held)
        held.update({d: rid for d in rule["domains"]})
    # Rules that swap domains with the same sets simply keep their ids (matched by domain set).
    live = [{"id": 1, **_rule("a.com")}, {"id": 2, **_rule("b.com")}]
    assert plan_rule_changes(live, [_rule("b.com"), _rule("a.com")]) == ([], [], [], [2, 1])
    # Reorder plus extend: matched by domain overlap, each rule keeps its id and only gains a domain.
    deletes, updates, additions, assigned = plan_rule_changes(live, [_rule("b.com", "x.com"), _rule("a.com", "y.com")])
    assert (deletes, additions, assigned) == ([], [], [2, 1])
    assert sorted(updates, key=lambda u: u[0]) == [(1, _rule("a.com", "y.com")), (2, _rule("b.com", "x.com"))]
    # A template taking over rules it did not manage claims none of them: delete all, add all.
    assert plan_rule_changes(live, [_rule("a.com")], claim=False) == ([1, 2], [], [_rule("a.com")], [None])


def test_template_outputs_follow_rule_ids_and_surface_out_of_band_rules() -> None:
    a = {"domains": ["a.com"], "max_concurrent_connections": 1, "max_messages_per_hour": 0, "throttle_program": None}
    inputs = {"name": "t", "default": {"max_concurrent_connections": 1, "max_messages_per_hour": 0},
              "rules": [a], "rule_ids": [11]}
    record = {"id": 5, "name": "t", "default": inputs["default"], "rules": [
        {"id": 11, **a}, {"id": 40, "domains": ["x.com"], "max_concurrent_connections": 9,
                          "max_messages_per_hour": 0, "throttle_program": None}]}
    outs = ThrottlingTemplateProvider().outputs(inputs, record)
    assert outs["rule_ids"] == [11, 40]
    assert outs["rules"][0] == a  # an explicit null stays: a program set out of band must show as drift
    assert outs["rules"][1]["domains"] == ["x.com"]
    assert ThrottlingTemplateProvider().diff("5", outs, {k: v for k, v in inputs.items() if k != "rule_ids"}).changes


def test_lists_at_unordered_paths_compare_as_sets() -> None:
    from pulumi_mailinfra.reconcile import changed_keys

    old = {"domains": ["a.com", "b.com"], "rules": [{"domains": ["x.com", "y.com"], "max": 1}, {"domains": ["z.com"]}]}
    reordered = {"domains": ["b.com", "a.com"], "rules": [{"domains": ["z.com"]}, {"domains": ["y.com", "x.com"],
                                                                                  "max": 1.0}]}
    unordered = ("domains", "rules", "rules[].domains")
    assert changed_keys(old, reordered, ["domains", "rules"], unordered) == []
    assert changed_keys(old, reordered, ["domains", "rules"]) == ["domains", "rules"]  # order counts elsewhere
    assert changed_keys(old, {**reordered, "domains": ["a.com"]}, ["domains", "rules"], unordered) == ["domains"]
    assert changed_keys(old, {**old, "rules": [{"domains": ["x.com", "y.com"], "max": 2}, {"domains": ["z.com"]}]},
                        ["rules"], unordered) == ["rules"]
