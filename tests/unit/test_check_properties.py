"""Property-based: for every resource type, any input either validates or yields check failures that name the
field — never an exception escaping `check`, never a request sent (preview sends nothing)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.runtime.rpc import UNKNOWN

from pulumi_mailinfra.cleanmail import providers as cleanmail_providers
from pulumi_mailinfra.elemta import providers as elemta_providers
from pulumi_mailinfra.greenarrow import providers as greenarrow_providers
from pulumi_mailinfra.provider import CrudProvider

PROVIDERS = sorted(
    {cls for module in (greenarrow_providers, cleanmail_providers, elemta_providers) for cls in vars(module).values()
     if isinstance(cls, type) and issubclass(cls, CrudProvider) and "spec" in vars(cls)},
    key=lambda cls: cls.__name__)
# `field: reason`, `a.b[0].c: reason`, or a provider-settings problem: a failure always says where.
NAMED = re.compile(r'^[^\W\d]\w*(\[\d+\]|\["(?:[^"\\]|\\.)*"\]|\.[^\W\d]\w*)*: \S|^provider settings: \S')
RAW = {"mailinfra:greenarrowUrl": "http://127.0.0.1:9", "mailinfra:greenarrowUsername": "u",
       "mailinfra:greenarrowPassword": "p", "mailinfra:cleanmailUrl": "http://127.0.0.1:9/cleanmail",
       "mailinfra:cleanmailToken": "t", "mailinfra:elemtaUrl": "http://127.0.0.1:9/elemta"}

scalars = (st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=True, allow_infinity=True)
           | st.text(max_size=40) | st.sampled_from(["", " ", "a@b.c", "*.example.com", "10.0.0.1/33", UNKNOWN,
                                                     "x" * 300, "ÉCOLE", "0", "-1", "true"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=12) | st.sampled_from(["name", "id", "port", "domains",
                                                                                  "email", "password", "hostname"]),
                                        inner, max_size=4), max_leaves=12)


def named(cls: type[CrudProvider], reason: str) -> bool:
    """A failure names its field: `path: reason`, or a whole-resource rule whose text names the inputs involved."""
    if reason.startswith("(resource): "):
        return any(re.search(rf"\b{key}\b", reason) for key in cls.spec.input_keys)
    return bool(NAMED.match(reason))


def inputs_for(cls: type[CrudProvider]) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.sampled_from(sorted(cls.spec.input_keys)) | st.from_regex(r"\A[a-z_][a-z0-9_]{0,9}\Z")
    return st.dictionaries(keys, values, max_size=8)


@pytest.fixture
def no_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    sent: list[str] = []

    def refuse(self: httpx.Client, request: httpx.Request, **_: Any) -> httpx.Response:
        sent.append(f"{request.method} {request.url}")
        raise httpx.ConnectError("no request may be sent during check", request=request)

    monkeypatch.setattr(httpx.Client, "send", refuse)
    yield sent


@pytest.mark.parametrize("cls", PROVIDERS, ids=lambda cls: cls.spec.type_name)
def test_check_validates_or_names_the_field(cls: type[CrudProvider], no_requests: list[str]) -> None:
    provider = cls()
    provider.configure(ConfigureRequest(Config(RAW, "test")))

    @settings(max_examples=40, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(news=inputs_for(cls), second=inputs_for(cls))
    def check_twice(news: dict[str, Any], second: dict[str, Any]) -> None:
        first = provider.check({}, dict(news))
        assert all(named(cls, f.reason or "") for f in first.failures), [f.reason for f in first.failures]
        # As an update: yesterday's checked inputs as `olds`.
        again = provider.check(dict(first.inputs), dict(second))
        assert all(named(cls, f.reason or "") for f in again.failures), [f.reason for f in again.failures]

    check_twice()
    assert no_requests == [], no_requests


def test_every_resource_type_is_covered() -> None:
    names = {cls.spec.type_name for cls in PROVIDERS}
    assert {"RelayServer", "Route", "ThrottlingTemplate", "ThrottlingRule", "Domain", "User", "EmailAlias",
            "DomainDkim", "AdminToken", "DeliveryCheck"} <= names, names
    assert len(names) == len(PROVIDERS) >= 25


def test_an_empty_item_listed_twice_is_named_readably() -> None:
    """Found by the property test above: `recipients:  listed more than once` named no item."""
    from pulumi_mailinfra.cleanmail.providers import EmailAliasProvider

    failures = EmailAliasProvider().check({}, {"recipients": ["", ""]}).failures
    reasons = [f.reason for f in failures if "more than once" in f.reason]
    assert reasons and reasons[0].startswith('recipients: "" listed more than once'), reasons
    assert all(named(EmailAliasProvider, f.reason) for f in failures)
