"""The provider's request log lines reach the engine's Log RPC (a real gRPC server here) without making the
threads that log wait for the engine, batched while a call is under way, every line once and in order."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

from pulumi_mailinfra.diagnostics import EngineLogHandler


class SlowEngine(engine_pb2_grpc.EngineServicer):
    """Records every Log call; each takes `delay` seconds, like a busy engine."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.calls: list[tuple[int, str]] = []
        self.lock = threading.Lock()

    def Log(self, request: engine_pb2.LogRequest, context: grpc.ServicerContext) -> object:
        time.sleep(self.delay)
        with self.lock:
            self.calls.append((request.severity, request.message))
        return empty_pb2.Empty()


@pytest.fixture
def engine() -> Iterator[tuple[SlowEngine, str]]:
    servicer = SlowEngine(delay=0.02)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    engine_pb2_grpc.add_EngineServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, f"127.0.0.1:{port}"
    server.stop(grace=None)


def test_lines_are_batched_sent_once_in_order_and_never_waited_for(engine: tuple[SlowEngine, str]) -> None:
    servicer, address = engine
    handler = EngineLogHandler(address)
    handler.setFormatter(logging.Formatter("mailinfra %(message)s"))
    logger = logging.getLogger(f"test-engine-logging-{id(handler)}")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False

    def log_lines(thread: int) -> None:
        for n in range(50):
            logger.debug("thread %d line %d", thread, n)

    started = time.perf_counter()
    threads = [threading.Thread(target=log_lines, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    logging_took = time.perf_counter() - started
    handler.flush()

    # 200 lines at 20 ms per call would take 4 s one call per line, in the loggers' threads.
    assert logging_took < 0.5
    assert all(severity == engine_pb2.DEBUG for severity, _ in servicer.calls)
    lines = [line for _, message in servicer.calls for line in message.split("\n")]
    assert sorted(lines) == sorted(f"mailinfra thread {t} line {n}" for t in range(4) for n in range(50))
    assert len(servicer.calls) < 20  # batched while the first calls were under way
    for t in range(4):
        own = [int(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(f"mailinfra thread {t} ")]
        assert own == list(range(50))


def test_an_engine_that_is_gone_loses_lines_silently(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"  # nothing listens there once closed
    handler = EngineLogHandler(address)
    handler.setFormatter(logging.Formatter("%(message)s"))
    record = logging.LogRecord("x", logging.DEBUG, __file__, 1, "GET /x -> 200", None, None)
    handler.handle(record)
    handler.flush(timeout=10)
    assert handler._done == handler._queued == 1
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(("argv", "address"), [
    (["/x/pulumi/dynamic/__main__.py", "127.0.0.1:43741"], "127.0.0.1:43741"),
    # `pulumi up -v=9 --logflow` flows its verbosity to the plugin before the address: the lines must still go.
    (["/x/pulumi/dynamic/__main__.py", "-v=9", "127.0.0.1:33585"], "127.0.0.1:33585"),
    (["/x/pulumi/dynamic/__main__.py"], None),
    (["/x/other/tool.py", "127.0.0.1:1"], None),
    (["/x/pulumi/dynamic/__main__.py", "127.0.0.1:1", "--unexpected"], None),
])
def test_the_engine_address_is_the_plugins_last_argument(argv: list[str], address: str | None) -> None:
    from pulumi_mailinfra.diagnostics import _engine_address_of_this_plugin

    assert _engine_address_of_this_plugin(argv) == address
