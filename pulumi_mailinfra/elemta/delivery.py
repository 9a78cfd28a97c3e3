"""The delivery check: send a test message through Elemta and follow it until it is delivered, fails, or a
timeout passes. Used by the `DeliveryCheck` resource and callable from runbooks and scripts."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..errors import (
    AmbiguousWriteError,
    ApiError,
    AuthenticationError,
    MailinfraError,
    NotFoundError,
    PermissionDeniedError,
)
from .models import MessageLogEntry, QueueMessage

if TYPE_CHECKING:
    from .client import ElemtaClient

FAILURE_EVENTS = frozenset({"bounce", "rejection"})
# How far back the message logs are read for a message that left the queue (the server caps a page at 500).
LOG_WINDOW = 500


class DeliveryCheckFailed(MailinfraError):
    """The test message was not delivered; the message says what happened."""


@dataclass(frozen=True)
class DeliveryOutcome:
    message_id: str
    state: str  # "delivered" or "queued"
    duration_seconds: float
    checked_at: str
    detail: str | None = None


def run_delivery_check(
    client: ElemtaClient,
    sender: str,
    recipient: str,
    subject: str = "pulumi-mailinfra delivery check",
    body: str = "Sent by pulumi-mailinfra's DeliveryCheck after a deployment.",
    *,
    wait_for: str = "delivered",
    timeout_seconds: float = 120,
    poll_interval_seconds: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryOutcome:
    """Check the server's health, send one test message, then follow it through the queue: success when it
    is queued (`wait_for="queued"`) or has left the queue delivered; DeliveryCheckFailed otherwise, saying
    what happened (unhealthy, rejected, failed, held, stuck in deferred with its last error, timed out)."""
    started = time.monotonic()
    where = client.settings.url
    try:
        health = client.health()
    except (AuthenticationError, PermissionDeniedError) as exc:
        raise DeliveryCheckFailed(f"Elemta at {where} refused the credentials: {exc}") from None
    except (ApiError, AmbiguousWriteError) as exc:
        raise DeliveryCheckFailed(f"Elemta at {where} did not answer its health check: {exc}") from None
    if not health.healthy:
        raise DeliveryCheckFailed(f"Elemta at {where} is unhealthy (status {health.status!r}); no test message sent")

    try:
        sent = client.send_test(sender, recipient, subject, body)
    except (AuthenticationError, PermissionDeniedError) as exc:
        raise DeliveryCheckFailed(f"Elemta refused to send the test message with these credentials: {exc}") from None
    except ApiError as exc:
        said = "; ".join(exc.messages) or str(exc)
        raise DeliveryCheckFailed(f"Elemta rejected the test message from {sender} to {recipient}: {said}") from None
    except AmbiguousWriteError as exc:
        raise DeliveryCheckFailed(f"the answer to the test message was lost ({exc}); it may be queued — "
                                  "run `pulumi up` again to send another") from None

    message_id = sent.message_id
    deadline = started + timeout_seconds
    last: QueueMessage | None = None
    while True:
        try:
            message: QueueMessage | None = client.message(message_id)
        except NotFoundError:
            message = None
        if message is None:
            return _left_queue(client, message_id, recipient, started, last)
        queue = (message.queue_type or "active").lower()
        if queue == "failed":
            raise DeliveryCheckFailed(f"test message {message_id} to {recipient} failed: "
                                      f"{message.last_error or 'no error given'}")
        if queue == "hold":
            raise DeliveryCheckFailed(f"test message {message_id} to {recipient} is on hold: "
                                      f"{message.hold_reason or 'no reason given'}")
        if wait_for == "queued":
            return _outcome(message_id, "queued", started, f"accepted into the {queue} queue")
        last = message
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeliveryCheckFailed(_timed_out(message, recipient, timeout_seconds))
        sleep(min(poll_interval_seconds, remaining))


def _outcome(message_id: str, state: str, started: float, detail: str | None) -> DeliveryOutcome:
    return DeliveryOutcome(message_id, state, round(time.monotonic() - started, 3),
                           datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"), detail)


def _left_queue(client: ElemtaClient, message_id: str, recipient: str, started: float,
                last: QueueMessage | None) -> DeliveryOutcome:
    """The message is no longer queued: its log entries say whether it was delivered or bounced. A message
    that left without a failure entry was delivered (delivered messages are removed from the queue; failed
    ones stay in `failed`)."""
    entries = [e for e in _message_logs(client) if e.message_id == message_id]
    failures = [e for e in entries if (e.event_type or "") in FAILURE_EVENTS]
    if failures:
        reason = failures[-1].error or failures[-1].message or "no error given"
        raise DeliveryCheckFailed(f"test message {message_id} to {recipient} was refused: {reason}")
    delivered = [e for e in entries if e.event_type == "delivery"]
    detail = delivered[-1].message if delivered else "left the queue"
    if last is not None and last.retry_count:
        detail = f"{detail} after {last.retry_count} deferral(s)"
    return _outcome(message_id, "delivered", started, detail)


def _message_logs(client: ElemtaClient) -> list[MessageLogEntry]:
    try:
        return client.message_logs(limit=LOG_WINDOW)
    except ApiError:
        return []  # the logs are a refinement; the queue already said the message left


def _timed_out(message: QueueMessage, recipient: str, timeout_seconds: float) -> str:
    queue = (message.queue_type or "active").lower()
    if queue == "deferred":
        retry = f"; next retry {message.next_retry.isoformat()}" if message.next_retry else ""
        return (f"test message {message.id} to {recipient} is stuck in the deferred queue after "
                f"{timeout_seconds:g} s ({message.retry_count} attempt(s)); last error: "
                f"{message.last_error or 'none given'}{retry}")
    return (f"test message {message.id} to {recipient} is still in the {queue} queue after {timeout_seconds:g} s: "
            "the server has not delivered it (is its queue processor running? `wait_for: queued` accepts a "
            "server that only queues)")
