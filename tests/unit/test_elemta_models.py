"""Elemta answers read in both shapes (documented and real server), and every DeliveryCheck input bound."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_mailinfra.elemta.models import (
    DeliveryCheckModel,
    DeliveryStats,
    Health,
    MessageLogEntry,
    QueueMessage,
    QueueStats,
    SendTestResult,
    real_queue_name,
)
from pulumi_mailinfra.reconcile import is_unknown
from pulumi_mailinfra.validation import failures


def test_queue_stats_documented_shape_counts_pending_as_active() -> None:
    stats = QueueStats.model_validate({"pending": 15, "deferred": 3, "failed": 1, "total": 19})
    assert (stats.active, stats.deferred, stats.failed, stats.hold, stats.total) == (15, 3, 1, 0, 19)
    assert stats.total_size is None


def test_queue_stats_real_shape_sums_the_total() -> None:
    stats = QueueStats.model_validate({"active_count": 2, "deferred_count": 1, "hold_count": 4, "failed_count": 3,
                                       "total_size": 2048, "last_updated": "2026-11-24T07:00:00Z"})
    assert (stats.active, stats.deferred, stats.hold, stats.failed, stats.total) == (2, 1, 4, 3, 10)
    assert stats.total_size == 2048 and stats.last_updated is not None


def test_delivery_stats_nulls_read_as_empty() -> None:
    real = DeliveryStats.model_validate({"total_delivered": 0, "total_failed": 1, "total_deferred": 0,
                                         "success_rate": 0, "data": None, "recent_errors": None,
                                         "by_hour": [{"hour": "15:00", "delivered": 1, "failed": 0, "deferred": 0}]})
    assert real.data == [] and real.recent_errors == [] and real.by_hour[0].label == "15:00"
    documented = DeliveryStats.model_validate({"total_delivered": 1250, "success_rate": 94.8,
                                               "data": [{"label": "2026-01-28", "delivered": 52}],
                                               "recent_errors": [{"message_id": "msg-1", "error": "timeout",
                                                                  "timestamp": "2026-01-28T12:00:00Z"}]})
    assert documented.data[0].delivered == 52 and documented.recent_errors[0].error == "timeout"


def test_message_log_entry_both_shapes() -> None:
    documented = MessageLogEntry.model_validate({
        "timestamp": "2026-01-28T12:00:00Z", "event_type": "rejection", "message_id": "msg-1",
        "recipient": "user@example.com", "message": "Message rejected due to spam score", "threats": ["spam"]})
    assert (documented.message_id, documented.recipient, documented.message) == (
        "msg-1", "user@example.com", "Message rejected due to spam score")
    real = MessageLogEntry.model_validate({
        "time": "2026-11-24T07:09:57Z", "level": "ERROR", "msg": "message_bounce", "event_type": "bounce",
        "component": "message-lifecycle", "fields": {"message_id": "17-1", "to": ["nobody@example.net"],
                                                     "bounce_reason": "Permanent failure: rejected"}})
    assert (real.message_id, real.recipient, real.error, real.timestamp) == (
        "17-1", "nobody@example.net", "Permanent failure: rejected", "2026-11-24T07:09:57Z")
    assert real.threats == []


def test_queue_message_real_shape() -> None:
    message = QueueMessage.model_validate({
        "id": "17-1", "queue_type": "failed", "from": "a@example.org", "to": ["b@example.net"], "retry_count": 0,
        "next_retry": "0001-01-01T00:00:00Z", "last_error": "Permanent failure", "attempts": None})
    assert message.sender == "a@example.org" and message.to == ["b@example.net"]
    assert message.next_retry is None and message.attempts == []
    assert QueueMessage.model_validate({"id": "x", "to": "c@example.net"}).to == ["c@example.net"]


def test_health_and_send_test_answers() -> None:
    assert Health.model_validate({"status": "healthy", "uptime": 2, "queue": {"active_count": 0}}).healthy
    assert not Health.model_validate({"status": "degraded"}).healthy
    sent = SendTestResult.model_validate({"status": "success", "message_id": "17-1", "message": "queued"})
    assert sent.message_id == "17-1"


@pytest.mark.parametrize(("queue", "real"), [("pending", "active"), ("PENDING", "active"), ("deferred", "deferred"),
                                             ("Hold", "hold")])
def test_docs_pending_queue_is_the_real_active_queue(queue: str, real: str) -> None:
    assert real_queue_name(queue) == real


CHECK = {"sender": "ops@example.org", "recipient": "probe@example.net"}


def paths(values: dict[str, Any]) -> list[str]:
    return [p for p, _ in failures(DeliveryCheckModel, values, is_unknown)]


@pytest.mark.parametrize(("field", "value", "ok"), [
    ("sender", "ops@example.org", True), ("sender", "ops", False), ("sender", "ops@", False),
    ("recipient", "a.b+c@mail.example.net", True), ("recipient", "not an address", False),
    ("recipient", ["a@example.net"], False),
    ("subject", "x", True), ("subject", "x" * 200, True), ("subject", "", False), ("subject", "x" * 201, False),
    ("body", "", True), ("body", "x" * 10000, True), ("body", "x" * 10001, False),
    ("wait_for", "queued", True), ("wait_for", "delivered", True), ("wait_for", "sent", False),
    ("timeout_seconds", 0.5, True), ("timeout_seconds", 3600, True), ("timeout_seconds", 0, False),
    ("timeout_seconds", 3601, False),
    ("poll_interval_seconds", 0.05, True), ("poll_interval_seconds", 60, True),
    ("poll_interval_seconds", 0.04, False), ("poll_interval_seconds", 61, False),
    ("triggers", ["a", "b"], True), ("triggers", "a", False),
])
def test_delivery_check_inputs(field: str, value: Any, ok: bool) -> None:
    assert (paths({**CHECK, field: value}) == []) is ok


def test_delivery_check_needs_sender_and_recipient() -> None:
    assert sorted(paths({})) == ["recipient", "sender"]
    assert DeliveryCheckModel.model_validate(CHECK).wait_for == "delivered"
