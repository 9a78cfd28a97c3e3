"""What every service's HTTP layer shares: a route class that turns the backend's exceptions (also those
raised by dependencies such as authentication) into that service's error answer."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute


async def on_loop(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a backend call on the event loop. Backend calls are short in-memory or SQLite work under the
    store's lock; handing each to a worker thread cost about a quarter of the emulator's CPU per request."""
    return fn(*args, **kwargs)


def error_route(errors: tuple[type[Exception], ...], answer: Callable[[Any], Response]) -> type[APIRoute]:
    """An APIRoute class answering `answer(exc)` for any of `errors` a handler raises."""

    class ErrorRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                try:
                    return await handler(request)
                except errors as exc:
                    return answer(exc)

            return guarded

    return ErrorRoute


def loopback_only(allow_remote: bool) -> Callable[[Request], None]:
    """A dependency for the `/_emulator` admin endpoints (faults, reset, delivery control; no authentication):
    403 unless the client is on this machine, or the operator allowed remote administration explicitly."""

    async def check(request: Request) -> None:  # async: no worker-thread hop
        if allow_remote:
            return
        host = request.client.host if request.client else ""
        try:
            local = ipaddress.ip_address(host).is_loopback
        except ValueError:
            local = host == "localhost"
        if not local:
            raise HTTPException(403, "the /_emulator admin endpoints answer only on loopback "
                                     "(start the emulator with --allow-remote-admin to change that)")

    return check
