"""Elemta look-ups, the deployment gate and runbook actions, with the stack's `mailinfra:elemta*` settings
(or ELEMTA_URL / ELEMTA_USERNAME / ELEMTA_PASSWORD / ELEMTA_API_KEY).

- Plain functions (`health`, `queue_stats`, `queue_messages`, ...) return typed models; scripts and tests
  call them directly.
- `get_*` functions are for Pulumi programs: they return an Output of plain data, ready to `export`.
- `require_healthy` is the deployment gate: called at the top of a program, it stops `preview` and `up`
  before any change when the server is unhealthy or its queues are beyond the thresholds given.
- `flush_queue`, `delete_message` and `retry_message` change the server: runbook actions, never called by
  a resource or a look-up."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

import pulumi
from typing_extensions import Unpack

from ..config import program_config
from ..diagnostics import install_engine_logging, program_output
from ..errors import MailinfraError
from .models import (
    DeliveryStats,
    FlushableQueue,
    Health,
    MessageLogEntry,
    QueueMessage,
    QueueName,
    QueueStats,
    SystemLogs,
    TimeScale,
)

if TYPE_CHECKING:
    from .client import ElemtaClient


def _client(client: ElemtaClient | None) -> ElemtaClient:
    """The client given, else one built from the stack's (or the environment's) Elemta settings."""
    if client is not None:
        return client
    from .client import elemta_client  # httpx loads on a program's first look-up, not at import

    return elemta_client(program_config())


# ----- plain look-ups -----------------------------------------------------------------------------
def health(client: ElemtaClient | None = None) -> Health:
    """The server's health (`status`, uptime, memory; the real server adds queue and SMTP sections)."""
    return _client(client).health()


def queue_stats(client: ElemtaClient | None = None) -> QueueStats:
    """Message counts per queue (active, deferred, hold, failed), their total and the queued bytes."""
    return _client(client).queue_stats()


def queue_messages(queue: QueueName, client: ElemtaClient | None = None) -> list[QueueMessage]:
    """The messages of one queue: active, deferred, hold or failed (`pending`, the docs' name, means active)."""
    return _client(client).queue_messages(queue)


def message(message_id: str, client: ElemtaClient | None = None) -> QueueMessage:
    """One queued message with its content (NotFoundError once it has left the queue)."""
    return _client(client).message(message_id)


def delivery_stats(time_scale: TimeScale = "hour", client: ElemtaClient | None = None) -> DeliveryStats:
    """Delivered / failed / deferred totals and their breakdown by hour, day, week or month."""
    return _client(client).delivery_stats(time_scale)


def system_logs(level: str | None = None, limit: int = 100, client: ElemtaClient | None = None) -> SystemLogs:
    """The last `limit` system log lines (only those of `level` when the lines carry one)."""
    return _client(client).system_logs(level, limit)


def message_logs(event_type: str | None = None, limit: int = 100,
                 client: ElemtaClient | None = None) -> list[MessageLogEntry]:
    """Message lifecycle log entries (reception, delivery, rejection, deferral, bounce, tempfail, ...)."""
    return _client(client).message_logs(event_type, limit)


# ----- program look-ups (Outputs of plain data, for `pulumi.export`) ------------------------------
def _plain(model: Any) -> Any:
    if isinstance(model, list):
        return [_plain(item) for item in model]
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def get_health() -> pulumi.Output[dict[str, Any]]:
    """The server's health, as plain data."""
    return program_output(lambda: _plain(health()))


def get_queue_stats() -> pulumi.Output[dict[str, Any]]:
    """Message counts per queue and their total, as plain data."""
    return program_output(lambda: _plain(queue_stats()))


def get_queue_messages(queue: pulumi.Input[str]) -> pulumi.Output[list[dict[str, Any]]]:
    """The messages of one queue, as plain data."""
    return program_output(lambda q: _plain(queue_messages(q)), queue)


def get_message(message_id: pulumi.Input[str]) -> pulumi.Output[dict[str, Any]]:
    """One queued message, as plain data."""
    return program_output(lambda m: _plain(message(m)), message_id)


def get_delivery_stats(time_scale: pulumi.Input[str] = "hour") -> pulumi.Output[dict[str, Any]]:
    """Delivery statistics for the time scale, as plain data."""
    return program_output(lambda t: _plain(delivery_stats(t)), time_scale)


