"""A Python language host (`pulumi-language-python`) for the CLI that scripts/build-pulumi.sh builds.

The official host is a Go module this machine's Go proxy does not serve, so the built tools ship this
stand-in: it speaks the engine's LanguageRuntime gRPC protocol and runs the project's program in-process,
exactly as the Automation API runs inline programs. With it, plain `pulumi preview/up/destroy` work in a
project folder. An official Pulumi install uses its own host instead."""

from __future__ import annotations

import os
import sys
from concurrent import futures
from pathlib import Path
from threading import Event
from typing import Any

import grpc
from pulumi.automation._server import LanguageServer
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

from .devtools import program_file_runner


def program_file(request: Any) -> Path:
    """The program to run: the engine's ProgramInfo when sent, else pwd + program."""
    info = getattr(request, "info", None)
    if info is not None and info.program_directory:
        folder = Path(info.program_directory)
        entry = info.entry_point or "."
    else:
        folder = Path(request.pwd or os.getcwd())
        entry = request.program or "."
    path = (folder / entry).resolve()
    return path / "__main__.py" if path.is_dir() else path


class ProjectLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(program=lambda: None)

    def Run(self, request: Any, context: Any) -> Any:
        if request.pwd:
            os.chdir(request.pwd)
        self.program = program_file_runner(program_file(request))
        return super().Run(request, context)

    def InstallDependencies(self, request: Any, context: Any) -> Any:
        return iter(())  # the project's .venv is set up by scripts/setup.sh

    def GetProgramDependencies(self, request: Any, context: Any) -> Any:
        return language_pb2.GetProgramDependenciesResponse()

    def RuntimeOptionsPrompts(self, request: Any, context: Any) -> Any:
        return language_pb2.RuntimeOptionsResponse()


def main() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(ProjectLanguageServer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    Event().wait()


if __name__ == "__main__":
    main()
