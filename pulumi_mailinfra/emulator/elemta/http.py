"""HTTP layer of the Elemta API emulator, served under ``/elemta`` (set ``mailinfra:elemtaUrl`` to
``<emulator URL>/elemta``; the API is at ``/elemta/api/...``). As on the real server: errors are plain text
(``http.Error``) except authentication errors, which are JSON ``{"error", "details", "status"}``; with
credentials configured, reads stay public, ``send-test`` needs a known user or API key, deleting a message and
flushing a queue need an admin (a user whose name contains "admin", or an API key)."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from ..routing import error_route, on_loop
from .backend import ElemtaBackend, ElemtaError

PREFIX = "/elemta/api"


class AuthError(Exception):
    def __init__(self, status: int, error: str, details: str) -> None:
        super().__init__(details)
        self.status, self.error, self.details = status, error, details


def error_response(exc: ElemtaError | AuthError) -> Response:
    """Backend errors as the real server's text answers; authentication errors as its JSON ones."""
    if isinstance(exc, AuthError):
        return JSONResponse({"error": exc.error, "details": exc.details, "status": exc.status},
                            status_code=exc.status)
    return PlainTextResponse(exc.message + "\n", status_code=exc.status)


ElemtaRoute = error_route((ElemtaError, AuthError), error_response)


class Credentials:
    """Users (`name:password`) and API keys; none at all means authentication is off (the server's default)."""

    def __init__(self, users: Iterable[str], api_keys: Iterable[str]) -> None:
        self.users = dict(u.split(":", 1) for u in users)
        self.api_keys = [k.encode() for k in api_keys]

    @property
    def enabled(self) -> bool:
        return bool(self.users or self.api_keys)

    def require(self, request: Request, admin: bool, permission: str) -> None:
        if not self.enabled:
            return
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        user: str | None = None
        if scheme.lower() in ("bearer", "apikey") or header.startswith("elemta_"):
            key = (value if scheme.lower() in ("bearer", "apikey") else header).strip().encode()
            if not any(secrets.compare_digest(key, known) for known in self.api_keys):
                raise AuthError(401, "Authentication required", "invalid API key")
            return  # API keys carry every permission here
        if scheme.lower() == "basic":
            try:
                name, _, password = base64.b64decode(value).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                name, password = "", ""
            known = self.users.get(name)
            if known is not None and secrets.compare_digest(known.encode(), password.encode()):
                user = name
        if user is None:
            raise AuthError(401, "Authentication required", "invalid credentials")
        if admin and "admin" not in user:
            raise AuthError(403, "Insufficient permissions", f"Required permission: {permission}")


def elemta_router(backend: ElemtaBackend, *, users: Iterable[str] = (), api_keys: Iterable[str] = (),
                  prefix: str = PREFIX) -> APIRouter:
    router = APIRouter(prefix=prefix, route_class=ElemtaRoute)
    credentials = Credentials(users, api_keys)

    def call(fn: Callable[..., Any], *args: Any) -> Any:
        return on_loop(fn, *args)

    @router.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse(await call(backend.health))

    @router.get("/queue/stats")
    async def queue_stats() -> JSONResponse:
        return JSONResponse(await call(backend.queue_stats))

    @router.get("/queue/message/{message_id}")
    async def get_message(message_id: str, request: Request) -> Response:
        message = await call(backend.get_message, message_id)
        if request.query_params.get("format") == "raw":
            return PlainTextResponse(message["content"])
        return JSONResponse(message)

    @router.delete("/queue/message/{message_id}")
    async def delete_message(message_id: str, request: Request) -> JSONResponse:
        credentials.require(request, admin=True, permission="queue:delete")
        return JSONResponse(await call(backend.delete_message, message_id))

    @router.get("/queue")
    async def all_queues() -> JSONResponse:
        return JSONResponse(await call(backend.list_queue, None))

    @router.get("/queue/{queue}")
    async def list_queue(queue: str) -> JSONResponse:
        return JSONResponse(await call(backend.list_queue, queue))

    @router.post("/queue/{queue}/flush")
    async def flush(queue: str, request: Request) -> JSONResponse:
        credentials.require(request, admin=True, permission="queue:flush")
        return JSONResponse(await call(backend.flush, queue))

    @router.get("/stats/delivery")
    async def delivery_stats(request: Request) -> JSONResponse:
        return JSONResponse(await call(backend.delivery_stats, request.query_params.get("timeScale")))

    @router.get("/logs")
    async def system_logs(request: Request) -> JSONResponse:
        return JSONResponse(await call(backend.system_logs, dict(request.query_params)))

    @router.get("/logs/messages")
    async def message_logs(request: Request) -> JSONResponse:
        return JSONResponse(await call(backend.message_logs, dict(request.query_params)))

    @router.post("/send-test")
    async def send_test(request: Request) -> JSONResponse:
        credentials.require(request, admin=False, permission="send")
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        return JSONResponse(await call(backend.send_test, body))

    return router


def elemta_admin_router(backend: ElemtaBackend) -> APIRouter:
    """``/_emulator/elemta``: how the delivery step treats messages, a forced step, the health status."""
    router = APIRouter(prefix="/_emulator/elemta")

    @router.get("/delivery")
    def get_delivery() -> dict[str, Any]:
        return backend.delivery

    @router.post("/delivery")
    async def set_delivery(request: Request) -> Response:
        body = await request.json()
        try:
            return JSONResponse(backend.set_delivery(mode=body.get("mode"), delay_seconds=body.get("delay_seconds"),
                                                     retry_seconds=body.get("retry_seconds"), error=body.get("error")))
        except ElemtaError as exc:
            return PlainTextResponse(exc.message, status_code=400)

    @router.post("/deliver")
    def deliver_now() -> dict[str, Any]:
        return {"moved": backend.deliver_due(force=True)}

    @router.post("/health")
    async def set_health(request: Request) -> dict[str, Any]:
        status = str((await request.json()).get("status") or "healthy")
        backend.set_health(status)
        return {"status": status}

    return router
