"""Fault injection and request counting for the emulator, plus the ``/_emulator`` admin router.

A fault rule is a dict (``POST /_emulator/faults`` body, or ``--fault`` JSON on the command line)::

    {"kind": "status", "status": 503, "times": 2, "method": "POST",
     "path": "^/ga/api/v3/eng/relay_servers$", "retry_after": 1}

kinds:

* ``latency``: wait ``latency_ms`` before handling the request.
* ``status``: answer ``status`` with the GreenArrow error envelope without touching any state;
  ``retry_after`` (seconds) adds a ``Retry-After`` header (useful with 429 and 503).
* ``drop_after_write``: let the request run (and change state), then send the response headers and
  only part of the body and close the connection: the client sees a transport error although the
  write happened. Needs a real server (``EmulatorServer``); in-process test clients may differ.
* ``garbage``: answer ``status`` (default 200) with a body no API documents: ``body`` is ``html`` (a
  proxy's error page), ``truncated_json``, ``success_false`` (the envelope with ``success: false`` and no
  error) or ``wrong_shape`` (JSON of an unexpected shape). With ``"apply": true`` the request runs (and
  changes state) first, as behind a proxy that mangles answers; else nothing is applied.

``times`` is how many matching requests a rule applies to (``null``: forever), ``skip`` how many matching
requests it lets through first (default 0: a fault in the middle of a run, not only at its start); ``method`` and
``path`` (a regular expression searched in the request path) are optional filters. Every matching
``latency`` rule applies; of the ``status``/``drop_after_write`` rules only the first matching one.

Requests under ``/_emulator`` are neither counted nor subject to faults.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ADMIN_PREFIX = "/_emulator"
KINDS = ("latency", "status", "drop_after_write", "garbage")
GARBAGE: dict[str, tuple[bytes, bytes]] = {  # body kind -> (content type, body)
    "html": (b"text/html; charset=utf-8", b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
             b"<body><h1>Bad Gateway</h1><hr><p>nginx</p></body></html>"),
    "truncated_json": (b"application/json", b'{"success": true, "data": {"id": 41, "name": "rel'),
    "success_false": (b"application/json", b'{"success": false, "data": null}'),
    "wrong_shape": (b"application/json", b'{"unexpected": [1, 2, 3]}'),
}
ERROR_CODES = {
    429: "too_many_requests",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}
_ID_SEGMENT = re.compile(r"/[0-9]+(?=/|$)")


@dataclass
class FaultRule:
    kind: str
    id: int = 0
    times: int | None = None
    method: str | None = None
    path: str | None = None
    status: int | None = None
    latency_ms: float | None = None
    retry_after: float | None = None
    error_code: str | None = None
    body: str | None = None
    apply: bool = False
    skip: int = 0
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> FaultRule:
        """Validate a rule dict; raises ``ValueError`` naming the bad field."""
        if not isinstance(spec, Mapping):
            raise ValueError("a fault rule must be a JSON object")
        known = {"kind", "times", "method", "path", "status", "latency_ms", "retry_after", "error_code", "body",
                 "apply", "skip"}
        if unknown := sorted(set(spec) - known):
            raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
        if "kind" not in spec:
            raise ValueError(f"kind is required (one of {', '.join(KINDS)})")
        rule = cls(**spec)
        if rule.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        if rule.kind == "status" and not (_int(rule.status) and 100 <= rule.status <= 599):  # type: ignore[operator]
            raise ValueError("status must be an integer from 100 to 599")
        if rule.kind == "garbage":
            if rule.body not in GARBAGE:
                raise ValueError(f"body must be one of {', '.join(GARBAGE)}")
            rule.status = 200 if rule.status is None else rule.status
            if not (_int(rule.status) and 100 <= rule.status <= 599):
                raise ValueError("status must be an integer from 100 to 599")
        if not isinstance(rule.apply, bool):
            raise ValueError("apply must be true or false")
        if rule.kind == "latency" and not _number(rule.latency_ms):
            raise ValueError("latency_ms must be a number >= 0")
        if rule.times is not None and not (_int(rule.times) and rule.times >= 1):
            raise ValueError("times must be null or an integer >= 1")
        if not (_int(rule.skip) and rule.skip >= 0):
            raise ValueError("skip must be an integer >= 0")
        if rule.retry_after is not None and not _number(rule.retry_after):
            raise ValueError("retry_after must be a number >= 0")
        if rule.method is not None:
            if not isinstance(rule.method, str):
                raise ValueError("method must be a string")
            rule.method = rule.method.upper()
        if rule.path is not None:
            try:
                rule._pattern = re.compile(rule.path)
            except (re.error, TypeError) as exc:
                raise ValueError(f"path must be a regular expression: {exc}") from None
        return rule

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self._pattern is None or bool(self._pattern.search(path))
        )

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _fired_key(rule: FaultRule) -> str:
    if rule.kind == "status":
        return f"status {rule.status}"
    if rule.kind == "garbage":
        return f"garbage {rule.body}"
    return rule.kind


class FaultController:
    """Active fault rules, a global latency and request counters. Thread-safe."""

    def __init__(self, latency_ms: float = 0) -> None:
        self.latency_ms = latency_ms
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._by_method: Counter[str] = Counter()
        self._by_route: Counter[str] = Counter()
        self._busy_seconds = 0.0  # time spent answering API requests (latency included), for benchmarks
        self._fired: Counter[str] = Counter()  # faults injected, by kind (latency rules included)

    def add(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        rule = FaultRule.parse(spec)
        with self._lock:
            rule.id = next(self._ids)
            self._rules.append(rule)
        return rule.as_dict()

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.as_dict() for r in self._rules]

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> int:
        with self._lock:
            count, self._rules = len(self._rules), []
            return count

    def take(self, method: str, path: str) -> list[FaultRule]:
        """The rules that apply to this request (consuming one of their ``times``)."""
        chosen: list[FaultRule] = []
        with self._lock:
            terminal = False
            for rule in self._rules:
                if not rule.matches(method, path) or (rule.kind != "latency" and terminal):
                    continue
                if rule.skip > 0:
                    rule.skip -= 1
                    continue
                terminal = terminal or rule.kind != "latency"
                chosen.append(rule)
                self._fired[_fired_key(rule)] += 1
                if rule.times is not None:
                    rule.times -= 1
            self._rules = [r for r in self._rules if r.times is None or r.times > 0]
        return chosen

    def count(self, method: str, path: str) -> None:
        with self._lock:
            self._by_method[method] += 1
            self._by_route[f"{method} {_ID_SEGMENT.sub('/{id}', path)}"] += 1

    def served(self, seconds: float) -> None:
        with self._lock:
            self._busy_seconds += seconds

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": sum(self._by_method.values()),
                "by_method": dict(self._by_method),
                "by_route": dict(self._by_route),
                "busy_seconds": round(self._busy_seconds, 6),
                "faults_injected": dict(self._fired),
            }

    def reset_stats(self) -> None:
        with self._lock:
            self._by_method.clear()
            self._by_route.clear()
            self._fired.clear()
            self._busy_seconds = 0.0


class FaultMiddleware:
    """ASGI middleware in front of the whole app: counts API requests and injects faults."""

    def __init__(self, app: ASGIApp, controller: FaultController) -> None:
        self.app = app
        self.controller = controller

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self._serve(scope, receive, send, path)
        finally:
            self.controller.served(time.perf_counter() - started)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        method = scope["method"]
        self.controller.count(method, path)
        rules = self.controller.take(method, path)
        delay = self.controller.latency_ms + sum(r.latency_ms or 0 for r in rules if r.kind == "latency")
        if delay:
            await asyncio.sleep(delay / 1000)
        terminal = next((r for r in rules if r.kind != "latency"), None)
        if terminal is None:
            try:
                await self.app(scope, receive, send)
            except ClientDisconnect:
                return  # the client went away before its body arrived (a killed CLI): nothing applied, no one to answer
        elif terminal.kind == "status":
            await _send_status(send, terminal)
        elif terminal.kind == "garbage":
            if terminal.apply:
                await self.app(scope, receive, _discard)
            await _send_garbage(send, terminal)
        else:
            await self._drop_after_write(scope, receive, send)

    async def _drop_after_write(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        assert start is not None
        status, body = start["status"], b"".join(chunks)
        if not body or status in (204, 304):  # an answer that has no body cannot be cut short: stand one in
            status, body = 200, b'{"cut": "short"}'
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        # Returning without finishing the body makes the server close the connection mid-response.


async def _discard(_message: Message) -> None:
    return None


async def _send_garbage(send: Send, rule: FaultRule) -> None:
    content_type, body = GARBAGE[rule.body or "html"]
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": rule.status or 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_status(send: Send, rule: FaultRule) -> None:
    status = rule.status or 500
    code = rule.error_code or ERROR_CODES.get(status, "injected_fault")
    error = {
        "success": False,
        "data": None,
        "error_code": code,
        "error_messages": [f"injected fault: HTTP {status}"],
    }
    body = json.dumps(error).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if rule.retry_after is not None:
        retry = rule.retry_after
        headers.append((b"retry-after", str(int(retry) if float(retry).is_integer() else retry).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def admin_router(controller: FaultController, resets: Mapping[str, Callable[[], None]]) -> APIRouter:
    """``/_emulator``: fault rules, request stats and a state reset (no authentication)."""
    router = APIRouter(prefix=ADMIN_PREFIX)

    @router.post("/faults")
    async def add_fault(request: Request) -> dict[str, Any]:
        try:
            return {"fault": controller.add(await request.json())}
        except ValueError as exc:
            raise HTTPException(400, detail=str(exc)) from None

    @router.get("/faults")
    def list_faults() -> dict[str, Any]:
        return {"faults": controller.rules()}

    @router.delete("/faults")
    def clear_faults() -> dict[str, Any]:
        return {"cleared": controller.clear()}

    @router.delete("/faults/{rule_id}")
    def delete_fault(rule_id: int) -> dict[str, Any]:
        if not controller.remove(rule_id):
            raise HTTPException(404, detail=f"no fault rule {rule_id}")
        return {"deleted": rule_id}

    @router.get("/stats")
    def stats() -> dict[str, Any]:
        return controller.stats()

    @router.post("/stats/reset")
    def reset_stats() -> dict[str, Any]:
        controller.reset_stats()
        return controller.stats()

    @router.post("/reset")
    def reset_state() -> dict[str, Any]:
        for reset in resets.values():
            reset()
        return {"reset": sorted(resets)}

    return router
