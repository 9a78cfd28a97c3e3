"""The provider pickle: class only (no settings, no client), serialised once, SDK pickler left intact."""

from __future__ import annotations

import base64
import pickle

import dill

from pulumi_mailinfra import resource
from pulumi_mailinfra.greenarrow.providers import RelayServerProvider, RouteProvider


def test_provider_pickles_to_its_class_alone_even_after_configure() -> None:
    provider = RelayServerProvider()
    provider._raw_config = {"mailinfra:greenarrowPassword": "configured-secret"}
    raw = dill.dumps(provider, recurse=True)
    assert b"configured-secret" not in raw
    restored = dill.loads(raw)
    assert type(restored) is RelayServerProvider and getattr(restored, "_raw_config", None) is None


def test_serialised_once_per_class_without_rewrapping_the_pickler() -> None:
    resource._SERIALIZED.clear()
    before = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]
    first = resource.serialized_provider(RouteProvider())
    for _ in range(2000):  # the SDK's own serialize_provider would recurse long before this
        assert resource.serialized_provider(RouteProvider()) == first
    assert pickle._Pickler._batch_setitems is before  # type: ignore[attr-defined]
    assert type(dill.loads(base64.b64decode(first))) is RouteProvider
    assert len(first) < 200
