"""Every documented GreenArrow constraint, both sides of each bound, through the same `failures()` that
`check` uses at preview time."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.output import Unknown

from pulumi_mailinfra.greenarrow.models import (
    MAX_RULES_PER_TEMPLATE,
    RelayServerModel,
    RouteModel,
    ThrottlingRuleModel,
    ThrottlingTemplateModel,
)
from pulumi_mailinfra.reconcile import is_unknown
from pulumi_mailinfra.validation import failures
from tests.payloads import relay_payload


def relay(**overrides: Any) -> dict[str, Any]:
    return relay_payload(**overrides)


def paths(model: type, values: dict[str, Any]) -> list[str]:
    return [p for p, _ in failures(model, values, is_unknown)]


def test_documented_example_is_valid() -> None:
    assert paths(RelayServerModel, relay()) == []


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("a", True),
        ("x" * 200, True),
        ("x" * 201, False),
        ("", False),
        ("relay one", True),
        ("relay,one", False),
        ("relay#one", False),
        ("relay@one", False),
        ("relay\tone", False),
        ("relay\u00e9", False),
        ("~!$%^&*()", True),
        (" relay", False),
        ("relay ", False),
        ("12345", False),
        ("-7", False),
        ("12a", True),
    ],
)
def test_virtual_mta_name_rules(name: str, ok: bool) -> None:
    assert (paths(RelayServerModel, relay(name=name)) == []) is ok


@pytest.mark.parametrize(
    ("ip", "ok"), [("192.0.2.1", True), ("255.255.255.255", True), ("256.0.0.1", False), ("1.2.3", False),
                   ("::1", False), ("host.example", False)]
)
def test_source_ip_must_be_ipv4(ip: str, ok: bool) -> None:
    assert (paths(RelayServerModel, relay(source_ip__ip=ip)) == []) is ok


@pytest.mark.parametrize(
    ("hostname", "ok"),
    [("a", True), ("mail.example.com", True), ("-mail.example.com", False), ("mail.example.com.", False),
     ("x" * 200, True), ("x" * 201, False), ("", False), ("1.2.3.4", True), ("h.com\n", False)],
)
def test_hostnames_start_and_end_with_letter_or_digit(hostname: str, ok: bool) -> None:
    assert (paths(RelayServerModel, relay(source_ip__hostname=hostname)) == []) is ok
    assert (paths(RelayServerModel, relay(destination__hostname=hostname)) == []) is ok


@pytest.mark.parametrize(
    ("port", "ok"), [(0, False), (1, True), (25.0, True), (65535, True), (65536, False), (25.5, False),
                     ("25", False), (True, False)]
)
def test_port_range(port: Any, ok: bool) -> None:
    assert (paths(RelayServerModel, relay(destination__port=port)) == []) is ok


@pytest.mark.parametrize("field", ["username", "password"])
def test_credentials_at_most_200_chars(field: str) -> None:
    assert paths(RelayServerModel, relay(**{f"destination__{field}": "x" * 200})) == []
    assert paths(RelayServerModel, relay(**{f"destination__{field}": "x" * 201})) == [f"destination.{field}"]
    assert paths(RelayServerModel, relay(**{f"destination__{field}": None})) == []


@pytest.mark.parametrize("field", ["max_concurrent_connections", "max_messages_per_hour"])
def test_limits_zero_means_unlimited_negative_rejected(field: str) -> None:
    assert paths(RelayServerModel, relay(**{f"throttle_limits__{field}": 0})) == []
    assert paths(RelayServerModel, relay(**{f"throttle_limits__{field}": -1})) == [f"throttle_limits.{field}"]


def test_redirect_by_id_or_name_and_id_from_another_resource() -> None:
    assert paths(RelayServerModel, relay(redirect={"name": "ipaddr-1"})) == []
    assert paths(RelayServerModel, relay(redirect={"id": 20})) == []
    assert paths(RelayServerModel, relay(redirect={"id": "20"})) == []  # a resource id output is a string
    assert paths(RelayServerModel, relay(redirect={})) == ["redirect"]
    assert paths(RelayServerModel, relay(redirect={"type": "ip_address", "id": 3})) == ["redirect.type"]


def test_unknown_attributes_are_rejected_by_name() -> None:
    assert paths(RelayServerModel, relay(destination__prot=25)) == ["destination.prot"]


def test_unknown_values_pass_during_preview() -> None:
    values = relay(name=Unknown(), source_ip=Unknown(), destination__port=Unknown(), redirect={"id": Unknown()})
    assert paths(RelayServerModel, values) == []
    # ... while a known bad value next to them is still reported.
    values["destination"]["hostname"] = "-bad"
    assert paths(RelayServerModel, values) == ["destination.hostname"]


def rule(*domains: str, **extra: Any) -> dict[str, Any]:
    return {"domains": list(domains), "max_concurrent_connections": 1, "max_messages_per_hour": 0, **extra}


def template(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"name": "Basic Template", "default": {"max_concurrent_connections": 1, "max_messages_per_hour": 60},
            "rules": list(rules)}


@pytest.mark.parametrize(
    ("domain", "ok"),
    [("example.com", True), ("*.example.com", True), ("[*.]example.com", True), ("localhost", True),
     ("*example.com", False), ("[*]example.com", False), ("ex ample.com", False), ("-x.com", False),
     ("a..com", False), ("", False), ("ex.com\n", False), ("[*.]" + "a" * 60 + ".b" * 96, True)],
)
def test_domain_patterns(domain: str, ok: bool) -> None:
    assert (paths(ThrottlingTemplateModel, template(rule(domain))) == []) is ok


def test_domain_once_per_template_case_insensitive() -> None:
    assert paths(ThrottlingTemplateModel, template(rule("a.com"), rule("b.com"))) == []
    assert paths(ThrottlingTemplateModel, template(rule("a.com"), rule("A.COM"))) == ["(resource)"]
    assert paths(ThrottlingTemplateModel, template(rule("a.com", "a.com"))) == ["rules[0]"]
    # `*.a.com` and `a.com` are different patterns and may coexist.
    assert paths(ThrottlingTemplateModel, template(rule("a.com"), rule("*.a.com"))) == []


def test_rule_count_limit() -> None:
    many = [rule(f"d{i}.com") for i in range(MAX_RULES_PER_TEMPLATE)]
    assert paths(ThrottlingTemplateModel, template(*many)) == []
    assert paths(ThrottlingTemplateModel, template(*many, rule("one-more.com"))) == ["rules"]


def test_rule_needs_a_domain_and_valid_program_reference() -> None:
    assert paths(ThrottlingTemplateModel, template(rule())) == ["rules[0].domains"]
    ok = template(rule("a.com", throttle_program={"name": "Automatic Backoff"}))
    assert paths(ThrottlingTemplateModel, ok) == []
    assert paths(ThrottlingTemplateModel, template(rule("a.com", throttle_program={}))) == ["rules[0].throttle_program"]


@pytest.mark.parametrize(("name", "ok"), [("x" * 200, True), ("x" * 201, False), ("", False), ("Tier 1, bulk", True),
                                         ("42", True), (" t", False), ("t\u00e9", False)])
def test_template_name_rules(name: str, ok: bool) -> None:
    assert (paths(ThrottlingTemplateModel, {**template(), "name": name}) == []) is ok


def test_template_default_required() -> None:
    values = template()
    del values["default"]
    assert paths(ThrottlingTemplateModel, values) == ["default"]


def test_standalone_rule_needs_template() -> None:
    assert paths(ThrottlingRuleModel, rule("a.com", template_id=3)) == []
    assert paths(ThrottlingRuleModel, rule("a.com", template_id=0)) == ["template_id"]


@pytest.mark.parametrize(
    ("name", "ok"),
    [("my-route", True), ("My route_1.2", True), ("x" * 180, True), ("x" * 181, False), ("", False),
     ("route/1", False), ("route,1", False), ("42", False), ("-12", False), ("route@x", False),
     (" route", False), ("route ", False), ("abc\n", False)],
)
def test_route_name_rules(name: str, ok: bool) -> None:
    assert (paths(RouteModel, {"name": name, "requested_target_daily_volume": 50000}) == []) is ok


def test_route_volume_and_overflow() -> None:
    assert paths(RouteModel, {"name": "r", "requested_target_daily_volume": 1}) == []
    assert paths(RouteModel, {"name": "r", "requested_target_daily_volume": 0}) == ["requested_target_daily_volume"]
    assert paths(RouteModel, {"name": "r", "requested_target_daily_volume": 1, "overflow_route": {"id": "4"}}) == []
