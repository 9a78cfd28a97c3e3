"""Run the emulator with uvicorn: in a background thread (``EmulatorServer``) or from the CLI (``main``)."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI

from .app import create_app
from .cleanmail import CleanmailBackend
from .elemta import ElemtaBackend
from .faults import FaultRule
from .greenarrow.backend import GreenArrowBackend


class _QuietDrops(logging.Filter):
    """Hide uvicorn's complaint about the responses ``drop_after_write`` cuts short on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing response" not in record.getMessage()


_QUIET_DROPS = _QuietDrops()


class EmulatorServer:
    """The emulator served by uvicorn from a daemon thread.

    ``port=0`` picks a free port; ``url`` is known once ``start()`` returns. ``tls``: a
    ``(certificate file, key file)`` pair (PEM) to serve HTTPS instead of HTTP. Extra keyword
    arguments go to :func:`create_app` (``ga_username``, ``ga_password``, ``latency_ms``, ``faults``).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        state_path: str | None = None,
        *,
        log_level: str = "warning",
        tls: tuple[str, str] | None = None,
        **app_kwargs: Any,
    ) -> None:
        self.host = host
        self.tls = tls
        self.port = port
        self.log_level = log_level
        self.app: FastAPI = create_app(state_path=state_path, **app_kwargs)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @property
    def greenarrow(self) -> GreenArrowBackend:
        return self.app.state.greenarrow

    @property
    def cleanmail(self) -> CleanmailBackend:
        return self.app.state.cleanmail

    @property
    def elemta(self) -> ElemtaBackend:
        return self.app.state.elemta

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 15.0) -> EmulatorServer:
        """Start serving; returns once the server accepts connections."""
        if self.running:
            return self
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # With proto IPPROTO_TCP asyncio sets TCP_NODELAY on accepted connections (else ~40 ms per request).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level=self.log_level,
            access_log=False,
            http="auto",  # httptools when installed (the `emulator` extra brings it), else h11
            proxy_headers=False,  # the admin endpoints' loopback check must see the real peer, not a header
            lifespan="on",
            timeout_graceful_shutdown=5,
            ssl_certfile=self.tls[0] if self.tls else None,
            ssl_keyfile=self.tls[1] if self.tls else None,
        )
        self._server = uvicorn.Server(config)
        logging.getLogger("uvicorn.error").addFilter(_QUIET_DROPS)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="mailinfra-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"emulator failed to start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._server = self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _fault(text: str) -> dict[str, Any]:
    try:
        spec = json.loads(text)
        FaultRule.parse(spec)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid fault rule {text!r}: {exc}") from None
    return spec


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="mailinfra-emulator", description="Offline emulator of the mail APIs."
    )
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="the port; 0 picks a free one (default: 8080)")
    parser.add_argument("--state", metavar="FILE",
                        help="SQLite file keeping the state across restarts (default: none, kept in memory)")
    parser.add_argument("--ga-username", default="admin", help="GreenArrow HTTP Basic username (default: admin)")
    parser.add_argument("--ga-password", default="admin", help="GreenArrow HTTP Basic password (default: admin)")
    parser.add_argument("--cleanmail-token", action="append", default=None, metavar="TOKEN",
                        help="a Bearer token the Cleanmail API accepts (repeatable; default: cleanmail-token); "
                        "`TOKEN:readonly` answers 403 to writes")
    parser.add_argument("--elemta-user", action="append", default=[], metavar="NAME:PASSWORD",
                        help="an Elemta user (repeatable; a name containing 'admin' may delete and flush); with no "
                        "user and no API key the Elemta API needs no credentials, like the server by default")
    parser.add_argument("--elemta-api-key", action="append", default=[], metavar="KEY",
                        help="an Elemta API key (Authorization: Bearer KEY; repeatable; default: none)")
    parser.add_argument("--elemta-delivery-delay", type=float, default=0.5, metavar="SECONDS",
                        help="how long a queued Elemta message waits before it is delivered (default 0.5)")
    parser.add_argument("--latency-ms", type=float, default=0,
                        help="fixed delay before every API request, in milliseconds (default: 0)")
    parser.add_argument(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        metavar="JSON",
        help='a fault rule, e.g. \'{"kind": "status", "status": 503, "times": 1}\' (repeatable; default: none)',
    )
    parser.add_argument("--allow-remote-admin", action="store_true",
                        help="let other machines use the /_emulator admin endpoints (default: loopback only)")
    parser.add_argument("--tls-cert", metavar="PEM",
                        help="serve HTTPS with this certificate (needs --tls-key; default: plain HTTP)")
    parser.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert")
    parser.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"],
        help="the server's log level (default: warning)")
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Serve in the foreground until SIGINT/SIGTERM."""
    args = parse_args(argv)
    server = EmulatorServer(
        args.host,
        args.port,
        args.state,
        log_level=args.log_level,
        tls=(args.tls_cert, args.tls_key) if args.tls_cert else None,
        ga_username=args.ga_username,
        ga_password=args.ga_password,
        cleanmail_tokens=tuple(args.cleanmail_token or ("cleanmail-token",)),
        elemta_users=tuple(args.elemta_user),
        elemta_api_keys=tuple(args.elemta_api_key),
        elemta_delivery_delay=args.elemta_delivery_delay,
        latency_ms=args.latency_ms,
        faults=args.fault,
        allow_remote_admin=args.allow_remote_admin,
    )
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        print(f"mailinfra-emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"mailinfra-emulator listening on {server.url}", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            if not server.running:
                print("mailinfra-emulator: server stopped unexpectedly", file=sys.stderr)
                return 1
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
