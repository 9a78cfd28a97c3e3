"""State and rules of the Elemta API emulator, testable without HTTP. Shapes follow the real server where it
differs from elemta-api.txt (docs/assumptions.md, "Elemta"): queues active / deferred / hold / failed,
stats as `*_count` + `total_size`, message ids `<unixnano>-<n>`, structured message logs.

A message sent with `send_test` is listed in `active` at once, as on the real server. It then moves on by a
delivery step: due `delay_seconds` after it was queued (or after its next retry time), the step applies the
delivery mode — `deliver` (it leaves the queue; a `delivery` log entry), `defer` (to `deferred` with the
mode's error as `last_error`, retried `retry_seconds` later), `fail` (to `failed`, a `bounce` entry) or
`hold` (to `hold` with the error as `hold_reason`). Mode `manual` leaves messages where they are until
`deliver_due(force=True)`. The step runs lazily before every read, so a test controls its timing through
`delay_seconds` and `force` alone."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..store import ObjectStore

QUEUES = ("active", "deferred", "hold", "failed")
MODES = ("deliver", "defer", "fail", "hold", "manual")
LIFECYCLE_EVENTS = ("reception", "delivery", "rejection", "deferral", "bounce", "tempfail", "authentication")
MAX_LOG_LIMIT = 500


class ElemtaError(Exception):
    """An error answered as the real server does: `http.Error` text with a status."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ElemtaError):
    status = 400


class NotFound(ElemtaError):
    status = 404


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


