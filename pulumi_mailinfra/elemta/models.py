"""Typed Elemta API answers. Each model reads both the documented shape (elemta-api.txt) and what the real
server sends where they differ (see docs/assumptions.md, "Elemta"): unknown keys are kept, `null` lists
read as empty, documented and real field names are both accepted."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BeforeValidator, ConfigDict, Field, model_validator

from ..validation import EmailAddress, LazyModel, StrictModel


def _null_as_empty_list(value: Any) -> Any:
    return [] if value is None else value


def _one_or_many(value: Any) -> Any:
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


def _null_time(value: Any) -> Any:
    # Go's zero time (`0001-01-01T00:00:00Z`) means "not set".
    return None if value in (None, "") or (isinstance(value, str) and value.startswith("0001-01-01")) else value


List = Annotated[list[Any], BeforeValidator(_null_as_empty_list)]
OptionalTime = Annotated[datetime | None, BeforeValidator(_null_time)]

# The queues the server keeps. The docs' `pending` is the real server's `active` (it answers 400 for
# `pending`), so the client asks for `active` when given `pending`.
QueueName = Literal["active", "deferred", "hold", "failed", "pending"]
FlushableQueue = Literal["active", "deferred", "hold", "failed", "pending", "all"]
TimeScale = Literal["hour", "day", "week", "month"]
EventType = Literal["reception", "delivery", "rejection", "deferral", "bounce", "tempfail", "authentication",
                    "system"]
LogLevel = Literal["debug", "info", "warn", "error", "fatal"]


def real_queue_name(queue: str) -> str:
    return "active" if queue.lower() == "pending" else queue.lower()


class ElemtaModel(LazyModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


class MemoryStats(ElemtaModel):
    alloc: int | None = None
    total_alloc: int | None = None
    sys: int | None = None


class Health(ElemtaModel):
    """GET /api/health. The real server always answers `status: "healthy"` and adds queue, smtp and
    throughput sections (kept as extra fields); `uptime` is seconds."""

    status: str
    uptime: float | None = None
    uptime_formatted: str | None = None
    started_at: OptionalTime = None
    go_version: str | None = None
    num_goroutines: int | None = None
    memory: MemoryStats | None = None

    @property
    def healthy(self) -> bool:
        return self.status.lower() in {"healthy", "ok", "up"}


class QueueStats(ElemtaModel):
    """GET /api/queue/stats: the docs' {pending, deferred, failed, total} or the real server's
    {active_count, deferred_count, hold_count, failed_count, total_size, last_updated}. `total` is the
    message count (the server's own when it sends one, else the sum); `total_size` is bytes (real server
    only, recomputed every 5 s)."""

    active: int = Field(0, validation_alias=AliasChoices("active_count", "active", "pending"))
    deferred: int = Field(0, validation_alias=AliasChoices("deferred_count", "deferred"))
    hold: int = Field(0, validation_alias=AliasChoices("hold_count", "hold"))
    failed: int = Field(0, validation_alias=AliasChoices("failed_count", "failed"))
    total: int | None = Field(None, validation_alias=AliasChoices("total", "total_messages"))
    total_size: int | None = None
    last_updated: OptionalTime = None

    @model_validator(mode="after")
    def _count_total(self) -> QueueStats:
        if self.total is None:
            self.total = self.active + self.deferred + self.hold + self.failed
        return self


class DeliveryAttempt(ElemtaModel):
    time: OptionalTime = None
    result: str | None = None
    error: str | None = None


class QueueMessage(ElemtaModel):
    """One message of a queue (listing entry, or GET /api/queue/message/{id} with `content`)."""

    id: str
    queue_type: str | None = None
    sender: str | None = Field(None, validation_alias=AliasChoices("from", "sender"),
                               serialization_alias="from")
    to: Annotated[list[str], BeforeValidator(_one_or_many)] = []
    domain: str | None = None
    subject: str | None = None
    size: int | None = None
    priority: int | None = None
    received_at: OptionalTime = None
    created_at: OptionalTime = None
    updated_at: OptionalTime = None
    next_retry: OptionalTime = None
    retry_count: int = 0
    last_error: str | None = None
    hold_reason: str | None = None
    attempts: Annotated[list[DeliveryAttempt], BeforeValidator(_null_as_empty_list)] = []
    content: str | None = None


class TimeBucket(ElemtaModel):
    label: str | None = Field(None, validation_alias=AliasChoices("label", "hour"))
    delivered: int = 0
    failed: int = 0
    deferred: int = 0


class DeliveryError(ElemtaModel):
    message_id: str | None = None
    recipient: str | None = None
    error: str | None = None
    timestamp: OptionalTime = None


class DeliveryStats(ElemtaModel):
    """GET /api/stats/delivery. The real server answers `data: null` and `recent_errors: null` without its
    metrics store; both read as empty lists."""

    total_delivered: int = 0
    total_failed: int = 0
    total_deferred: int = 0
    success_rate: float = 0.0
    data: Annotated[list[TimeBucket], BeforeValidator(_null_as_empty_list)] = []
    by_hour: Annotated[list[TimeBucket], BeforeValidator(_null_as_empty_list)] = []
    recent_errors: Annotated[list[DeliveryError], BeforeValidator(_null_as_empty_list)] = []


class MessageLogEntry(ElemtaModel):
    """One entry of GET /api/logs/messages: the documented {timestamp, event_type, message_id, recipient,
    message, ...} or the real server's {time, level, msg, event_type, component, fields{...}} (the whole
    log line under `fields`, where the message id, recipient and error live)."""

    timestamp: str | None = Field(None, validation_alias=AliasChoices("timestamp", "time"))
    level: str | None = None
    message: str | None = Field(None, validation_alias=AliasChoices("message", "msg"))
    event_type: str | None = None
    component: str | None = None
    message_id: str | None = None
    recipient: str | None = None
    delivery_host: str | None = None
    delivery_ip: str | None = None
    spam_score: float | None = None
    threats: List = []
    fields: dict[str, Any] = {}

    @model_validator(mode="after")
    def _lift_fields(self) -> MessageLogEntry:
        # The real server nests the log line's own keys under `fields`: lift the well-known ones.
        for key, candidates in (("message_id", ("message_id", "msg_id", "queue_id", "id")),
                                ("recipient", ("recipient", "rcpt", "to")),
                                ("delivery_host", ("delivery_host", "host", "mx"))):
            if getattr(self, key) is None:
                for candidate in candidates:
                    value = self.fields.get(candidate)
                    if isinstance(value, list) and value:  # the real server's `to: [...]`
                        value = value[0]
                    if isinstance(value, str) and value:
                        setattr(self, key, value)
                        break
        return self

    @property
    def error(self) -> str | None:
        for key in ("bounce_reason", "failure_reason", "error", "err", "reason", "response"):
            value = self.fields.get(key)
            if isinstance(value, str) and value:
                return value
        return None


class SystemLogs(ElemtaModel):
    """GET /api/logs: the real server answers {logs: [lines], count, tail, source, time}; entries may be
    plain lines or structured objects."""

    logs: Annotated[list[Any], BeforeValidator(_null_as_empty_list)] = []
    source: str | None = None


class SendTestResult(ElemtaModel):
    """POST /api/send-test: {status, message_id, message}."""

    status: str | None = None
    message_id: str = Field(validation_alias=AliasChoices("message_id", "id", "messageId"))
    message: str | None = None


# ----- resource inputs ----------------------------------------------------------------------------
class DeliveryCheckModel(StrictModel):
    sender: EmailAddress = Field(description="The test message's sender (`from`).")
    recipient: EmailAddress = Field(description="The test message's recipient (`to`): one address, as the server "
                                    "takes it.")
    subject: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        default="pulumi-mailinfra delivery check", description="The test message's subject.")
    body: Annotated[str, Field(max_length=10000)] = Field(
        default="Sent by pulumi-mailinfra's DeliveryCheck after a deployment.",
        description="The test message's body.")
    triggers: list[str] = Field(
        default_factory=list, description="Values whose change runs the check again, e.g. the ids of the relay "
        "servers, routes and domains on the mail path. Any other input change runs it again too.")
    wait_for: Literal["queued", "delivered"] = Field(
        default="delivered", description="`delivered`: the message must leave the queue delivered. `queued`: the "
        "server accepting it into its active queue is enough (a server that delivers nothing, such as "
        "`elemta web` alone).")
    timeout_seconds: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=120, description="How long to follow the message before the check fails (seconds, at most 3600).")
    poll_interval_seconds: Annotated[float, Field(ge=0.05, le=60)] = Field(
        default=1.0, description="How often the queue is looked at while waiting (seconds, 0.05 to 60).")


class DeliveryCheckOutputs(LazyModel):
    message_id: str = Field(description="The id the server gave the last test message.")
    state: str = Field(description="How the last check ended: `delivered` or `queued`.")
    duration_seconds: float = Field(description="How long the last check took, from sending to its end.")
    checked_at: str = Field(description="When the last check ended (UTC, ISO 8601).")
