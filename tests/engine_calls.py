"""Record what a dynamic provider is handed, call by call, so a test can hold the provider harness against the
real engine: a provider class named `tests.engine_calls:Recording__<module>__<Class>` is the mailinfra provider
`<module>:<Class>` that appends each call's arguments (as received, before the provider touches them) to the JSON
lines file named by MAILINFRA_TEST_CALL_LOG. The provider process imports this module by name, so the CLI's
environment needs the checkout on PYTHONPATH."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import json
import os
import threading
from pathlib import Path
from typing import Any

import pulumi

from pulumi_mailinfra.program_spec import ProgramSpec
from pulumi_mailinfra.reconcile import is_unknown
from pulumi_mailinfra.resource import MailinfraResource

CALL_LOG_ENV = "MAILINFRA_TEST_CALL_LOG"
_PREFIX = "Recording__"
_LOCK = threading.Lock()
_CLASSES: dict[str, type] = {}


def recording_target(provider: str) -> str:
    """The `module:Class` of the recording twin of the provider `provider` (`package.module:Class`)."""
    module, _, name = provider.partition(":")
    return f"{__name__}:{_PREFIX}{module.replace('.', '__')}__{name}"


def jsonable(value: Any) -> Any:
    """A value as JSON keeps it: an unknown becomes the marker "<unknown>", floats stay floats (25.0 != 25)."""
    if is_unknown(value):
        return "<unknown>"
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def _record(provider: Any, method: str, *args: Any) -> None:
    path = os.environ.get(CALL_LOG_ENV)
    if not path:
        return
    call = {"provider": type(provider).__name__, "method": method, "args": jsonable(copy.deepcopy(list(args)))}
    line = json.dumps(call, sort_keys=True)
    with _LOCK, Path(path).open("a") as log:
        log.write(line + "\n")


def read_calls(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


METHODS = ("check", "diff", "create", "read", "update", "delete")


def _recording_class(base: type) -> type:
    def recording(method: str) -> Any:
        def call(self: Any, *args: Any) -> Any:
            _record(self, method, *args)
            return getattr(base, method)(self, *args)

        return call

    methods = {method: recording(method) for method in METHODS}
    return type(f"Recording{base.__name__}", (base,), {**methods, "__module__": __name__})


def recorded_resource(spec: ProgramSpec) -> type[MailinfraResource]:
    """A resource class of the type `spec` describes whose provider is its recording twin."""
    twin = dataclasses.replace(spec, provider=recording_target(spec.provider))

    class Recorded(MailinfraResource, module=spec.provider.split(".")[1], name=spec.type_name):
        def __init__(self, resource_name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None):
            MailinfraResource.__init__(self, twin, resource_name, props, opts)

    return Recorded


def __getattr__(name: str) -> type:
    if not name.startswith(_PREFIX):
        raise AttributeError(name)
    with _LOCK:
        if name not in _CLASSES:
            module, _, cls = name.removeprefix(_PREFIX).rpartition("__")
            base = getattr(importlib.import_module(module.replace("__", ".")), cls)
            _CLASSES[name] = _recording_class(base)
        return _CLASSES[name]
