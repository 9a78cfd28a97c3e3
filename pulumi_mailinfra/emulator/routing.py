"""What every service's HTTP layer shares: a route class that turns the backend's exceptions (also those
raised by dependencies such as authentication) into that service's error answer."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


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
