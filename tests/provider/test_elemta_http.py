"""Elemta against the emulator over real HTTP: the DeliveryCheck provider driven as the engine drives it
(every way a check can end), the deployment gate, look-ups in both shapes, runbook actions, credentials."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_mailinfra import errors
from pulumi_mailinfra.elemta import lookups
from pulumi_mailinfra.elemta.providers import DeliveryCheckProvider
from pulumi_mailinfra.emulator import EmulatorServer
from tests.conftest import Emulator
from tests.provider.harness import Engine, configured

CHECK = {"sender": "ops@example.org", "recipient": "probe@example.net", "triggers": ["relay-1"],
         "timeout_seconds": 5.0, "poll_interval_seconds": 0.05}


def check(emulator: Emulator, **extra: Any) -> Engine:
    return Engine(configured(DeliveryCheckProvider, emulator)).create({**CHECK, **extra})


def test_check_sends_one_message_and_follows_it_to_delivery(emulator: Emulator) -> None:
    done = check(emulator)
    assert done.outputs["state"] == "delivered" and done.id == done.outputs["message_id"]
    assert 0.2 <= done.outputs["duration_seconds"] < 5 and done.outputs["triggers"] == ["relay-1"]
    logs = emulator.elemta().message_logs("delivery")
    assert [e.message_id for e in logs] == [done.id]
    assert emulator.elemta().queue_stats().total == 0


def test_no_op_diff_and_refresh_send_nothing_and_a_trigger_change_runs_it_again(emulator: Emulator) -> None:
    done = check(emulator)
    emulator.reset_stats()
    assert not done.changes()
    done.refresh()
    assert emulator.requests() == 0 and done.outputs["state"] == "delivered"
    first = done.outputs["message_id"]
    assert done.changes({**CHECK, "triggers": ["relay-2"]})
    done.update({**CHECK, "triggers": ["relay-2"]})
    assert done.outputs["message_id"] != first and done.outputs["triggers"] == ["relay-2"]
    assert len(emulator.elemta().message_logs("reception")) == 2
    emulator.reset_stats()
    done.provider.delete(done.id, done.outputs)
    assert emulator.requests() == 0


def test_queued_is_enough_when_asked(emulator: Emulator) -> None:
    emulator.elemta_delivery(mode="manual")
    done = check(emulator, wait_for="queued")
    assert done.outputs["state"] == "queued"
    assert [m.id for m in emulator.elemta().queue_messages("active")] == [done.id]


@pytest.mark.parametrize(("mode", "error", "expected"), [
    ("fail", "550 5.1.1 no such user", "failed: 550 5.1.1 no such user"),
    ("hold", "spam score 9.1", "is on hold: spam score 9.1"),
    ("defer", "451 4.7.1 greylisted", r"stuck in the deferred queue after 1 s \(1 attempt\(s\)\); last error: "
                                      "451 4.7.1 greylisted"),
    ("manual", None, "still in the active queue after 1 s: the server has not delivered it"),
])
def test_a_check_that_does_not_deliver_fails_saying_what_happened(
    emulator: Emulator, mode: str, error: str | None, expected: str
) -> None:
    emulator.elemta_delivery(mode=mode, error=error, retry_seconds=600)
    provider = configured(DeliveryCheckProvider, emulator)
    checked = provider.check({}, {**CHECK, "timeout_seconds": 1.0})
    with pytest.raises(errors.MailinfraError, match=expected):
        provider.create(dict(checked.inputs))


def test_unhealthy_server_is_refused_before_sending(emulator: Emulator) -> None:
    emulator.admin.post("/elemta/health", json={"status": "degraded"})
    provider = configured(DeliveryCheckProvider, emulator)
    with pytest.raises(errors.MailinfraError, match=r"unhealthy \(status 'degraded'\); no test message sent"):
        provider.create(dict(provider.check({}, dict(CHECK)).inputs))
    assert emulator.elemta().message_logs() == []


def test_a_rejected_message_quotes_the_server(emulator: Emulator) -> None:
    emulator.fault(kind="status", status=400, path="/elemta/api/send-test", times=1)
    provider = configured(DeliveryCheckProvider, emulator)
    with pytest.raises(errors.MailinfraError, match=r"Elemta rejected the test message from ops@example\.org"):
        provider.create(dict(provider.check({}, dict(CHECK)).inputs))


def test_bad_inputs_fail_at_check_naming_the_field(emulator: Emulator) -> None:
    provider = configured(DeliveryCheckProvider, emulator)
    emulator.reset_stats()
    failures = provider.check({}, {**CHECK, "recipient": "nobody", "timeout_seconds": 0.0}).failures
    reasons = sorted(f.reason for f in failures)
    assert reasons[0].startswith("recipient: ") and "(got \"nobody\")" in reasons[0]
    assert reasons[1].startswith("timeout_seconds: ")
    assert emulator.requests() == 0


def test_wrong_credentials_give_a_clear_error() -> None:
    with EmulatorServer(elemta_users=("ops:right-pw",)) as server:
        url = f"{server.url}/elemta"
        from pulumi.dynamic import ConfigureRequest
        from pulumi.dynamic.config import Config

        provider = DeliveryCheckProvider()
        provider.configure(ConfigureRequest(Config({"mailinfra:elemtaUrl": url, "mailinfra:elemtaUsername": "ops",
                                                    "mailinfra:elemtaPassword": "wrong-pw"}, "test")))
        with pytest.raises(errors.MailinfraError) as caught:
            provider.create(dict(provider.check({}, dict(CHECK)).inputs))
        text = str(caught.value)
        assert "refused to send the test message" in text and "HTTP 401" in text
        assert "the server refused the Basic credentials" in text and "wrong-pw" not in text


# ----- the gate, look-ups and runbook actions -----------------------------------------------------
def test_gate_passes_under_thresholds_and_closes_over_them_quoting_numbers(emulator: Emulator) -> None:
    client = emulator.elemta()
    emulator.elemta_delivery(mode="defer", retry_seconds=600)
    for _ in range(3):
        client.send_test("ops@example.org", "probe@example.net", "s", "b")
    emulator.admin.post("/elemta/deliver")
    assert lookups.check_gate(max_deferred=3, max_failed=0, client=client).deferred == 3
    with pytest.raises(lookups.GateClosed, match=r"deferred 3 > 2 \(now: active 0, deferred 3, hold 0, failed 0, "
                                                  r"total 3, \d+ B\)"):
        lookups.check_gate(max_deferred=2, client=client)
    with pytest.raises(lookups.GateClosed, match=r"total size \d+ B > 10 B"):
        lookups.check_gate(max_total_size_bytes=10, client=client)
    with pytest.raises(TypeError, match="unknown gate threshold"):
        lookups.check_gate(client=client, max_queued=1)  # type: ignore[call-arg]
    emulator.admin.post("/elemta/health", json={"status": "down"})
    with pytest.raises(lookups.GateClosed, match="unhealthy"):
        lookups.check_gate(client=client)


def test_lookups_read_every_endpoint(emulator: Emulator) -> None:
    client = emulator.elemta()
    emulator.elemta_delivery(mode="manual")
    sent = client.send_test("ops@example.org", "probe@example.net", "hello", "body")
    assert lookups.health(client).healthy
    assert lookups.queue_stats(client).active == 1
    assert [m.id for m in lookups.queue_messages("pending", client)] == [sent.message_id]  # docs' name
    assert lookups.message(sent.message_id, client).subject == "hello"
    emulator.elemta_delivery(mode="fail", error="550 nope")
    emulator.admin.post("/elemta/deliver")
    assert lookups.queue_messages("failed", client)[0].last_error == "550 nope"
    stats = lookups.delivery_stats("month", client)
    assert stats.total_failed == 1 and stats.recent_errors[0].message_id == sent.message_id
    bounce = lookups.message_logs("bounce", 10, client)
    assert bounce[0].message_id == sent.message_id and bounce[0].error == "550 nope"
    assert len(lookups.system_logs(limit=1, client=client).logs) == 1
    assert [line for line in lookups.system_logs(level="error", client=client).logs] != []


def test_runbook_actions(emulator: Emulator) -> None:
    client = emulator.elemta()
    emulator.elemta_delivery(mode="defer", retry_seconds=600, error="451 later")
    first = client.send_test("ops@example.org", "probe@example.net", "retry me", "the body").message_id
    emulator.admin.post("/elemta/deliver")
    emulator.elemta_delivery(mode="manual")
    again = lookups.retry_message(first, client)
    assert again != first
    with pytest.raises(errors.NotFoundError):
        client.message(first)
    resent = client.message(again)
    assert (resent.subject, resent.to, resent.queue_type) == ("retry me", ["probe@example.net"], "active")
    assert "the body" in (resent.content or "")
    lookups.delete_message(again, client)
    client.send_test("ops@example.org", "probe@example.net", "s", "b")
    lookups.flush_queue("all", client)
    assert lookups.queue_stats(client).total == 0
