"""Through the real engine: an HTML page where JSON was expected, and an object of another shape, fail `up` and
`refresh` with one readable line naming the resource and the request — no traceback — and the next `up`
converges without a duplicate."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pytest
from pulumi import automation as auto

from pulumi_mailinfra import greenarrow
from tests.conftest import Emulator, StackFactory


def relay_program(port: int = 587) -> Callable[[], None]:
    def program() -> None:
        relay = greenarrow.RelayServer(
            "edge-relay", name="edge-relay", source_ip={"ip": "192.0.2.7", "hostname": "edge.example.com"},
            destination={"hostname": "smtp.example.net", "port": port},
            throttle_limits={"max_concurrent_connections": 2, "max_messages_per_hour": 0})
        pulumi.export("relay_id", relay.id)

    return program


def test_garbage_answers_fail_readably_and_the_next_up_converges(make_stack: StackFactory,
                                                                 emulator: Emulator) -> None:
    stack = make_stack(relay_program(), config={"mailinfra:maxAttempts": "2"})
    # The proxy applied the POST and answered its own error page: the provider looks the name up, finds the relay.
    emulator.fault(kind="garbage", body="html", method="POST", path="/relay_servers$", apply=True, times=1)
    first = stack.up()
    assert first.summary.resource_changes == {"create": 2}
    assert emulator.names("/relay_servers", "relay_servers") == ["edge-relay"]

    emulator.fault(kind="garbage", body="wrong_shape", method="GET", path="/relay_servers/")
    with pytest.raises(auto.CommandError) as failed:
        stack.refresh()
    text = str(failed.value)
    assert "edge-relay" in text and "GET /ga/api/v3/eng/relay_servers/" in text and "Traceback" not in text, text
    assert "not GreenArrow's envelope" in text, text
    emulator.clear_faults()

    emulator.fault(kind="garbage", body="html", method="PUT", path="/relay_servers/")
    stack.workspace.program = relay_program(port=2525)
    with pytest.raises(auto.CommandError) as failed:
        stack.up()
    text = str(failed.value)
    assert "edge-relay" in text and "PUT /ga/api/v3/eng/relay_servers/" in text and "502 Bad Gateway" in text, text
    assert "Traceback" not in text, text
    emulator.clear_faults()
    assert stack.up().summary.resource_changes == {"update": 1, "same": 1}
    assert stack.preview().change_summary == {"same": 2}
    assert emulator.names("/relay_servers", "relay_servers") == ["edge-relay"]
