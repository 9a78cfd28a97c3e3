"""The GreenArrow resources under the real Pulumi CLI (Automation API, local file backend)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from pulumi import automation as auto

from tests.conftest import GA_PASSWORD, Emulator, StackFactory
from tests.e2e.programs import RELAY_PASSWORD, mail_stack, single_relay

pytestmark = pytest.mark.e2e
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker of a secret value in state


def test_up_then_noop_preview_then_update_replace_and_destroy(make_stack: StackFactory, emulator: Emulator) -> None:
    stack = make_stack(mail_stack())
    up = stack.up()
    outs = {k: v.value for k, v in up.outputs.items()}
    assert up.summary.resource_changes == {"create": 9}

    ga = emulator.client()
    relay = ga.get(f"/ga/api/v3/eng/relay_servers/{outs['primary_id']}")["relay_server"]
    # Dependency ordering: the redirect resolved to the fallback relay created first.
    assert relay["redirect"] == {"type": "relay_server", "id": int(outs["fallback_id"]),
                                 "name": ga.get(f"/ga/api/v3/eng/relay_servers/{outs['fallback_id']}")
                                 ["relay_server"]["name"]}
    assert outs["primary_name"].startswith("primary-")
    template = ga.get(f"/ga/api/v3/eng/throttling_templates/{outs['primary_template_id']}")["throttling_template"]
    assert next(r["throttle_program"] for r in template["rules"]) == {"id": 1, "name": "Automatic Backoff"}
    assert outs["main_route"]["recommended_max_daily_volume"] == 25000
    assert outs["main_route"]["routing_rule"]["name"] == f"{outs['main_route']['name']} R{outs['main_route']['id']}"

    # A no-op preview tells the truth and costs the API nothing.
    emulator.reset_stats()
    stack.preview(expect_no_changes=True)
    assert emulator.requests() == 0

    # In-place update: same ids, new values; rule ids of untouched rules stay.
    old_rule_ids = outs["rule_ids"]
    stack.workspace.program = mail_stack(port=2525, extra_rule=True)
    stack.preview()
    up2 = stack.up()
    outs2 = {k: v.value for k, v in up2.outputs.items()}
    assert up2.summary.resource_changes == {"update": 2, "same": 7}
    assert outs2["primary_id"] == outs["primary_id"]
    assert outs2["rule_ids"][:2] == old_rule_ids and len(outs2["rule_ids"]) == 3
    relay = ga.get(f"/ga/api/v3/eng/relay_servers/{outs['primary_id']}")["relay_server"]
    assert relay["destination"]["port"] == 2525

    # Replacement where a field forces it: moving the standalone rule to another template.
    pool_a = f"/ga/api/v3/eng/throttling_templates/{outs['pool_a_template_id']}"
    pool_b = f"/ga/api/v3/eng/throttling_templates/{outs['pool_b_template_id']}"
    assert [r["domains"] for r in ga.get(pool_a)["throttling_template"]["rules"]] == [["outlook.com"]]
    stack.workspace.program = mail_stack(port=2525, extra_rule=True, rule_template="pool-b")
    up3 = stack.up()
    assert up3.summary.resource_changes.get("replace") == 1
    assert [r["domains"] for r in ga.get(pool_b)["throttling_template"]["rules"]] == [["outlook.com"]]
    assert ga.get(pool_a)["throttling_template"]["rules"] == []
    stack.preview(expect_no_changes=True)

    # Destroy in reverse dependency order leaves the emulator empty.
    stack.destroy()
    assert emulator.names("/relay_servers", "relay_servers") == []
    assert emulator.names("/throttling_templates", "throttling_templates") == []
    assert emulator.names("/routes", "routes") == []


def test_preview_of_new_stack_with_inputs_unknown_until_apply(make_stack: StackFactory, emulator: Emulator) -> None:
    stack = make_stack(mail_stack())
    emulator.reset_stats()
    preview = stack.preview()
    assert preview.change_summary == {auto.OpType.CREATE: 9}
    assert emulator.requests() == 0  # nothing is created or even looked at during preview


def test_bad_input_fails_at_preview_naming_the_field_and_sends_nothing(
    make_stack: StackFactory, emulator: Emulator
) -> None:
    stack = make_stack(single_relay(name="bad,name", source_ip={"ip": "300.1.1.1", "hostname": "ok.example"},
                                    destination={"hostname": "dest.example", "port": 70000}))
    emulator.reset_stats()
    with pytest.raises(auto.CommandError) as failure:
        stack.preview()
    text = str(failure.value)
    for field in ("name", "source_ip.ip", "destination.port"):
        assert field in text
    assert "65535" in text
    assert emulator.requests() == 0


def state_file_text(pulumi_env: dict[str, str], project: str) -> str:
    """The state files of a project on the local file backend (and their backups), gzip-compressed or not, read
    whole."""
    backend = Path(pulumi_env["PULUMI_BACKEND_URL"].removeprefix("file://"))
    files = sorted(f for f in (backend / ".pulumi" / "stacks" / project).iterdir() if ".json" in f.name
                   and not f.name.endswith(".attrs"))
    assert files, "no state file written"
    return "".join((gzip.decompress(f.read_bytes()) if ".gz" in f.name else f.read_bytes()).decode() for f in files)


def test_password_never_in_state_or_preview_text(
    make_stack: StackFactory, emulator: Emulator, pulumi_env: dict[str, str]
) -> None:
    stack = make_stack(mail_stack(), project="secrets-check")
    preview = stack.preview(diff=True)
    up = stack.up()
    stack.workspace.program = mail_stack(port=2526)
    update_preview = stack.preview(diff=True)
    stack.refresh()
    on_disk = state_file_text(pulumi_env, "secrets-check")
    assert RELAY_PASSWORD not in preview.stdout
    assert RELAY_PASSWORD not in up.stdout
    assert RELAY_PASSWORD not in update_preview.stdout
    assert RELAY_PASSWORD not in on_disk
    assert "ciphertext" in on_disk  # it is there, encrypted
    # The Automation API's export decrypts (--show-secrets): the value is marked secret in inputs and outputs.
    exported = stack.export_stack().deployment
    relay = next(r for r in exported["resources"] if r["urn"].endswith("RelayServer::primary"))
    for bag in ("inputs", "outputs"):
        assert SECRET_SIG in relay[bag]["destination"]["password"], bag
        assert "hostname" in relay[bag]["destination"]  # only the password is hidden, not the whole hash
    # ... and the relay really has it, so the provider did send it.
    relay_id = stack.outputs()["primary_id"].value
    relay = emulator.client().get(f"/ga/api/v3/eng/relay_servers/{relay_id}")["relay_server"]
    assert relay["destination"]["password"] == RELAY_PASSWORD
    assert stack.outputs()["destination"].secret


def test_refresh_detects_out_of_band_change_and_delete(make_stack: StackFactory, emulator: Emulator) -> None:
    stack = make_stack(mail_stack())
    outs = {k: v.value for k, v in stack.up().outputs.items()}
    ga = emulator.client()
    path = f"/ga/api/v3/eng/relay_servers/{outs['primary_id']}"
    ga.request("PUT", path, json={"relay_server": {"throttle_limits": {"max_concurrent_connections": 99,
                                                                      "max_messages_per_hour": 1}}})
    refresh = stack.refresh()
    assert refresh.summary.resource_changes.get("update") == 1
    preview = stack.preview(diff=True)
    assert preview.change_summary.get(auto.OpType.UPDATE) == 1
    assert "max_concurrent_connections" in preview.stdout
    stack.up()
    assert ga.get(path)["relay_server"]["throttle_limits"]["max_concurrent_connections"] == 4

    # Deleted out of band: refresh drops it from state, the next up recreates it.
    route_id = outs["main_route"]["id"]
    ga.request("DELETE", f"/ga/api/v3/eng/routes/{route_id}")
    refresh = stack.refresh()
    assert refresh.summary.resource_changes.get("delete") == 1
    up = stack.up()
    assert up.summary.resource_changes.get("create") == 1
    new_route = up.outputs["main_route"].value
    assert new_route["id"] != route_id
    assert ga.get(f"/ga/api/v3/eng/routes/{new_route['id']}")["route"]["name"] == outs["main_route"]["name"]
    stack.preview(expect_no_changes=True)


def test_adopt_existing_object_without_recreating_it(make_stack: StackFactory, emulator: Emulator) -> None:
    ga = emulator.client()
    existing = ga.request("POST", "/ga/api/v3/eng/relay_servers", json={"relay_server": {
        "name": "legacy-relay", "source_ip": {"ip": "192.0.2.99", "hostname": "legacy.example.com"},
        "destination": {"hostname": "old.example.net", "port": 25},
        "throttle_limits": {"max_concurrent_connections": 1, "max_messages_per_hour": 1}}})["relay_server"]
    program = single_relay(name="Legacy-Relay", adopt_existing=True,
                           source_ip={"ip": "192.0.2.99", "hostname": "legacy.example.com"},
                           destination={"hostname": "new.example.net", "port": 587})
    stack = make_stack(program)
    up = stack.up()
    assert up.outputs["id"].value == str(existing["id"])
    relay = ga.get(f"/ga/api/v3/eng/relay_servers/{existing['id']}")["relay_server"]
    assert relay["destination"] == {"hostname": "new.example.net", "port": 587, "username": None, "password": None}
    assert emulator.names("/relay_servers", "relay_servers") == ["Legacy-Relay"]  # renamed to our spelling
    stack.preview(expect_no_changes=True)
    stack.destroy()
    assert emulator.names("/relay_servers", "relay_servers") == []


def test_same_program_as_two_stacks_on_one_emulator(make_stack: StackFactory, emulator: Emulator) -> None:
    dev = make_stack(mail_stack(), stack_name="dev", project="promote")
    prod = make_stack(mail_stack(), stack_name="prod", project="promote")
    dev_outs = dev.up().outputs
    prod_outs = prod.up().outputs
    assert dev_outs["primary_name"].value != prod_outs["primary_name"].value
    assert len(emulator.names("/relay_servers", "relay_servers")) == 4
    assert len(emulator.names("/routes", "routes")) == 4
    dev.destroy()
    assert len(emulator.names("/relay_servers", "relay_servers")) == 2
    prod.preview(expect_no_changes=True)


def test_delete_refused_while_in_use_names_the_user(make_stack: StackFactory, emulator: Emulator) -> None:
    stack = make_stack(mail_stack())
    outs = {k: v.value for k, v in stack.up().outputs.items()}
    stack.workspace.program = single_relay(  # drops everything except one relay...
        name="standalone", source_ip={"ip": "192.0.2.1", "hostname": "a.example"},
        destination={"hostname": "b.example", "port": 25})
    ga = emulator.client()
    # ...while an object outside the stack redirects to the fallback relay.
    ga.request("POST", "/ga/api/v3/eng/relay_servers", json={"relay_server": {
        "name": "outsider", "source_ip": {"ip": "192.0.2.5", "hostname": "o.example"},
        "destination": {"hostname": "d.example", "port": 25},
        "throttle_limits": {"max_concurrent_connections": 0, "max_messages_per_hour": 0},
        "redirect": {"id": int(outs["fallback_id"])}}})
    with pytest.raises(auto.CommandError) as failure:
        stack.up()
    assert "outsider" in str(failure.value)
    outsider = ga.find_by_name("/relay_servers", "relay_servers", "outsider")
    assert outsider is not None
    ga.request("DELETE", f"/ga/api/v3/eng/relay_servers/{outsider['id']}")
    stack.up()


def test_up_converges_when_the_api_is_slow_and_flaky(make_stack: StackFactory, emulator: Emulator) -> None:
    emulator.fault(kind="latency", latency_ms=50)
    emulator.fault(kind="status", status=429, retry_after=0.5, times=3, method="POST")
    emulator.fault(kind="drop_after_write", times=1, method="POST", path="relay_servers$")
    emulator.fault(kind="drop_after_write", times=1, method="POST", path="routes$")
    emulator.fault(kind="status", status=503, times=2, method="PUT")
    stack = make_stack(mail_stack())
    up = stack.up()
    assert up.summary.resource_changes == {"create": 9}
    # No duplicates although two POSTs lost their answers after the write.
    assert len(emulator.names("/relay_servers", "relay_servers")) == 2
    assert len(emulator.names("/routes", "routes")) == 2
    stack.workspace.program = mail_stack(hourly=900)
    assert stack.up().summary.resource_changes.get("update") == 1
    emulator.clear_faults()
    stack.preview(expect_no_changes=True)


def test_program_looks_up_an_existing_relay_and_redirects_to_it(make_stack: StackFactory, emulator: Emulator) -> None:
    import pulumi

    from pulumi_mailinfra import greenarrow

    ga = emulator.client()
    shared = ga.request("POST", "/ga/api/v3/eng/relay_servers", json={"relay_server": {
        "name": "Shared-Relay", "source_ip": {"ip": "192.0.2.7", "hostname": "shared.example.com"},
        "destination": {"hostname": "d.example", "port": 25, "password": "not-for-lookups"},
        "throttle_limits": {"max_concurrent_connections": 0, "max_messages_per_hour": 0}}})["relay_server"]

    def program() -> None:
        found = greenarrow.get_relay_server("shared-relay")
        relay = greenarrow.RelayServer(
            "mine", source_ip={"ip": "192.0.2.8", "hostname": "mine.example.com"},
            destination={"hostname": "d.example", "port": 25}, redirect=found.apply(lambda r: {"id": r["id"]}))
        pulumi.export("found", found)
        pulumi.export("redirect", relay.redirect)

    stack = make_stack(program)
    outs = stack.up().outputs
    assert outs["found"].value["id"] == shared["id"]
    assert outs["found"].value["destination"]["password"] is None
    assert outs["redirect"].value == {"id": shared["id"]}
    stack.preview(expect_no_changes=True)


def test_every_api_request_is_a_debug_diagnostic_without_secrets(make_stack: StackFactory, emulator: Emulator) -> None:
    stack = make_stack(mail_stack())
    emulator.reset_stats()
    up = stack.up(debug=True)
    summary = up.stdout.split("Diagnostics:", 1)[1]  # the CLI prints each once there (and once in progress)
    lines = [line for line in summary.splitlines() if "mailinfra greenarrow: " in line]
    assert len(lines) == emulator.requests()  # one line per request the provider made, no more, no fewer
    assert any(re.search(r"POST /ga/api/v3/eng/relay_servers -> 200 in \d+ ms", line) for line in lines)
    assert not [line for line in lines if RELAY_PASSWORD in line or GA_PASSWORD in line]
    # (Pulumi's own SDK debug-logs the program's exported outputs, secrets unmasked, under --debug: the test
    # program exports `destination`, so the relay password is asserted absent from our lines only.)
    assert GA_PASSWORD not in up.stdout
    plain = stack.up()  # without --debug they stay out of the way
    assert "mailinfra greenarrow: " not in plain.stdout
