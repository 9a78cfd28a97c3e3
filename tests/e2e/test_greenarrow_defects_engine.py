"""Defects found by trying to break the GreenArrow resources (issue 12) that need the real engine: moves
between resources, engine-forced replacement, stack renames, autonames from ordinary logical names and
two resources claiming one object."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from pulumi_mailinfra import greenarrow
from tests.conftest import Emulator, StackFactory
from tests.e2e.programs import mail_stack

pytestmark = pytest.mark.e2e
API = "/ga/api/v3/eng"
DEFAULT = {"max_concurrent_connections": 4, "max_messages_per_hour": 0}
OUTLOOK = {"domains": ["outlook.com"], "max_concurrent_connections": 8, "max_messages_per_hour": 1200}


def template_program(*, inline: bool, standalone: bool) -> Callable[[], None]:
    def program() -> None:
        template = greenarrow.ThrottlingTemplate("pool", default=DEFAULT, rules=[OUTLOOK] if inline else None)
        if standalone:
            greenarrow.ThrottlingRule("outlook", template_id=template.id, **OUTLOOK)  # type: ignore[arg-type]
        pulumi.export("template_id", template.id)
        pulumi.export("rule_ids", template.rule_ids)

    return program


def live_rules(emulator: Emulator, template_id: str) -> list[dict[str, Any]]:
    return emulator.client().get(f"{API}/throttling_templates/{template_id}")["throttling_template"]["rules"]


# 1. A standalone rule moved into the template's inline rules is kept (the server ends with the rule).
def test_standalone_rule_moved_inline_is_kept(make_stack: StackFactory, emulator: Emulator) -> None:
    stack = make_stack(template_program(inline=False, standalone=True))
    template_id = stack.up().outputs["template_id"].value
    stack.workspace.program = template_program(inline=True, standalone=False)
    up = stack.up()
    assert up.summary.resource_changes == {"update": 1, "delete": 1, "same": 1}
    rules = live_rules(emulator, template_id)
    assert [r["domains"] for r in rules] == [["outlook.com"]]
    assert up.outputs["rule_ids"].value == [rules[0]["id"]]  # the state names the rule the server has
    stack.preview(expect_no_changes=True)


# 5. Inline rules handed over to a ThrottlingRule: the old inline rule goes, the standalone one takes its domain.
def test_inline_rules_handed_to_a_standalone_rule(make_stack: StackFactory, emulator: Emulator) -> None:
    stack = make_stack(template_program(inline=True, standalone=False))
    template_id = stack.up().outputs["template_id"].value
    stack.workspace.program = template_program(inline=False, standalone=True)
    stack.up()
    rules = live_rules(emulator, template_id)
    assert [r["domains"] for r in rules] == [["outlook.com"]]
    outlook = next(r for r in stack.export_stack().deployment["resources"] if r["urn"].endswith("::outlook"))
    assert outlook["id"] == str(rules[0]["id"])
    stack.preview(expect_no_changes=True)


# 7. `pulumi up --replace` of any resource deletes the old object first (names and domains are unique).
def test_engine_forced_replacement_of_every_type(make_stack: StackFactory, emulator: Emulator) -> None:
    stack = make_stack(mail_stack())
    before = {k: v.value for k, v in stack.up().outputs.items()}
    resources = stack.export_stack().deployment["resources"]
    urns = [r["urn"] for r in resources if r["type"].startswith("pulumi-python:dynamic/greenarrow:")
            and r["urn"].rsplit("::", 1)[1] in {"fallback", "pool-a-template", "outlook-rule", "overflow"}]
    assert len(urns) == 4
    # The fallback relay and the overflow route are in use: their users are replaced too, or the delete
    # would be refused; the engine replaces exactly what is asked, so take the leaves and the template rule.
    leaves = [u for u in urns if u.endswith(("::outlook-rule", "::pool-a-template"))]
    up = stack.up(replace=leaves)
    assert up.summary.resource_changes.get("replace") == 2
    after = {k: v.value for k, v in up.outputs.items()}
    assert after["rule_id"] != before["rule_id"] and after["pool_a_template_id"] != before["pool_a_template_id"]
    assert len(emulator.names("/throttling_templates", "throttling_templates")) == 3
    relay = [u for u in urns if u.endswith("::fallback")]
    with pytest.raises(auto.CommandError) as refused:  # in use: refused with the API's message, not a duplicate
        stack.up(replace=relay)
    assert "primary" in str(refused.value)
    assert len(emulator.names("/relay_servers", "relay_servers")) == 2
    main = [r["urn"] for r in resources if r["urn"].endswith("Route::main")]
    stack.up(replace=main)
    assert len(emulator.names("/routes", "routes")) == 2
    stack.preview(expect_no_changes=True)


# 8. `pulumi stack rename` renames nothing on the server: an autoname stays what it was once chosen.
def test_stack_rename_keeps_autonames(make_stack: StackFactory, emulator: Emulator, pulumi_env: dict[str, str]) -> None:
    stack = make_stack(mail_stack(), stack_name="dev")
    stack.up()
    names = emulator.names("/relay_servers", "relay_servers")
    work_dir = Path(stack.workspace.work_dir)
    subprocess.run(["pulumi", "stack", "rename", "staging", "--stack", "dev", "--non-interactive"], cwd=work_dir,
                   env=pulumi_env, check=True, capture_output=True)
    renamed = auto.Stack.select("staging", stack.workspace)
    renamed.preview(expect_no_changes=True)
    renamed.up()
    assert emulator.names("/relay_servers", "relay_servers") == names
    subprocess.run(["pulumi", "stack", "rename", "dev", "--stack", "staging", "--non-interactive"], cwd=work_dir,
                   env=pulumi_env, check=True, capture_output=True)  # the fixture destroys "dev"


# 13. Autonames from ordinary logical names are made valid for the type.
def test_autonames_from_logical_names_the_api_refuses(make_stack: StackFactory, emulator: Emulator) -> None:
    def program() -> None:
        route = greenarrow.Route("eu/main", requested_target_daily_volume=1000)
        template = greenarrow.ThrottlingTemplate("modèle", default=DEFAULT)
        relay = greenarrow.RelayServer("relay,eu", source_ip={"ip": "192.0.2.1", "hostname": "a.example"},
                                       destination={"hostname": "b.example", "port": 25})
        pulumi.export("names", [route.name, template.name, relay.name])

    stack = make_stack(program)
    names = stack.up().outputs["names"].value
    assert [n[:-8] for n in names] == ["eu-main", "modele", "relay-eu"]  # template names are ASCII
    stack.preview(expect_no_changes=True)


# 14. Two resources claiming one object by name (legacy / LEGACY) are refused before anything is sent.
def test_two_resources_claiming_one_name_are_refused(make_stack: StackFactory, emulator: Emulator) -> None:
    def program() -> None:
        for logical, name in (("a", "legacy"), ("b", "LEGACY")):
            greenarrow.RelayServer(logical, name=name, adopt_existing=True,
                                   source_ip={"ip": "192.0.2.1", "hostname": "a.example"},
                                   destination={"hostname": "b.example", "port": 25})

    stack = make_stack(program)
    emulator.reset_stats()
    with pytest.raises(auto.CommandError) as refused:
        stack.preview()
    assert "'a' and 'b' both declare the name 'LEGACY'" in str(refused.value)
    assert emulator.requests() == 0


def test_rule_resource_on_a_template_with_inline_rules_is_refused_at_preview(
    make_stack: StackFactory, emulator: Emulator
) -> None:
    """Inline `rules` own the template's whole list: a ThrottlingRule added to it would be deleted by the
    template's next `up` (and recreated by its own), forever. Found by the conformance suite."""
    def program() -> None:
        template = greenarrow.ThrottlingTemplate(
            "owned", name="owned", default={"max_concurrent_connections": 4, "max_messages_per_hour": 0},
            rules=[{"domains": ["gmail.com"], "max_concurrent_connections": 2, "max_messages_per_hour": 0}])
        greenarrow.ThrottlingRule("extra", template_id=template.id, domains=["outlook.com"],
                                  max_concurrent_connections=1, max_messages_per_hour=0)

    stack = make_stack(program)
    emulator.reset_stats()
    with pytest.raises(auto.CommandError) as failed:
        stack.preview()
    assert "already has its rules managed by a ThrottlingTemplate resource" in str(failed.value)
    assert "ThrottlingTemplate(rules=...) for the whole list" in str(failed.value)
    assert emulator.requests() == 0
