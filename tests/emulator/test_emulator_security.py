"""The emulator is a development tool: its unauthenticated `/_emulator` admin endpoints answer only clients on
this machine (unless the operator allows others explicitly), and its SQLite file, which holds every secret the
emulated APIs were sent, is readable by its owner only."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import httpx
import pytest

from pulumi_mailinfra.emulator.app import create_app
from pulumi_mailinfra.emulator.greenarrow.backend import GreenArrowBackend


def admin_status(client_host: str, **app_options: bool) -> list[int]:
    async def ask() -> list[int]:
        transport = httpx.ASGITransport(app=create_app(**app_options), client=(client_host, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as http:
            return [(await http.get("/_emulator/stats")).status_code,
                    (await http.post("/_emulator/reset")).status_code,
                    (await http.get("/_emulator/cleanmail/tasks")).status_code,
                    (await http.get("/_emulator/elemta/delivery")).status_code]

    loop = asyncio.new_event_loop()  # not asyncio.run: it would unset the loop later (Pulumi mock) tests use
    try:
        return loop.run_until_complete(ask())
    finally:
        loop.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "127.0.0.53"])
def test_admin_endpoints_answer_loopback_clients(host: str) -> None:
    assert admin_status(host) == [200, 200, 200, 200]


def test_admin_endpoints_refuse_other_machines_unless_allowed() -> None:
    assert admin_status("203.0.113.9") == [403, 403, 403, 403]
    assert admin_status("203.0.113.9", allow_remote_admin=True) == [200, 200, 200, 200]


def test_state_file_is_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "emulator.sqlite"
    previous = os.umask(0)  # even with a permissive umask
    try:
        GreenArrowBackend(str(path))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
