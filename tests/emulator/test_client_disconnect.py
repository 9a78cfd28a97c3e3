"""A client that goes away before its request body arrives (a CLI killed mid-request) changes nothing and is no
server error: the emulator neither logs a traceback nor applies half a request."""

from __future__ import annotations

import asyncio
from typing import Any

from pulumi_mailinfra.emulator import create_app


def test_a_disconnect_before_the_body_is_read_is_quiet_and_changes_nothing() -> None:
    app = create_app(cleanmail_tokens=("t",))
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "path": "/cleanmail/domains", "raw_path": b"/cleanmail/domains", "query_string": b"",
             "headers": [(b"authorization", b"Bearer t"), (b"content-type", b"application/json")],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80), "scheme": "http", "root_path": ""}
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(app(scope, receive, send))  # raises ClientDisconnect without the guard
    finally:
        loop.close()
    assert sent == []  # no one to answer
    assert app.state.cleanmail.inventory()["domain"] == []
