"""The engine floor: a dynamic provider that sends nothing, with the same input shapes as RelayServer."""

from __future__ import annotations

import itertools
import pickle
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


_ORIGINAL_BATCH_SETITEMS = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]


class NoopResource(pulumi.dynamic.Resource, module="bench", name="Noop"):
    def __init__(self, name: str, props: dict[str, Any]) -> None:
        # The SDK re-wraps this on every serialisation and never restores it (RecursionError past a few
        # hundred resources); reset it so the floor can reach N=500 while paying dill per resource.
        pickle._Pickler._batch_setitems = _ORIGINAL_BATCH_SETITEMS  # type: ignore[attr-defined]
        super().__init__(NoopProvider(), name, props)
