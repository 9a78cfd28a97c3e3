"""Drive a provider the way the engine does (check, then create / diff / update / read), over HTTP."""

from __future__ import annotations

import copy
from typing import Any

from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_mailinfra.provider import CrudProvider
from tests.conftest import CM_TOKEN, GA_PASSWORD, GA_USER, Emulator


def configured(cls: type[CrudProvider], emulator: Emulator, **extra: str) -> CrudProvider:
    provider = cls()
    raw = {"mailinfra:greenarrowUrl": emulator.url, "mailinfra:greenarrowUsername": GA_USER,
           "mailinfra:greenarrowPassword": GA_PASSWORD, "mailinfra:cleanmailUrl": emulator.cleanmail_url,
           "mailinfra:cleanmailToken": CM_TOKEN, "mailinfra:elemtaUrl": emulator.elemta_url,
           "mailinfra:maxAttempts": "6", **extra}
    provider.configure(ConfigureRequest(Config(raw, "test")))
    return provider


class Engine:
    """What the engine does with a provider: check every input, diff against the state, keep the state."""

    def __init__(self, provider: CrudProvider) -> None:
        self.provider = provider
        self.id = ""
        self.inputs: dict[str, Any] = {}
        self.outputs: dict[str, Any] = {}

    def create(self, news: dict[str, Any]) -> Engine:
        checked = self.provider.check({}, copy.deepcopy(news))
        assert checked.failures == [], checked.failures
        created = self.provider.create(dict(checked.inputs))
        self.id, self.inputs, self.outputs = created.id, dict(checked.inputs), dict(created.outs or {})
        return self

    def refresh(self) -> None:
        read = self.provider.read(self.id, self.outputs)
        assert read.id == self.id
        self.outputs = dict(read.outs or {})

    def changes(self, news: dict[str, Any] | None = None) -> bool:
        checked = self.provider.check(self.inputs, copy.deepcopy(news if news is not None else self.inputs))
        return bool(self.provider.diff(self.id, self.outputs, checked.inputs).changes)

    def update(self, news: dict[str, Any]) -> None:
        checked = self.provider.check(self.inputs, copy.deepcopy(news))
        assert checked.failures == [], checked.failures
        updated = self.provider.update(self.id, self.outputs, dict(checked.inputs))
        self.inputs, self.outputs = dict(checked.inputs), dict(updated.outs or {})
