"""Defects found by trying to break the GreenArrow resources (issue 12), each driven through the provider the
way the engine drives it (check, then create / diff / update / read) against the emulator over HTTP."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from pulumi.output import Unknown

from pulumi_mailinfra import errors
from pulumi_mailinfra.greenarrow.models import ThrottlingTemplateModel
from pulumi_mailinfra.greenarrow.providers import (
    RelayServerProvider,
    ThrottlingRuleProvider,
    ThrottlingTemplateProvider,
)
from pulumi_mailinfra.reconcile import is_unknown
from pulumi_mailinfra.validation import failures
from tests.conftest import Emulator
from tests.provider.harness import Engine, configured

API = "/ga/api/v3/eng"
DEFAULT = {"max_concurrent_connections": 10.0, "max_messages_per_hour": 0.0}


def rule(*domains: str, **extra: Any) -> dict[str, Any]:
    return {"domains": list(domains), "max_concurrent_connections": 1.0, "max_messages_per_hour": 0.0, **extra}


def template_rules(emulator: Emulator, template_id: str) -> list[dict[str, Any]]:
    return emulator.client().get(f"{API}/throttling_templates/{template_id}")["throttling_template"]["rules"]


# 3. Credentials added out of band to a relay that declares none are drift, and `up` reverts them.
def test_credentials_added_out_of_band_are_drift_and_reverted(emulator: Emulator) -> None:
    relay = Engine(configured(RelayServerProvider, emulator)).create({
        "name": "fallback", "source_ip": {"ip": "192.0.2.1", "hostname": "out.example.com"},
        "destination": {"hostname": "dest.example.com", "port": 25.0, "username": "relay"}})
    path = f"{API}/relay_servers/{relay.id}"
    ga = emulator.client()
    ga.request("PUT", path, json={"relay_server": {"destination": {
        "hostname": "dest.example.com", "port": 25, "username": "relay", "password": "planted-pw"}}})
    assert not relay.changes()
    relay.refresh()
    assert relay.changes()  # refresh reported it; the next up will revert it
    relay.update(relay.inputs)
    assert ga.get(path)["relay_server"]["destination"]["password"] is None
    assert not relay.changes()


# 4. A throttle program set out of band on an inline rule that declares none is drift too.
def test_throttle_program_set_out_of_band_is_drift_and_reverted(emulator: Emulator) -> None:
    template = Engine(configured(ThrottlingTemplateProvider, emulator)).create(
        {"name": "t", "default": DEFAULT, "rules": [rule("a.com")]})
    rule_id = int(template.outputs["rule_ids"][0])  # a float, as every number the engine hands over
    emulator.client().request("PUT", f"{API}/throttling_templates/{template.id}/throttling_rules/{rule_id}",
                              json={"throttling_rule": {"domains": ["a.com"], "max_concurrent_connections": 1,
                                                        "max_messages_per_hour": 0, "throttle_program": {"id": 1}}})
    template.refresh()
    assert template.changes()
    template.update(template.inputs)
    assert template_rules(emulator, template.id)[0]["throttle_program"] is None


# 6. A throttle program by id (the docs' own form, a float on the wire) matches; a lost POST answer is found.
def test_throttle_program_by_id_matches_and_survives_a_lost_create_answer(emulator: Emulator) -> None:
    emulator.fault(kind="drop_after_write", times=1, method="POST", path="throttling_templates$")
    template = Engine(configured(ThrottlingTemplateProvider, emulator)).create(
        {"name": "by-id", "default": DEFAULT, "rules": [rule("a.com", throttle_program={"id": 1.0})]})
    assert emulator.names("/throttling_templates", "throttling_templates") == ["by-id"]
    assert not template.changes()
    template.refresh()
    assert not template.changes()


# 2a. A misspelt throttle program is refused before any rule is deleted.
def test_misspelt_throttle_program_changes_nothing(emulator: Emulator) -> None:
    template = Engine(configured(ThrottlingTemplateProvider, emulator)).create(
        {"name": "t", "default": DEFAULT, "rules": [rule("a.com"), rule("b.com"), rule("c.com")]})
    before = template_rules(emulator, template.id)
    with pytest.raises(errors.MailinfraError, match="Automatic Backof"):
        template.update({"name": "t", "default": DEFAULT, "rules": [
            rule("a.com"), rule("b.com", throttle_program={"name": "Automatic Backof"})]})
    assert template_rules(emulator, template.id) == before


# 2b. A rename to a taken name together with a rule change is refused before any rule is edited.
def test_rename_to_a_taken_name_changes_nothing(emulator: Emulator) -> None:
    provider = configured(ThrottlingTemplateProvider, emulator)
    Engine(provider).create({"name": "taken", "default": DEFAULT})
    template = Engine(provider).create({"name": "t", "default": DEFAULT, "rules": [rule("a.com"), rule("c.com")]})
    before = template_rules(emulator, template.id)
    with pytest.raises(errors.MailinfraError, match="already exists"):
        template.update({"name": "TAKEN", "default": DEFAULT, "rules": [rule("a.com"), rule("d.com")]})
    assert template_rules(emulator, template.id) == before
    assert sorted(emulator.names("/throttling_templates", "throttling_templates")) == ["t", "taken"]


# 10. Reorder plus extend keeps every rule's id: matched by domain overlap, not refused as an exchange.
def test_reorder_plus_extend_keeps_rule_ids(emulator: Emulator) -> None:
    template = Engine(configured(ThrottlingTemplateProvider, emulator)).create(
        {"name": "t", "default": DEFAULT, "rules": [rule("gmail.com"), rule("yahoo.com")]})
    gmail, yahoo = template.outputs["rule_ids"]
    template.update({"name": "t", "default": DEFAULT,
                     "rules": [rule("yahoo.com", "ymail.com"), rule("gmail.com", "googlemail.com")]})
    assert template.outputs["rule_ids"] == [yahoo, gmail]
    live = {r["id"]: sorted(r["domains"]) for r in template_rules(emulator, template.id)}
    assert live == {yahoo: ["yahoo.com", "ymail.com"], gmail: ["gmail.com", "googlemail.com"]}
    assert not template.changes()


# 9. A domain moving between two standalone rules of one template, the taker's update arriving first.
def test_domain_moves_between_standalone_rules_whatever_the_order(emulator: Emulator) -> None:
    templates = configured(ThrottlingTemplateProvider, emulator)
    template = Engine(templates).create({"name": "pool", "default": DEFAULT})
    r1 = Engine(configured(ThrottlingRuleProvider, emulator)).create({"template_id": template.id,
                                                                     **rule("a.com", "x.com")})
    r2 = Engine(configured(ThrottlingRuleProvider, emulator)).create({"template_id": template.id, **rule("b.com")})
    failures_seen: list[BaseException] = []

    def take() -> None:
        try:
            r2.update({"template_id": template.id, **rule("b.com", "x.com")})
        except BaseException as exc:  # reported below
            failures_seen.append(exc)

    taker = threading.Thread(target=take)
    taker.start()
    time.sleep(0.5)  # the taker is refused first, as when the engine runs it first
    r1.update({"template_id": template.id, **rule("a.com")})
    taker.join(timeout=60)
    assert failures_seen == []
    live = {r["id"]: sorted(r["domains"]) for r in template_rules(emulator, template.id)}
    assert live == {int(r1.id): ["a.com"], int(r2.id): ["b.com", "x.com"]}


def test_a_domain_never_released_still_fails(emulator: Emulator) -> None:
    template = Engine(configured(ThrottlingTemplateProvider, emulator)).create({"name": "pool", "default": DEFAULT})
    rules = configured(ThrottlingRuleProvider, emulator)
    Engine(rules).create({"template_id": template.id, **rule("x.com")})
    taker = Engine(rules).create({"template_id": template.id, **rule("b.com")})
    rules.domain_wait_seconds = 1.0  # type: ignore[misc]
    with pytest.raises(errors.MailinfraError, match="only once"):
        taker.update({"template_id": template.id, **rule("b.com", "x.com")})


# 12. A duplicate domain across inline rules is reported at preview even when other rule values are unknown.
def test_duplicate_domain_reported_while_other_values_are_unknown() -> None:
    values = {"name": "t", "default": {"max_concurrent_connections": 1, "max_messages_per_hour": 0}, "rules": [
        {"domains": ["a.com"], "max_concurrent_connections": Unknown(), "max_messages_per_hour": 0},
        {"domains": ["A.com", Unknown()], "max_concurrent_connections": 1, "max_messages_per_hour": 0}]}
    problems = failures(ThrottlingTemplateModel, values, is_unknown)
    assert [(path, "appears more than once" in reason) for path, reason in problems] == [("(resource)", True)]
    unique = {**values, "rules": [values["rules"][0], {**values["rules"][1], "domains": ["b.com", Unknown()]}]}
    assert failures(ThrottlingTemplateModel, unique, is_unknown) == []


# 11. A short secret is masked as a whole token only, and never by a mask that reveals its length.
def test_redaction_of_short_and_long_secrets() -> None:
    text = "relay e-mail rejected: password e is wrong for host example.net (e)"
    masked = "relay e-mail rejected: password [secret] is wrong for host example.net ([secret])"
    assert errors.redact(text, ["e"]) == masked
    assert errors.redact("pw hunter22hunter22x and hunter22hunter22", ["hunter22hunter22"]) == \
        "pw [secret]x and [secret]"
    assert errors.redact("nothing here", [None, ""]) == "nothing here"
