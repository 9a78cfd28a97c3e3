"""The engine floor: a dynamic provider that sends nothing, with the same input shapes as RelayServer."""

from __future__ import annotations

import itertools
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, ResourceProvider, UpdateResult

_ids = itertools.count(1)


class NoopProvider(ResourceProvider):
    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(str(next(_ids)), {k: v for k, v in props.items() if k != "__provider"})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(news)


class NoopResource(pulumi.dynamic.Resource, module="bench", name="Noop"):
    def __init__(self, name: str, props: dict[str, Any]) -> None:
        super().__init__(NoopProvider(), name, props)
