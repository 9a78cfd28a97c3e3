"""The emulator's ASGI app: one FastAPI app, one router (with its own auth) per emulated service."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .cleanmail import CleanmailBackend, cleanmail_admin_router, cleanmail_router
from .elemta import ElemtaBackend, elemta_admin_router, elemta_router
from .faults import FaultController, FaultMiddleware, admin_router
from .greenarrow.backend import GreenArrowBackend
from .greenarrow.http import greenarrow_router
from .routing import loopback_only


def service_error(request: Request, status: int, message: str) -> Response:
    """An error the framework itself answers (no route for the path, say one with a newline, or a method the
    route lacks) in the shape of the service the path belongs to, as that service's clients expect."""
    path = request.url.path
    if path.startswith("/ga/"):
        code = {400: "validation_error", 401: "unauthorized", 404: "not_found"}.get(status, "not_found")
        return JSONResponse({"success": False, "data": None, "error_code": code, "error_messages": [message]},
                            status_code=status)
    if path.startswith("/cleanmail/"):
        reason = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}.get(status, "Error")
        return JSONResponse({"status": status, "error": reason, "message": message}, status_code=status)
    if path.startswith("/elemta/"):
        return PlainTextResponse(f"{message}\n", status_code=status)  # like the real (Go) server's own answers
    return JSONResponse({"detail": message}, status_code=status)


def create_app(
    *,
    state_path: str | os.PathLike[str] | None = None,
    ga_username: str = "admin",
    ga_password: str = "admin",
    cleanmail_tokens: Iterable[str] = ("cleanmail-token",),
    elemta_users: Iterable[str] = (),
    elemta_api_keys: Iterable[str] = (),
    elemta_delivery_delay: float = 0.5,
    latency_ms: float = 0,
    faults: Iterable[Mapping[str, Any]] = (),
    allow_remote_admin: bool = False,
) -> FastAPI:
    """Build the emulator app.

    ``state_path``: SQLite file to persist state in (``None``: in memory). ``latency_ms``: fixed
    delay before every API request. ``faults``: initial fault rules (see :mod:`.faults`).
    The backends are ``app.state.greenarrow``, ``app.state.cleanmail`` and ``app.state.elemta`` (one SQLite
    file, rows namespaced per service), the fault controller ``app.state.faults``. GreenArrow is served at
    ``/ga/api/v3/eng``, Cleanmail at ``/cleanmail`` (Bearer ``cleanmail_tokens``), Elemta at ``/elemta/api``
    (``elemta_users`` as ``name:password`` and ``elemta_api_keys``; none: no authentication, the server's
    default). ``elemta_delivery_delay``: seconds before a queued message is delivered. The ``/_emulator`` admin
    endpoints answer only loopback clients unless ``allow_remote_admin``.
    """
    greenarrow = GreenArrowBackend(state_path)
    cleanmail = CleanmailBackend(state_path)
    elemta = ElemtaBackend(state_path, delay_seconds=elemta_delivery_delay)
    controller = FaultController(latency_ms=latency_ms)
    for rule in faults:
        controller.add(rule)

    app = FastAPI(title="mailinfra emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.greenarrow = greenarrow
    app.state.cleanmail = cleanmail
    app.state.elemta = elemta
    app.state.faults = controller
    # Each service is a router with its own authentication.
    app.include_router(greenarrow_router(greenarrow, username=ga_username, password=ga_password))
    app.include_router(cleanmail_router(cleanmail, tokens=tuple(cleanmail_tokens)))
    app.include_router(elemta_router(elemta, users=tuple(elemta_users), api_keys=tuple(elemta_api_keys)))
    admin_only = [Depends(loopback_only(allow_remote_admin))]
    app.include_router(cleanmail_admin_router(cleanmail), dependencies=admin_only)
    app.include_router(elemta_admin_router(elemta), dependencies=admin_only)
    app.include_router(admin_router(controller, resets={"greenarrow": greenarrow.reset, "cleanmail": cleanmail.reset,
                                                        "elemta": elemta.reset}), dependencies=admin_only)
    app.add_middleware(FaultMiddleware, controller=controller)

    @app.exception_handler(StarletteHTTPException)
    async def framework_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/_emulator"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return service_error(request, exc.status_code, f"{exc.detail}: {request.method} {request.url.path}")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return service_error(request, 400, problems or "invalid request")

    return app
