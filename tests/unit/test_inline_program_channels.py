"""Inline programs run one after another in one process (tests, benchmarks): a run whose engine is gone must
not break a later run whose engine the kernel put on the same port."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime import settings
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

from mailinfra_cli.devtools import isolate_inline_program_channels


class Engine(engine_pb2_grpc.EngineServicer):
    def Log(self, request: engine_pb2.LogRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        return empty_pb2.Empty()


def start_engine(port: int = 0) -> tuple[grpc.Server, int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    engine_pb2_grpc.add_EngineServicer_to_server(Engine(), server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, bound


@pytest.fixture
def servers() -> Iterator[list[grpc.Server]]:
    started: list[grpc.Server] = []
    yield started
    for server in started:
        server.stop(0)


def test_a_run_after_an_engine_that_went_away_on_the_same_port_reaches_its_engine(
        servers: list[grpc.Server]) -> None:
    isolate_inline_program_channels()
    isolate_inline_program_channels()  # idempotent
    assert settings._GRPC_CHANNEL_OPTIONS.count(("grpc.use_local_subchannel_pool", 1)) == 1

    first_engine, port = start_engine()
    first_run = settings.Settings(project="p", stack="s", engine=f"127.0.0.1:{port}")
    first_run.engine.Log(engine_pb2.LogRequest(message="during the run"))
    first_engine.stop(0).wait()
    with pytest.raises(grpc.RpcError) as gone:  # a late line of a run whose CLI has exited
        first_run.engine.Log(engine_pb2.LogRequest(message="after the CLI exited"), timeout=2)
    assert gone.value.code() == grpc.StatusCode.UNAVAILABLE

    second_engine, same_port = start_engine(port)
    servers.append(second_engine)
    assert same_port == port
    second_run = settings.Settings(project="p", stack="s", engine=f"127.0.0.1:{port}")
    second_run.engine.Log(engine_pb2.LogRequest(message="the next run's first line"), timeout=5)