def get_system_logs(level: str | None = None, limit: int = 100) -> pulumi.Output[dict[str, Any]]:
    """The last system log lines, as plain data."""
    return program_output(lambda: _plain(system_logs(level, limit)))


def get_message_logs(event_type: str | None = None, limit: int = 100) -> pulumi.Output[list[dict[str, Any]]]:
    """Message lifecycle log entries, as plain data."""
    return program_output(lambda: _plain(message_logs(event_type, limit)))


# ----- the deployment gate ------------------------------------------------------------------------
class GateClosed(MailinfraError):
    """The server is unhealthy or its queues are beyond the gate's thresholds."""


class GateThresholds(TypedDict, total=False):
    """The most a queue may hold for the gate to pass (a count equal to its maximum passes)."""

    max_active: int
    max_deferred: int
    max_failed: int
    max_hold: int
    max_total_size_bytes: int


def check_gate(*, client: ElemtaClient | None = None, **thresholds: Unpack[GateThresholds]) -> QueueStats:
    """The queue stats when the server is healthy and every given threshold holds; GateClosed quoting the
    numbers otherwise."""
    unknown = sorted(set(thresholds) - set(GateThresholds.__annotations__))
    if unknown:
        raise TypeError(f"unknown gate threshold(s) {', '.join(unknown)}; known: "
                        f"{', '.join(GateThresholds.__annotations__)}")
    client = _client(client)
    state = client.health()
    if not state.healthy:
        raise GateClosed(f"Elemta at {client.settings.url} is unhealthy (status {state.status!r})")
    stats = client.queue_stats()
    limits = {queue: thresholds.get(f"max_{queue}") for queue in ("active", "deferred", "failed", "hold")}
    over = [f"{queue} {getattr(stats, queue)} > {limit}" for queue, limit in limits.items()
            if limit is not None and getattr(stats, queue) > limit]
    max_size = thresholds.get("max_total_size_bytes")
    if max_size is not None and (stats.total_size or 0) > max_size:
        over.append(f"total size {stats.total_size} B > {max_size} B")
    if over:
        counts = (f"active {stats.active}, deferred {stats.deferred}, hold {stats.hold}, failed {stats.failed}, "
                  f"total {stats.total}" + (f", {stats.total_size} B" if stats.total_size is not None else ""))
        raise GateClosed(f"Elemta queues at {client.settings.url} are over the gate's thresholds: "
                         f"{'; '.join(over)} (now: {counts})")
    return stats


def require_healthy(*, client: ElemtaClient | None = None, **thresholds: Unpack[GateThresholds]) -> QueueStats:
    """The deployment gate. Call it at the top of a program, before any resource: it runs at once (during
    `preview` too) and, when the server is unhealthy or a queue is beyond its threshold, stops the program
    with a message quoting the numbers, so nothing is changed. Returns the queue stats otherwise."""
    install_engine_logging()
    try:
        return check_gate(client=client, **thresholds)
    except MailinfraError as exc:
        raise pulumi.RunError(f"deployment gate: {exc}") from None


# ----- runbook actions (never run implicitly) -----------------------------------------------------
def flush_queue(queue: FlushableQueue, client: ElemtaClient | None = None) -> Any:
    """Remove every message of a queue (`all`: of every queue). Needs the queue:flush permission."""
    return _client(client).flush_queue(queue)


def delete_message(message_id: str, client: ElemtaClient | None = None) -> None:
    """Remove one message from its queue. Needs the queue:delete permission."""
    _client(client).delete_message(message_id)


def retry_message(message_id: str, client: ElemtaClient | None = None) -> str:
    """Send a queued message again and remove the original; returns the new message's id. Elemta's API has
    no retry call (neither documented nor on the server), so this re-sends the message's sender, first
    recipient, subject and body through `/api/send-test`: headers other than those are not carried over."""
    client = _client(client)
    original = client.message(message_id)
    if not original.sender or not original.to:
        raise MailinfraError(f"message {message_id} has no sender or recipient to send again")
    body = (original.content or "").replace("\r\n", "\n").partition("\n\n")[2] or (original.content or "")
    sent = client.send_test(original.sender, original.to[0], original.subject or "", body.rstrip("\n"))
    client.delete_message(message_id)
    return sent.message_id


RESOURCE_LOOKUPS = {
    "DeliveryCheck": [get_health, get_queue_stats, get_queue_messages, get_message, get_message_logs,
                      get_delivery_stats],
}
