"""The provider pickle: a reference to the provider class only (no settings, no client), serialised once per type,
SDK pickler left intact; and what a program imports to declare resources (not the providers)."""

from __future__ import annotations

import base64
import importlib
import json
import pickle
import subprocess
import sys

import dill
import pytest

from pulumi_mailinfra import codegen, resource
from pulumi_mailinfra.greenarrow.providers import RelayServerProvider, RouteProvider
from pulumi_mailinfra.greenarrow.resources import _ROUTE

SERVICES = ("greenarrow", "cleanmail", "elemta")


def test_provider_pickles_to_its_class_alone_even_after_configure() -> None:
    provider = RelayServerProvider()
    provider._raw_config = {"mailinfra:greenarrowPassword": "configured-secret"}
    raw = dill.dumps(provider, recurse=True)
    assert b"configured-secret" not in raw
    restored = dill.loads(raw)
    assert type(restored) is RelayServerProvider and getattr(restored, "_raw_config", None) is None


def test_serialised_once_per_type_without_rewrapping_the_pickler() -> None:
    resource._SERIALIZED.clear()
    before = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]
    first = resource.serialized_provider(_ROUTE)
    for _ in range(2000):  # the SDK's own serialize_provider would recurse long before this
        assert resource.serialized_provider(_ROUTE) == first
    assert pickle._Pickler._batch_setitems is before  # type: ignore[attr-defined]
    restored = dill.loads(base64.b64decode(first))
    assert type(restored) is RouteProvider and getattr(restored, "_raw_config", None) is None
    assert len(first) < 200


@pytest.mark.parametrize("service", SERVICES)
def test_each_generated_program_spec_is_its_providers(service: str) -> None:
    """The generated resources.py carries what the program needs of each provider's spec; a spec changed without
    regenerating would let the program mark other secrets or accept other inputs than the provider."""
    resources = importlib.import_module(f"pulumi_mailinfra.{service}.resources")
    for provider in codegen.providers_of(service):
        program = getattr(resources, codegen.spec_constant(provider))
        assert program == provider.program_spec()
        assert type(dill.loads(dill.dumps(program.provider_ref()))) is provider


def test_a_program_declaring_resources_imports_no_provider_pydantic_or_httpx() -> None:
    """What `import pulumi_mailinfra.<service>` costs a program before its first resource registers: the
    providers, pydantic and httpx load in the provider process (or on first use of a look-up) only."""
    script = ("import sys, json\n"
              "import pulumi_mailinfra.greenarrow, pulumi_mailinfra.cleanmail, pulumi_mailinfra.elemta\n"
              "heavy = ('pydantic', 'httpx', 'tenacity')\n"
              "ours = ('.providers', '.models', '.client', '.lookups')\n"
              "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy\n"
              "                        or m.startswith('pulumi_mailinfra.') and m.endswith(ours))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                                       text=True).stdout)
    assert loaded == []


def test_lazy_exports_still_reach_every_public_name() -> None:
    for service in SERVICES:
        package = importlib.import_module(f"pulumi_mailinfra.{service}")
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{service}.{name}"
    from pulumi_mailinfra.cleanmail import DomainProvider, find_domain
    from pulumi_mailinfra.elemta import run_delivery_check

    assert DomainProvider.spec.type_name == "Domain" and callable(find_domain) and callable(run_delivery_check)


def test_a_stack_written_with_the_older_class_pickle_sees_no_diff() -> None:
    """State written before ProgramSpec holds `__provider` as the pickled provider class; the next preview sends
    the `ProviderRef` pickle. Both build the same provider, and the change of `__provider` alone is no diff."""
    older = base64.b64encode(dill.dumps(RelayServerProvider(), recurse=True)).decode()
    newer = resource.serialized_provider(RelayServerProvider.program_spec())
    assert older != newer
    assert type(dill.loads(base64.b64decode(older))) is type(dill.loads(base64.b64decode(newer)))
    inputs = {"name": "relay-a", "source_ip": {"ip": "198.51.100.7", "hostname": "mail.example.com"},
              "destination": {"hostname": "smtp.example.net", "port": 25}}
    result = RelayServerProvider().diff("1", {**inputs, "__provider": older}, {**inputs, "__provider": newer})
    assert not result.changes and result.replaces == []
