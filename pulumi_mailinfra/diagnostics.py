"""Every API request the provider makes, visible through Pulumi's own logging at debug level:
`pulumi up --debug` (or `--logtostderr -v=9`) shows lines such as
`mailinfra greenarrow: POST /ga/api/v3/eng/relay_servers -> 200 in 12 ms`.

Only the method, the path (no query string), the status and the duration are logged: never a body, a
header or a credential. In the dynamic-provider process the lines go to the engine's Log RPC (the engine
passes its address as the plugin's first argument); in a program (look-ups) through `pulumi.log.debug`;
elsewhere (plain scripts) through the standard `logging` module only."""

from __future__ import annotations

import atexit
import contextlib
import logging
import queue
import re
import sys
import threading
import time
import traceback
from typing import Any

LOGGER = logging.getLogger("pulumi_mailinfra.http")
_ADDRESS = re.compile(r"^(127\.0\.0\.1|localhost|\[::1\]|::1):\d+$")
_INSTALL_LOCK = threading.Lock()


class EngineLogHandler(logging.Handler):
    """Forwards log records to the Pulumi engine as DEBUG diagnostics, from a thread of its own.

    A Log call is a round trip to the engine (~4 ms at N = 500, against a 5 ms API), which a worker thread
    waiting to answer the engine should not pay once per request: records are queued, and lines queued while a
    call is under way, or within `gather_seconds` of the first, go together in one call (the engine prints each
    line as it is). `flush` waits for the queue to drain; it runs at exit too, since the engine stops a plugin
    with SIGINT before killing it."""

    max_lines_per_call = 500
    gather_seconds = 0.05

    def __init__(self, engine_address: str) -> None:
        super().__init__(level=logging.DEBUG)
        import grpc
        from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

        self._severity = engine_pb2.DEBUG
        self._request = engine_pb2.LogRequest
        self._engine = engine_pb2_grpc.EngineStub(grpc.insecure_channel(engine_address))
        self._pending: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._progress = threading.Condition()
        self._queued = self._done = 0
        threading.Thread(target=self._send_forever, name="mailinfra-engine-log", daemon=True).start()
        atexit.register(self.flush)

    def handle(self, record: logging.LogRecord) -> bool:
        # Without the handler's lock, which `logging` holds around `emit`: the queue is thread-safe already.
        if self.filter(record):
            self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # diagnostics never fail a deployment
            return
        with self._progress:
            self._queued += 1
        self._pending.put(line)

    def flush(self, timeout: float = 2.0) -> None:
        """Wait (at most `timeout` seconds) until every line queued so far was sent or given up on."""
        with self._progress:
            target = self._queued
            self._progress.wait_for(lambda: self._done >= target, timeout=timeout)

    def _send_forever(self) -> None:
        while True:
            lines = [self._pending.get()]
            time.sleep(self.gather_seconds)
            with contextlib.suppress(queue.Empty):
                while len(lines) < self.max_lines_per_call:
                    lines.append(self._pending.get_nowait())
            # A failure is dropped, never printed: the engine may be gone already.
            with contextlib.suppress(Exception):
                self._engine.Log(self._request(severity=self._severity, message="\n".join(lines)), timeout=5)
            with self._progress:
                self._done += len(lines)
                self._progress.notify_all()


class ProgramLogHandler(logging.Handler):
    """Inside a Pulumi program: `pulumi.log.debug`, which the SDK sends to the engine."""

    def emit(self, record: logging.LogRecord) -> None:
        import pulumi

        try:
            pulumi.log.debug(self.format(record))
        except Exception:  # as above
            return


def _engine_address_of_this_plugin(argv: list[str] | None = None) -> str | None:
    """The engine's address when this process is a resource plugin started by the engine: its last argument
    (`pulumi up -v=9 --logflow` passes `-v=9` before it)."""
    args = sys.argv if argv is None else argv
    if len(args) < 2 or "pulumi/dynamic" not in args[0].replace("\\", "/"):
        return None
    return args[-1] if _ADDRESS.match(args[-1]) else None


def install_engine_logging() -> None:
    """Route request logs to the engine, once per process; a no-op outside Pulumi."""
    with _INSTALL_LOCK:
        if any(isinstance(h, (EngineLogHandler, ProgramLogHandler)) for h in LOGGER.handlers):
            return
        handler: logging.Handler | None = None
        address = _engine_address_of_this_plugin()
        if address:
            handler = EngineLogHandler(address)
        else:
            from pulumi.runtime import settings

            if settings.get_engine() is not None:
                handler = ProgramLogHandler()
        if handler is not None:
            handler.setFormatter(logging.Formatter("mailinfra %(message)s"))
            LOGGER.addHandler(handler)
            LOGGER.setLevel(logging.DEBUG)


class _OneLineTraceback:
    """Stands in for the `traceback` module inside the SDK's dynamic provider server, which (in recent SDKs)
    answers every exception of a provider call with `traceback.format_exc()`: the CLI then prints the whole Python
    traceback under the resource. This answers the error's own message instead (an error of ours already says
    what failed, with the API's words and what to do), and sends the traceback as a debug diagnostic
    (`pulumi up --debug`). Everything else is the real module's."""

    def __getattr__(self, name: str) -> Any:
        return getattr(traceback, name)

    def format_exc(self, limit: int | None = None, chain: bool = True) -> str:
        full = traceback.format_exc(limit, chain)
        error = sys.exc_info()[1]
        if error is None:
            return full
        LOGGER.debug("provider error, in full:\n%s", full)
        return one_line(error)


def one_line(error: BaseException) -> str:
    """What the CLI shows for a failed provider call: our errors' message; another error's type and message,
    pointing at `--debug` for where it came from."""
    from .errors import MailinfraError

    if isinstance(error, MailinfraError):
        return str(error) or type(error).__name__
    return f"{type(error).__name__}: {error} (an unexpected error of the provider: `--debug` shows where)"


def install_one_line_errors() -> None:
    """In the dynamic provider process, make the SDK's server answer a failed call with one line (see
    `_OneLineTraceback`). SDKs whose server has no such wrapper already answer `str(error)`."""
    server = sys.modules.get("__main__")
    if server is None or not hasattr(server, "_abort_with_traceback") or not hasattr(server, "traceback"):
        return
    if not isinstance(server.traceback, _OneLineTraceback):
        server.traceback = _OneLineTraceback()


# The last request each thread sent and what came back, so a provider that cannot use an answer can say which
# request it was (the dynamic provider runs operations on 4 worker threads).
_LAST_EXCHANGE = threading.local()


def remember_exchange(description: str) -> None:
    """The request this thread made last, as error messages name it (`greenarrow POST /... (HTTP 200)`)."""
    _LAST_EXCHANGE.value = description


def last_exchange() -> str | None:
    return getattr(_LAST_EXCHANGE, "value", None)


def forget_last_exchange() -> None:
    _LAST_EXCHANGE.value = None


def log_request(service: str, method: str, path: str, outcome: Any, elapsed_s: float, attempt: int) -> None:
    if not LOGGER.isEnabledFor(logging.DEBUG):
        return
    retry = f" (attempt {attempt})" if attempt > 1 else ""
    LOGGER.debug("%s: %s %s -> %s in %d ms%s", service, method, path.split("?", 1)[0], outcome,
                 round(elapsed_s * 1000), retry)


def program_output(fn: Any, *args: Any) -> Any:
    """`fn(*args)` once the inputs are known, as a program's Output (what every look-up returns); the
    look-up's requests show with `pulumi up --debug`."""
    import pulumi

    install_engine_logging()
    return pulumi.Output.all(*args).apply(lambda values: fn(*values))
