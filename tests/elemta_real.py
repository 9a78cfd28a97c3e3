"""The real Elemta server for integration tests: `elemta web` (the REST API) and, for a delivery path,
`elemta server` (the queue processor) on one queue directory, delivering over LMTP to a loopback aiosmtpd
sink whose answers a test chooses. Built by scripts/build-elemta.sh (cached in .tools/).

What the real server does that shapes this (docs/assumptions.md, "Elemta"): delivery is always LMTP to the
one `[delivery] host:port`; the listener is the top-level `listen_addr`; the queue processor scans every
`[queue_processor] interval` seconds; every failed attempt goes to `failed` (nothing reaches `deferred`);
`/api/queue/stats` is recomputed every 5 s; both processes append to /app/logs/elemta.log."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP

REPO = Path(__file__).resolve().parent.parent
ADMIN = ("admin", "admin-pw-7Qx")
OPERATOR = ("operator", "operator-pw-3Lm")


def elemta_binary() -> str:
    result = subprocess.run(["bash", str(REPO / "scripts" / "build-elemta.sh")], capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise RuntimeError(f"building Elemta failed: {result.stderr[-2000:]}")
    return result.stdout.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SinkBehaviour:
    """The sink's answers: None is `250`; a text such as "550 5.1.1 no such user" refuses at that stage."""

    rcpt: str | None = None
    data: str | None = None
    received: list[dict[str, Any]] = field(default_factory=list)


class _Handler:
    def __init__(self, behaviour: SinkBehaviour) -> None:
        self.behaviour = behaviour

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.behaviour.rcpt:
            return self.behaviour.rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.behaviour.data:
            return self.behaviour.data
        self.behaviour.received.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                        "content": (envelope.content or b"").decode("utf-8", "replace")})
        return "250 2.0.0 accepted"


class _LmtpController(Controller):
    def factory(self) -> LMTP:
        return LMTP(self.handler, **self.SMTP_kwargs)


@dataclass
class RealElemta:
    url: str
    sink: SinkBehaviour
    queue_dir: Path
    auth: bool

    def http(self, auth: tuple[str, str] | None = None) -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/api", auth=auth, timeout=10)

    def create_api_key(self) -> str:
        """An API key made by the admin (the server keeps keys in memory only)."""
        with httpx.Client(base_url=self.url, auth=ADMIN, timeout=10) as client:  # at the root, not under /api
            answer = client.post("/auth/apikeys", json={"name": "tests"})
            answer.raise_for_status()
            return str(answer.json()["key"])


def _wait(check: Any, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start within {timeout} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextmanager
def real_elemta(workdir: Path, *, deliver: bool, auth: bool = False,
                sink: SinkBehaviour | None = None) -> Iterator[RealElemta]:
    """`elemta web` on a free loopback port with a fresh queue directory; with `deliver`, `elemta server`
    on the same queue delivering to a loopback LMTP sink; with `auth`, credentials required (users ADMIN
    and OPERATOR). Everything is stopped on exit."""
    binary = elemta_binary()
    sink = sink or SinkBehaviour()
    queue = workdir / "queue"
    queue.mkdir(parents=True)
    env = {**os.environ, "VALKEY_ADDR": "127.0.0.1:1"}  # the optional metrics store: a closed port, no DNS wait
    processes: list[subprocess.Popen[bytes]] = []
    controller: _LmtpController | None = None
    logs = (workdir / "elemta.out").open("ab")
    try:
        web_port = free_port()
        web = [binary, "web", "--listen", f"127.0.0.1:{web_port}", "--queue-dir", str(queue)]
        if auth:
            users = workdir / "users.txt"
            users.write_text(f"{ADMIN[0]}:{ADMIN[1]}\n{OPERATOR[0]}:{OPERATOR[1]}\n")
            users.chmod(0o600)
            web += ["--auth-enabled", "--auth-file", str(users)]
            env |= {"AUTH_DATASOURCE_TYPE": "file", "AUTH_FILE_PATH": str(users)}
        processes.append(subprocess.Popen(web, cwd=workdir, env=env, stdout=logs, stderr=subprocess.STDOUT))
        url = f"http://127.0.0.1:{web_port}"
        _wait(lambda: httpx.get(f"{url}/api/health", timeout=1).status_code == 200, "elemta web")
        if deliver:
            sink_port, smtp_port = free_port(), free_port()
            controller = _LmtpController(_Handler(sink), hostname="127.0.0.1", port=sink_port)
            controller.start()
            config = workdir / "elemta-server.toml"
            config.write_text(
                f'listen_addr = "127.0.0.1:{smtp_port}"\nqueue_dir = "{queue}"\nfailed_queue_retention_hours = 24\n'
                f'[queue]\ndir = "{queue}"\n[queue_processor]\nenabled = true\ninterval = 1\nworkers = 2\n'
                f'[delivery]\nhost = "127.0.0.1"\nport = {sink_port}\ntimeout = 30\nretry_delay = 60\n')
            config.chmod(0o600)  # the server refuses a config file others can read when it names secrets
            processes.append(subprocess.Popen([binary, "server", "-c", str(config)], cwd=workdir, env=env,
                                              stdout=logs, stderr=subprocess.STDOUT))
            _wait(lambda: socket.create_connection(("127.0.0.1", smtp_port), 0.5).close() is None, "elemta server")
        yield RealElemta(url, sink, queue, auth)
    finally:
        for process in reversed(processes):
            _stop(process)
        if controller is not None:
            controller.stop()
        logs.close()


def settings(server: RealElemta, **extra: str) -> dict[str, str]:
    """Provider / program config for the server."""
    return {"mailinfra:elemtaUrl": server.url, **extra}


def dump(value: Any) -> str:
    return json.dumps(value, indent=1, default=str)