class ElemtaBackend(ObjectStore):
    def __init__(self, state_path: str | os.PathLike[str] | None = None, *, delay_seconds: float = 0.5,
                 clock: Any = time.time) -> None:
        super().__init__("elemta", kinds=("messages", "logs", "settings"), sequences=("message", "log"),
                         state_path=state_path)
        self._clock = clock
        self._started = clock()
        if "delivery" not in self._objects["settings"]:
            with self._write():
                self._put("settings", {"id": "delivery", "mode": "deliver", "delay_seconds": delay_seconds,
                                       "retry_seconds": 60.0, "error": None})
                self._put("settings", {"id": "health", "status": "healthy"})

    # ----- settings (the admin API) ---------------------------------------------------------------
    @property
    def delivery(self) -> dict[str, Any]:
        return dict(self._objects["settings"]["delivery"])

    def set_delivery(self, mode: str | None = None, delay_seconds: float | None = None,
                     retry_seconds: float | None = None, error: str | None = None) -> dict[str, Any]:
        """How the delivery step treats due messages (see the module docstring)."""
        if mode is not None and mode not in MODES:
            raise BadRequest(f"mode must be one of {', '.join(MODES)}")
        with self._write():
            settings = self.delivery
            for key, value in (("mode", mode), ("delay_seconds", delay_seconds), ("retry_seconds", retry_seconds)):
                if value is not None:
                    settings[key] = value
            settings["error"] = error
            return dict(self._put("settings", settings))

    def set_health(self, status: str) -> None:
        """The real server always says "healthy"; this lets a test see an unhealthy one."""
        with self._write():
            self._put("settings", {"id": "health", "status": status})

    def reset(self) -> None:
        delivery = self.delivery | {"mode": "deliver", "error": None}
        super().reset()
        with self._write():
            self._put("settings", delivery)
            self._put("settings", {"id": "health", "status": "healthy"})

    # ----- the delivery step ----------------------------------------------------------------------
    def deliver_due(self, force: bool = False) -> int:
        """Apply the delivery mode to every message that is due (`force`: every active or deferred one, also
        in `manual` mode, whatever its time). Returns how many moved."""
        settings, now = self.delivery, self._clock()
        mode = settings["mode"]
        if mode == "manual" and not force:
            return 0
        if mode == "manual":
            mode = "deliver"
        moved = 0
        with self._write():
            for message in list(self._objects["messages"].values()):
                if message["queue_type"] not in ("active", "deferred"):
                    continue
                if not force and message["_due"] > now:
                    continue
                self._apply(message, mode, settings, now)
                moved += 1
        return moved

    def _apply(self, message: dict[str, Any], mode: str, settings: Mapping[str, Any], now: float) -> None:
        error = settings.get("error")
        if mode == "deliver":
            self._remove("messages", message["id"])
            self._log("info", "message delivered", "delivery", message, now,
                      status="delivered", delivery_host="127.0.0.1", smtp_response="250 2.0.0 OK")
            return
        message["attempts"] = [*(message.get("attempts") or []), {"time": _iso(now), "result": mode,
                                                                 "error": error or ""}]
        message["updated_at"] = _iso(now)
        if mode == "defer":
            error = error or "451 4.3.0 temporary failure (emulated)"
            message.update(queue_type="deferred", last_error=error, retry_count=message["retry_count"] + 1,
                           next_retry=_iso(now + settings["retry_seconds"]), _due=now + settings["retry_seconds"])
            self._log("warn", "delivery deferred", "deferral", message, now, error=error)
        elif mode == "fail":
            error = error or "550 5.1.1 mailbox unavailable (emulated)"
            message.update(queue_type="failed", last_error=error, retry_count=message["retry_count"] + 1)
            self._log("error", "delivery failed permanently", "bounce", message, now, error=error)
        else:  # hold
            message.update(queue_type="hold", hold_reason=error or "held by policy (emulated)")
            self._log("warn", "message held", "system", message, now, reason=message["hold_reason"])
        self._put("messages", message)

    def _log(self, level: str, msg: str, event_type: str, message: Mapping[str, Any], now: float,
             **fields: Any) -> None:
        entry = {"id": self._next_id("log"), "time": _iso(now), "level": level, "msg": msg,
                 "event_type": event_type, "component": "queue-processor" if event_type != "reception" else "api",
                 "message_id": message["id"], "from": message["from"], "recipient": message["to"][0], **fields}
        self._put("logs", entry)

    # ----- the API --------------------------------------------------------------------------------
    def send_test(self, body: Any) -> dict[str, Any]:
        """POST /api/send-test: `from` and `to` required, `to` one string (the real server answers a list
        with 400 "Invalid JSON"); addresses are not validated, as on the real server."""
        if not isinstance(body, Mapping):
            raise BadRequest("Invalid JSON")
        sender, recipient = body.get("from"), body.get("to")
        for value in (sender, recipient, body.get("subject"), body.get("body")):
            if value is not None and not isinstance(value, str):
                raise BadRequest("Invalid JSON")
        if not sender or not recipient:
            raise BadRequest("from and to are required")
        now = self._clock()
        subject = body.get("subject") or "Test Email"
        content = f"From: {sender}\r\nTo: {recipient}\r\nSubject: {subject}\r\n\r\n{body.get('body') or ''}\r\n"
        with self._write():
            message_id = f"{time.time_ns()}-{self._next_id('message')}"
            message = {"id": message_id, "queue_type": "active", "file_path": f"/queue/active/{message_id}.json",
                       "from": sender, "to": [recipient], "domain": recipient.rpartition("@")[2],
                       "subject": subject, "size": len(content), "priority": 2, "received_at": _iso(now),
                       "created_at": _iso(now), "updated_at": _iso(now), "next_retry": "0001-01-01T00:00:00Z",
                       "retry_count": 0, "content": content,
                       "_due": now + float(self.delivery["delay_seconds"])}
            self._put("messages", message)
            self._log("info", "message accepted for delivery", "reception", message, now)
        return {"status": "success", "message_id": message_id, "message": "Test email queued successfully"}

    @staticmethod
    def _public(message: Mapping[str, Any], with_content: bool = False) -> dict[str, Any]:
        return {k: v for k, v in message.items() if not k.startswith("_") and (with_content or k != "content")}

    def queue_name(self, queue: str) -> str:
        name = queue.lower()
        if name not in QUEUES:
            raise BadRequest("Error: invalid queue type")  # the docs' `pending` included, as on the server
        return name

    def list_queue(self, queue: str | None) -> list[dict[str, Any]] | None:
        """A queue's messages (None: every queue; the server answers `null` when that is empty)."""
        self.deliver_due()
        wanted = self.queue_name(queue) if queue is not None else None
        found = [self._public(m) for m in self._objects["messages"].values()
                 if wanted is None or m["queue_type"] == wanted]
        found.sort(key=lambda m: m["created_at"])
        return found if found or wanted is not None else None

    def get_message(self, message_id: str) -> dict[str, Any]:
        self.deliver_due()
        message = self._objects["messages"].get(message_id)
        if message is None:
            raise NotFound(f"Message not found: {message_id}")
        return self._public(message, with_content=True)

    def delete_message(self, message_id: str) -> dict[str, Any]:
        with self._write():
            if message_id not in self._objects["messages"]:
                raise NotFound(f"Message not found: {message_id}")
            self._remove("messages", message_id)
        return {"status": "success", "message": f"Message {message_id} deleted"}

    def flush(self, queue: str) -> dict[str, Any]:
        wanted = None if queue.lower() == "all" else self.queue_name(queue)
        with self._write():
            doomed = [m["id"] for m in self._objects["messages"].values() if wanted in (None, m["queue_type"])]
            for message_id in doomed:
                self._remove("messages", message_id)
        return {"status": "success", "message": f"Queue {queue} flushed", "count": len(doomed)}

    def queue_stats(self) -> dict[str, Any]:
        self.deliver_due()
        messages = list(self._objects["messages"].values())
        counts = {q: sum(1 for m in messages if m["queue_type"] == q) for q in QUEUES}
        return {"active_count": counts["active"], "deferred_count": counts["deferred"],
                "hold_count": counts["hold"], "failed_count": counts["failed"],
                "total_size": sum(int(m["size"]) for m in messages), "last_updated": _iso(self._clock())}

    def health(self) -> dict[str, Any]:
        now = self._clock()
        stats = self.queue_stats()
        uptime = int(now - self._started)
        return {"status": self._objects["settings"]["health"]["status"], "uptime": uptime,
                "uptime_formatted": f"{uptime}s", "started_at": _iso(self._started), "go_version": "emulator",
                "num_goroutines": 1, "memory": {"alloc": 0, "total_alloc": 0, "sys": 0},
                "queue": {"total_messages": sum(v for k, v in stats.items() if k.endswith("_count")),
                          **{k: v for k, v in stats.items() if k.endswith("_count")}, "processor_active": True}}

    def delivery_stats(self, time_scale: str | None) -> dict[str, Any]:
        """Derived from the delivery, deferral and bounce log entries. Unknown time scales read as `hour`,
        as on the real server."""
        self.deliver_due()
        scale = time_scale if time_scale in ("hour", "day", "week", "month") else "hour"
        outcome = {"delivery": "delivered", "deferral": "deferred", "bounce": "failed"}
        events = [e for e in self._objects["logs"].values() if e["event_type"] in outcome]
        fmt = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d", "week": "%G-W%V", "month": "%Y-%m"}[scale]
        buckets: dict[str, dict[str, Any]] = {}
        for event in events:
            label = datetime.fromisoformat(event["time"].replace("Z", "+00:00")).strftime(fmt)
            bucket = buckets.setdefault(label, {"label": label, "delivered": 0, "failed": 0, "deferred": 0})
            bucket[outcome[event["event_type"]]] += 1
        totals = {key: sum(b[key] for b in buckets.values()) for key in ("delivered", "failed", "deferred")}
        finished = totals["delivered"] + totals["failed"]
        by_hour: dict[str, dict[str, Any]] = {}
        for event in events:
            hour = datetime.fromisoformat(event["time"].replace("Z", "+00:00")).strftime("%H:00")
            row = by_hour.setdefault(hour, {"hour": hour, "delivered": 0, "failed": 0, "deferred": 0})
            row[outcome[event["event_type"]]] += 1
        errors = [{"message_id": e["message_id"], "recipient": e["recipient"], "error": e.get("error"),
                   "timestamp": e["time"]} for e in events if e["event_type"] != "delivery"][-10:]
        return {"total_delivered": totals["delivered"], "total_failed": totals["failed"],
                "total_deferred": totals["deferred"],
                "success_rate": round(100.0 * totals["delivered"] / finished, 1) if finished else 0.0,
                "data": sorted(buckets.values(), key=lambda b: b["label"], reverse=True) or None,
                "by_hour": sorted(by_hour.values(), key=lambda r: r["hour"]),
                "recent_errors": errors or None}

    def message_logs(self, params: Mapping[str, str]) -> dict[str, Any]:
        """The real server's shape: {logs: [{time, level, msg, event_type, component, fields}], count,
        source, limit}; default limit 50, at most 500; `event_type` and `level` filters; oldest first."""
        self.deliver_due()
        try:
            limit = int(params.get("limit") or 50)
        except ValueError:
            limit = 50
        limit = min(MAX_LOG_LIMIT, limit if limit >= 1 else 50)
        event_type, level = params.get("event_type") or "", params.get("level") or ""
        entries = sorted(self._objects["logs"].values(), key=lambda e: e["id"])
        if event_type == "system":
            entries = [e for e in entries if e["event_type"] not in LIFECYCLE_EVENTS]
        elif event_type:
            entries = [e for e in entries if e["event_type"] == event_type]
        if level:
            entries = [e for e in entries if e["level"].lower() == level.lower()]
        entries = entries[-limit:]
        logs = [{"time": e["time"], "level": e["level"], "msg": e["msg"], "event_type": e["event_type"],
                 "component": e["component"], "fields": {k: v for k, v in e.items() if k != "id"}} for e in entries]
        return {"logs": logs or None, "count": len(logs), "source": "emulator", "limit": limit}

    def system_logs(self, params: Mapping[str, str]) -> dict[str, Any]:
        """The real server's shape: the last `tail` raw log lines (it ignores the docs' level / limit)."""
        try:
            tail = int(params.get("tail") or 100)
        except ValueError:
            tail = 100
        entries = sorted(self._objects["logs"].values(), key=lambda e: e["id"])[-tail:]
        lines = [json.dumps({k: v for k, v in e.items() if k != "id"}) for e in entries]
        return {"logs": lines, "count": len(lines), "tail": str(tail), "source": "elemta.log",
                "time": _iso(self._clock())}
