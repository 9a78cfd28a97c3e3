"""Drive a provider the way the engine does, over HTTP: `Engine` makes the calls the engine makes, in its order,
with what the engine hands a dynamic provider: every value after the SDK's real serialization round trip (nulls
dropped at every level, numbers as floats), `__provider` present, the recorded inputs to `check`, the last outputs
to `diff`, `update`, `read` and `delete`. tests/e2e/test_engine_harness.py records both under the real CLI and
holds them equal."""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import Mapping
from typing import Any

from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.runtime import rpc

from pulumi_mailinfra.program_hash import running_program_hash
from pulumi_mailinfra.program_spec import OWNER_KEY, PROGRAM_KEY
from pulumi_mailinfra.provider import CrudProvider
from pulumi_mailinfra.resource import serialized_provider
from tests.conftest import CM_TOKEN, GA_PASSWORD, GA_USER, Emulator

PROVIDER_KEY = "__provider"


def configured(cls: type[CrudProvider], emulator: Emulator, **extra: str) -> CrudProvider:
    provider = cls()
    raw = {"mailinfra:greenarrowUrl": emulator.url, "mailinfra:greenarrowUsername": GA_USER,
           "mailinfra:greenarrowPassword": GA_PASSWORD, "mailinfra:cleanmailUrl": emulator.cleanmail_url,
           "mailinfra:cleanmailToken": CM_TOKEN, "mailinfra:elemtaUrl": emulator.elemta_url,
           "mailinfra:maxAttempts": "6", **extra}
    provider.configure(ConfigureRequest(Config(raw, "test")))
    return provider


def wire(props: Mapping[str, Any], *, keep_unknowns: bool = False) -> dict[str, Any]:
    """`props` as a dynamic provider receives them: serialized by the SDK into the engine's protobuf struct and
    deserialized by the dynamic provider server (`keep_unknowns` as its Check and Diff do)."""
    loop = asyncio.new_event_loop()
    try:
        struct = loop.run_until_complete(rpc.serialize_properties(copy.deepcopy(dict(props)), {}))
    finally:
        loop.close()
    return rpc.deserialize_properties(struct, keep_unknowns or None)


_RESOURCES = itertools.count(1)


class Engine:
    """What the engine does with one resource: check the program's inputs, diff them against the state, create,
    update, refresh and delete, keeping the state (inputs and outputs) as the engine records it."""

    def __init__(self, provider: CrudProvider, provider_key: str | None = None, owner: str | None = None) -> None:
        self.provider = provider
        self.provider_key = provider_key or serialized_provider(type(provider).program_spec())
        # What the program adds to every registration: which resource of which stack declares it (one per Engine).
        self.owner = owner or f"organization/harness/dev: {provider.spec.type_name} '{next(_RESOURCES)}'"
        self.id = ""
        self.inputs: dict[str, Any] = {}
        self.outputs: dict[str, Any] = {}

    def _program(self, news: Mapping[str, Any]) -> dict[str, Any]:
        """The program's registration as `check` receives it."""
        ran = running_program_hash()  # the hash of the program registering it, as the engine's registrations carry
        program = {OWNER_KEY: self.owner, **({PROGRAM_KEY: ran} if ran is not None else {})}
        return wire({**program, **news, PROVIDER_KEY: self.provider_key}, keep_unknowns=True)

    def _recorded(self, values: Mapping[str, Any] | None) -> dict[str, Any]:
        """A provider's answer as the engine records it (the server adds `__provider`)."""
        return wire({**(values or {}), PROVIDER_KEY: self.provider_key})

    def check(self, news: Mapping[str, Any], *, expect_failures: bool = False) -> Any:
        checked = self.provider.check(copy.deepcopy(self.inputs), self._program(news))
        if not expect_failures:
            assert checked.failures == [], checked.failures
        return checked

    def create(self, news: dict[str, Any]) -> Engine:
        inputs = self._recorded(self.check(news).inputs)
        created = self.provider.create(copy.deepcopy(inputs))
        self.id, self.inputs, self.outputs = created.id, inputs, self._recorded(created.outs)
        return self

    def refresh(self) -> Any:
        """Read the object, then (as the CLI's refresh does, to report what changed) diff the outputs read against
        the recorded inputs: the diff is returned, its `changes` true where `pulumi refresh` shows drift."""
        read = self.provider.read(self.id, copy.deepcopy(self.outputs))
        assert read.id == self.id
        self.outputs = self._recorded(read.outs)
        return self.provider.diff(self.id, copy.deepcopy(self.outputs), wire(self.inputs, keep_unknowns=True))

    def diff(self, news: dict[str, Any] | None = None) -> Any:
        """A preview of `news`: check, then diff against the last outputs."""
        return self._diff(self.check(news if news is not None else self._program_inputs()).inputs)

    def _diff(self, checked: Mapping[str, Any]) -> Any:
        news = wire({**checked, PROVIDER_KEY: self.provider_key}, keep_unknowns=True)
        return self.provider.diff(self.id, copy.deepcopy(self.outputs), news)

    def changes(self, news: dict[str, Any] | None = None) -> bool:
        return bool(self.diff(news).changes)

    def update(self, news: dict[str, Any]) -> None:
        """An `up` of `news`: check, diff, and update when the diff shows a change."""
        checked = self.check(news).inputs
        if not self._diff(checked).changes:
            return
        inputs = self._recorded(checked)
        updated = self.provider.update(self.id, copy.deepcopy(self.outputs), copy.deepcopy(inputs))
        self.inputs, self.outputs = inputs, self._recorded(updated.outs)

    def delete(self) -> None:
        self.provider.delete(self.id, copy.deepcopy(self.outputs))

    def _program_inputs(self) -> dict[str, Any]:
        """The recorded inputs, as the program that made them would register them again."""
        return {k: v for k, v in self.inputs.items() if k != PROVIDER_KEY}
