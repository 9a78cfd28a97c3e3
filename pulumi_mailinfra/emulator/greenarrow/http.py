"""HTTP layer of the GreenArrow Engine API v3 emulator: documented paths -> backend calls.

Successes use the envelope ``{"success": true, "data": ..., "error_code": null, "error_messages": null}``
except routes, which answer exactly as the Routes page shows (``{"route": ...}``,
``{"routes": [...], "pagination": ...}``, delete ``{"success": true}``). Every error, routes
included, is ``{"success": false, "data": null, "error_code": CODE, "error_messages": [...]}`` with
HTTP 400 ``validation_error``, 401 ``unauthorized``, 404 ``not_found`` or 409 ``in_use``.

Authentication is HTTP Basic, checked by a router dependency so that other emulated services can
share the app with their own authentication.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from ..routing import error_route, on_loop
from .backend import GreenArrowBackend, GreenArrowError, NotFound, ValidationFailed

PREFIX = "/ga/api/v3/eng"
PAGING = ("page", "page_token")
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class Unauthorized(GreenArrowError):
    status = 401
    code = "unauthorized"
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Basic realm="GreenArrow Engine"'}

    def __init__(self, message: str) -> None:
        super().__init__([message])


def envelope(data: Any) -> dict[str, Any]:
    return {"success": True, "data": data, "error_code": None, "error_messages": None}


def error_response(exc: GreenArrowError) -> JSONResponse:
    body = {"success": False, "data": None, "error_code": exc.code, "error_messages": exc.messages}
    return JSONResponse(body, status_code=exc.status, headers=exc.headers or None)


# Backend exceptions (also those raised by dependencies) become the error envelope.
GreenArrowRoute = error_route((GreenArrowError,), error_response)


def basic_auth(username: str, password: str) -> Callable[[Request], None]:
    """A dependency accepting only ``Authorization: Basic`` with these credentials."""
    expected = (username.encode(), password.encode())

    async def check(request: Request) -> None:  # async: no worker-thread hop
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            raise Unauthorized("authentication required (HTTP Basic)")
        try:
            user, sep, pw = base64.b64decode(value.strip(), validate=True).partition(b":")
        except (binascii.Error, ValueError):
            user, sep, pw = b"", b"", b""
        ok = secrets.compare_digest(user, expected[0]) & secrets.compare_digest(pw, expected[1])
        if not (sep and ok):
            raise Unauthorized("invalid username or password")

    return check


def unwrap(body: Any, key: str) -> Any:
    """The object under the documented wrapper key (``{"relay_server": {...}}``)."""
    if not isinstance(body, dict):
        raise ValidationFailed(["body: must be a JSON object"])
    errors = [f"{k}: is not a recognized field" for k in body if k != key]
    if key not in body:
        errors.append(f"{key}: is required")
    if errors:
        raise ValidationFailed(errors)
    return body[key]


def _endpoint(
    call: Callable[..., Any], *, body_key: str | None, query: tuple[str, ...], wrap: bool, deleted: Any
) -> Callable[[Request], Coroutine[Any, Any, JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        args: list[Any] = list(request.path_params.values())
        if body_key is not None:
            try:
                body = json.loads(await request.body())
            except ValueError:
                raise ValidationFailed(["body: must be a JSON object"]) from None
            args.append(unwrap(body, body_key))
        kwargs = {name: request.query_params[name] for name in query if name in request.query_params}
        result = await on_loop(call, *args, **kwargs)
        if result is None:
            result = deleted
        return JSONResponse(envelope(result) if wrap else result)

    return endpoint


def greenarrow_router(
    backend: GreenArrowBackend, *, username: str = "admin", password: str = "admin", prefix: str = PREFIX
) -> APIRouter:
    """All documented GreenArrow Engine API v3 endpoints, behind HTTP Basic authentication."""
    router = APIRouter(
        prefix=prefix, route_class=GreenArrowRoute, dependencies=[Depends(basic_auth(username, password))]
    )

    def add(
        method: str,
        path: str,
        call: Callable[..., Any],
        *,
        body_key: str | None = None,
        query: tuple[str, ...] = (),
        wrap: bool = True,
    ) -> None:
        deleted: Any = {} if wrap else {"success": True}
        endpoint = _endpoint(call, body_key=body_key, query=query, wrap=wrap, deleted=deleted)
        name = f"{method.lower()}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}"
        router.add_api_route(path, endpoint, methods=[method], name=name)

    def crud(plural: str, singular: str, *, wrap: bool = True, list_query: tuple[str, ...] = PAGING) -> None:
        ops = {
            op: getattr(backend, f"{op}_{plural if op == 'list' else singular}")
            for op in ("list", "get", "create", "update", "delete")
        }
        add("GET", f"/{plural}", ops["list"], query=list_query, wrap=wrap)
        add("POST", f"/{plural}", ops["create"], body_key=singular, wrap=wrap)
        add("GET", f"/{plural}/{{id}}", ops["get"], wrap=wrap)
        add("PUT", f"/{plural}/{{id}}", ops["update"], body_key=singular, wrap=wrap)
        add("DELETE", f"/{plural}/{{id}}", ops["delete"], wrap=wrap)

    add("GET", "/virtual_mtas", backend.list_virtual_mtas, query=PAGING)
    add("GET", "/virtual_mtas/{id}/used_by", backend.virtual_mta_used_by, query=PAGING)
    crud("relay_servers", "relay_server")
    crud("ip_addresses", "ip_address")
    add("GET", "/throttle_programs", backend.list_throttle_programs, query=PAGING)
    add("GET", "/throttle_programs/{id}", backend.get_throttle_program)
    crud("throttling_templates", "throttling_template")
    add("GET", "/throttling_templates/{id}/used_by", backend.throttling_template_used_by, query=PAGING)
    rules = "/throttling_templates/{template_id}/throttling_rules"
    add("POST", rules, backend.create_throttling_rule, body_key="throttling_rule")
    add("PUT", f"{rules}/{{rule_id}}", backend.update_throttling_rule, body_key="throttling_rule")
    add("DELETE", f"{rules}/{{rule_id}}", backend.delete_throttling_rule)
    crud("routes", "route", wrap=False, list_query=(*PAGING, "name"))

    def unknown(request: Request) -> None:
        raise NotFound(f"no such endpoint: {request.method} {request.url.path}")

    router.add_api_route("/{path:path}", unknown, methods=ALL_METHODS, name="greenarrow_unknown")
    return router
