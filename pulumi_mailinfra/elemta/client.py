"""Elemta REST API client: optional Basic or API-key auth, JSON answers, errors as JSON
({"error", "code", "details"}, as documented) or as plain text (what the real server's `http.Error` sends).
Every call returns a typed model from `models`, which reads both the documented and the real shapes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import httpx

from ..config import ServiceSettings, resolve_settings
from ..http import ApiClient, BearerAuth, _json_or_none, cached_client, error_messages
from .models import (
    DeliveryStats,
    FlushableQueue,
    Health,
    MessageLogEntry,
    QueueMessage,
    QueueName,
    QueueStats,
    SendTestResult,
    SystemLogs,
    TimeScale,
    real_queue_name,
)


class ElemtaClient(ApiClient):
    service = "elemta"
    api_prefix = "/api"  # the configured URL is the server's root (a trailing /api is tolerated)
    backoff_initial = 0.2
    backoff_max = 2.0

    def __init__(self, settings: ServiceSettings, transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(dataclasses.replace(settings, url=settings.url.removesuffix("/api")), transport)

    def _auth(self) -> httpx.Auth | None:
        if self.settings.token:  # an API key: the server also takes `ApiKey <key>` and a bare `elemta_...`
            return BearerAuth(self.settings.token)
        if self.settings.username and self.settings.password:
            return httpx.BasicAuth(self.settings.username, self.settings.password)
        return None  # the server's read-only endpoints are public; writes then fail with 401

    def _unwrap(self, response: httpx.Response, method: str, path: str) -> Any:
        body = _json_or_none(response)
        if response.is_success:
            return body
        text = response.text.strip()
        messages = error_messages(body, text[:500] or response.reason_phrase or f"HTTP {response.status_code}")
        if isinstance(body, Mapping) and isinstance(body.get("details"), str) and body["details"]:
            messages.append(body["details"])
        if response.status_code == 401:
            sent = "the API key (mailinfra:elemtaApiKey)" if self.settings.token else (
                "the Basic credentials (mailinfra:elemtaUsername / elemtaPassword)" if self.settings.username
                else "no credentials (set mailinfra:elemtaApiKey, or elemtaUsername and elemtaPassword)")
            messages.append(f"the server refused {sent}")
        code = body.get("code") if isinstance(body, Mapping) and isinstance(body.get("code"), str) else None
        raise self._error(response.status_code, code, list(dict.fromkeys(messages)), method, path)

    # ----- monitoring -----------------------------------------------------------------------------
    def health(self) -> Health:
        return Health.model_validate(self.get(self.path("/health")))

    def queue_stats(self) -> QueueStats:
        return QueueStats.model_validate(self.get(self.path("/queue/stats")))

    def queue_messages(self, queue: QueueName) -> list[QueueMessage]:
        """The messages of one queue (`pending` is the docs' name for `active`)."""
        data = self.get(self.path(f"/queue/{real_queue_name(queue)}"))
        items = data.get("messages") if isinstance(data, Mapping) else data  # a documented wrapper, if any
        return [QueueMessage.model_validate(item) for item in items or []]

    def message(self, message_id: str) -> QueueMessage:
        """One queued message with its content; NotFoundError once it has left the queue."""
        return QueueMessage.model_validate(self.get(self.path(f"/queue/message/{message_id}")))

    def delivery_stats(self, time_scale: TimeScale = "hour") -> DeliveryStats:
        return DeliveryStats.model_validate(self.get(self.path("/stats/delivery"), timeScale=time_scale))

    def system_logs(self, level: str | None = None, limit: int = 100) -> SystemLogs:
        """System log lines. The docs take `level` and `limit`; the real server takes `tail` and ignores the
        others, so all three are sent and the level is applied here too when lines carry one."""
        params: dict[str, Any] = {"limit": limit, "tail": limit}
        if level:
            params["level"] = level
        logs = SystemLogs.model_validate(self.get(self.path("/logs"), **params))
        if level:
            logs.logs = [line for line in logs.logs if _line_level(line) in (None, level.lower())]
        return logs

    def message_logs(self, event_type: str | None = None, limit: int = 100,
                     level: str | None = None) -> list[MessageLogEntry]:
        params: dict[str, Any] = {"limit": limit}
        if event_type:
            params["event_type"] = event_type
        if level:
            params["level"] = level
        data = self.get(self.path("/logs/messages"), **params)
        entries = data.get("logs") if isinstance(data, Mapping) else data
        return [MessageLogEntry.model_validate(entry) for entry in entries or []]

    # ----- actions (never run implicitly) ---------------------------------------------------------
    def send_test(self, sender: str, recipient: str, subject: str, body: str) -> SendTestResult:
        """Queue a test message. Not retried after it may have reached the server (a second one would be a
        second message): an ambiguous failure raises AmbiguousWriteError."""
        answer = self.request("POST", self.path("/send-test"),
                              json={"from": sender, "to": recipient, "subject": subject, "body": body})
        return SendTestResult.model_validate(answer)

    def delete_message(self, message_id: str) -> None:
        self.request("DELETE", self.path(f"/queue/message/{message_id}"))

    def flush_queue(self, queue: FlushableQueue) -> Any:
        """Remove every message of a queue (`all`: every queue). Flushing is repeatable, so it is retried."""
        return self.request("POST", self.path(f"/queue/{real_queue_name(queue)}/flush"), idempotent=True)


def _line_level(line: Any) -> str | None:
    if isinstance(line, Mapping) and isinstance(line.get("level"), str):
        return str(line["level"]).lower()
    if isinstance(line, str) and line.startswith("{"):
        try:
            parsed = json.loads(line)
        except ValueError:
            return None
        if isinstance(parsed, Mapping) and isinstance(parsed.get("level"), str):
            return str(parsed["level"]).lower()
    return None


def elemta_client(raw_config: dict[str, Any] | None = None) -> ElemtaClient:
    settings: ServiceSettings = resolve_settings("elemta", raw_config)
    return cached_client(ElemtaClient, settings)  # type: ignore[return-value]
