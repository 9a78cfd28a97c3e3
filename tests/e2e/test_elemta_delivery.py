"""Elemta under the real Pulumi CLI: a DeliveryCheck behind the resources it proves (up, no-op preview with 0
requests, a trigger change runs it again, failure paths readable and the stack left consistent), the deployment
gate stopping preview and up before any change, wrong credentials, and one `up` against the real server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto

from pulumi_mailinfra import elemta, greenarrow
from tests.conftest import Emulator, StackFactory
from tests.elemta_real import real_elemta

pytestmark = pytest.mark.e2e


def checked_relay(*, port: int = 25, timeout: float = 10.0, gate: dict[str, int] | None = None,
                  recipient: str = "probe@example.net") -> Callable[[], None]:
    def program() -> None:
        if gate is not None:
            elemta.require_healthy(**gate)
        relay = greenarrow.RelayServer("relay", source_ip={"ip": "192.0.2.10", "hostname": "mail.example.com"},
                                       destination={"hostname": "smtp.example.net", "port": port})
        check = elemta.DeliveryCheck("mail-path", sender="ops@example.org", recipient=recipient,
                                     triggers=[relay.id, relay.destination.apply(lambda d: str(d["port"]))],
                                     timeout_seconds=timeout, poll_interval_seconds=0.1)
        pulumi.export("relay_id", relay.id)
        pulumi.export("check", {"message_id": check.message_id, "state": check.state,
                                "seconds": check.duration_seconds})

    return program


def messages_sent(emulator: Emulator) -> int:
    return len(emulator.elemta().message_logs("reception", 500))


def test_delivery_check_runs_after_its_triggers_and_only_when_they_change(
    make_stack: StackFactory, emulator: Emulator
) -> None:
    stack = make_stack(checked_relay())
    events: list[Any] = []
    up = stack.up(on_event=events.append)
    assert up.summary.resource_changes == {"create": 3}
    outs = up.outputs["check"].value
    assert outs["state"] == "delivered" and messages_sent(emulator) == 1
    finished = [e.res_outputs_event.metadata.urn.rsplit("::", 1)[1] for e in events if e.res_outputs_event]
    assert finished.index("relay") < finished.index("mail-path")  # the check waits for what it proves

    emulator.reset_stats()
    stack.preview(expect_no_changes=True)
    assert emulator.requests() == 0
    stack.refresh()
    assert messages_sent(emulator) == 1

    stack.workspace.program = checked_relay(port=587)  # the relay changes: its trigger changes, the check reruns
    preview = stack.preview()
    assert preview.change_summary == {"update": 2, "same": 1} and messages_sent(emulator) == 1
    again = stack.up()
    assert again.summary.resource_changes == {"update": 2, "same": 1}
    assert again.outputs["check"].value["message_id"] != outs["message_id"] and messages_sent(emulator) == 2

    emulator.reset_stats()
    stack.destroy()
    assert messages_sent(emulator) == 2


def test_a_failed_check_fails_the_up_readably_and_the_next_up_retries(
    make_stack: StackFactory, emulator: Emulator
) -> None:
    emulator.elemta_delivery(mode="fail", error="550 5.7.1 relaying denied")
    stack = make_stack(checked_relay())
    with pytest.raises(auto.CommandError) as failed:
        stack.up()
    text = str(failed.value)
    assert "550 5.7.1 relaying denied" in text and "Traceback" not in text
    state = stack.export_stack().deployment["resources"]
    types = sorted(r["type"].rsplit(":", 1)[1] for r in state if "dynamic" in r["type"])
    assert types == ["RelayServer"]  # the relay exists; the failed check was not recorded as done

    emulator.elemta_delivery(mode="defer", error="451 4.4.1 no answer from host", retry_seconds=600)
    stack.workspace.program = checked_relay(timeout=1.0)
    with pytest.raises(auto.CommandError, match=r"stuck in the deferred queue .* 451 4\.4\.1 no answer from host"):
        stack.up()

    emulator.elemta_delivery(mode="deliver")
    up = stack.up()
    assert up.summary.resource_changes == {"create": 1, "same": 2}  # the stack, the relay
    assert up.outputs["check"].value["state"] == "delivered"
    stack.preview(expect_no_changes=True)


def test_gate_stops_preview_and_up_before_any_change(make_stack: StackFactory, emulator: Emulator) -> None:
    client = emulator.elemta()
    emulator.elemta_delivery(mode="defer", retry_seconds=600)
    for _ in range(3):
        client.send_test("ops@example.org", "probe@example.net", "backlog", "b")
    emulator.admin.post("/elemta/deliver")
    stack = make_stack(checked_relay(gate={"max_deferred": 2}))
    emulator.reset_stats()
    for operation in (stack.preview, stack.up):
        with pytest.raises(auto.CommandError) as closed:
            operation()
        text = str(closed.value)
        assert "deployment gate: Elemta queues" in text and "deferred 3 > 2" in text and "Traceback" not in text
    routes = emulator.stats()["by_route"]
    assert routes and all("/elemta/api/" in route for route in routes)  # only the gate's reads: nothing changed
    assert emulator.names("/relay_servers", "relay_servers") == []

    client.flush_queue("deferred")
    emulator.elemta_delivery(mode="deliver")
    stack.workspace.program = checked_relay(gate={"max_deferred": 2})
    assert stack.up().summary.resource_changes == {"create": 2, "same": 1}  # the stack itself was recorded


def test_wrong_elemta_credentials_are_a_clear_error(make_stack: StackFactory, emulator: Emulator) -> None:
    from pulumi_mailinfra.emulator import EmulatorServer

    with EmulatorServer(elemta_users=("ops:right-pw",)) as guarded:
        stack = make_stack(checked_relay(), config={"mailinfra:elemtaUrl": f"{guarded.url}/elemta",
                                                    "mailinfra:elemtaUsername": "ops",
                                                    "mailinfra:elemtaPassword": "wrong-pw"})
        with pytest.raises(auto.CommandError) as refused:
            stack.up()
        text = str(refused.value)
        assert "HTTP 401" in text and "refused the Basic credentials" in text
        assert "Traceback" not in text and "wrong-pw" not in text


@pytest.mark.elemta
def test_delivery_check_up_against_the_real_server(make_stack: StackFactory, tmp_path: Path) -> None:
    with real_elemta(tmp_path / "elemta", deliver=True) as server:
        stack = make_stack(checked_relay(timeout=30.0), config={"mailinfra:elemtaUrl": server.url})
        up = stack.up()
        assert up.outputs["check"].value["state"] == "delivered" and len(server.sink.received) == 1
        stack.preview(expect_no_changes=True)
        assert len(server.sink.received) == 1
        stack.destroy()
