"""A server answering garbage (an HTML error page, JSON cut short, `success: false` with no reason, an object of
another shape) gives a readable MailinfraError naming the request, never another exception; and a write the
garbage hid is found again instead of being made twice."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from pulumi_mailinfra.cleanmail.providers import DomainProvider
from pulumi_mailinfra.elemta.providers import DeliveryCheckProvider
from pulumi_mailinfra.errors import MailinfraError
from pulumi_mailinfra.greenarrow.providers import RelayServerProvider, RouteProvider
from pulumi_mailinfra.provider import CrudProvider
from tests.conftest import Emulator
from tests.payloads import relay_payload
from tests.provider.harness import Engine, configured
from tests.provider.test_cleanmail_http import domain

BODIES = ("html", "truncated_json", "success_false", "wrong_shape")
REQUEST = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) /\S+")

# type -> (provider class, inputs, the path every request of it goes to, an update of its inputs)
CASES: dict[str, tuple[type[CrudProvider], Callable[[], dict[str, Any]], str, dict[str, Any]]] = {
    "RelayServer": (RelayServerProvider, lambda: relay_payload("garbage-relay"), "/relay_servers",
                    {"throttle_limits": {"max_concurrent_connections": 3, "max_messages_per_hour": 120}}),
    "Route": (RouteProvider, lambda: {"name": "garbage-route", "requested_target_daily_volume": 1000}, "/routes",
              {"requested_target_daily_volume": 2000}),
    "Domain": (DomainProvider, lambda: domain("garbage.example.com"), "/cleanmail/domains",
               {"description": "changed"}),
}


def provider_for(emulator: Emulator, cls: type[CrudProvider]) -> CrudProvider:
    return configured(cls, emulator, **{"mailinfra:maxAttempts": "2"})  # a retried read fails fast


def assert_readable(error: pytest.ExceptionInfo[MailinfraError], body: str) -> None:
    text = str(error.value)
    assert REQUEST.search(text), f"the request is not named: {text}"
    assert "\n" not in text.strip() and len(text) < 1200, text
    if body == "html":
        assert "not JSON" in text and "502 Bad Gateway" in text, text


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("kind", sorted(CASES))
def test_create_read_update_delete_fail_readably(emulator: Emulator, kind: str, body: str) -> None:
    cls, inputs, path, change = CASES[kind]
    engine = Engine(provider_for(emulator, cls))
    emulator.fault(kind="garbage", body=body, method="POST", path=f"{path}$")
    with pytest.raises(MailinfraError) as created:
        engine.create(inputs())
    assert_readable(created, body)
    emulator.clear_faults()
    engine.create(inputs())  # converges once the server answers sensibly

    for method, operation in (("GET", engine.refresh), ("PUT|PATCH", lambda: engine.update({**inputs(), **change})),
                              ("DELETE", lambda: engine.provider.delete(engine.id, engine.outputs))):
        emulator.fault(kind="garbage", body=body, path=f"{path}/", method=None if "|" in method else method)
        with pytest.raises(MailinfraError) as failed:
            operation()
        assert_readable(failed, body)
        emulator.clear_faults()


@pytest.mark.parametrize("body", BODIES)
def test_a_create_the_garbage_hid_is_taken_over_not_duplicated(emulator: Emulator, body: str) -> None:
    """The write was applied behind a proxy that mangled the answer: the provider finds the object by name."""
    engine = Engine(provider_for(emulator, RelayServerProvider))
    emulator.fault(kind="garbage", body=body, method="POST", path="/relay_servers$", apply=True, times=1)
    engine.create(relay_payload("hidden-relay"))  # an answer no API gives: ambiguous, the name is looked up at once
    assert emulator.names("/relay_servers", "relay_servers") == ["hidden-relay"]
    assert engine.outputs["name"] == "hidden-relay" and not engine.changes()


@pytest.mark.parametrize("body", BODIES)
def test_elemta_delivery_check_fails_readably(emulator: Emulator, body: str) -> None:
    from tests.provider.test_elemta_http import CHECK

    emulator.fault(kind="garbage", body=body, path="^/elemta/")
    with pytest.raises(MailinfraError) as failed:
        Engine(provider_for(emulator, DeliveryCheckProvider)).create(dict(CHECK))
    assert_readable(failed, body)


@pytest.mark.parametrize("apply", [False, True])
@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_delete_answered_with_another_shape_is_not_taken_as_done(emulator: Emulator, kind: str,
                                                                   apply: bool) -> None:
    """Found by the fault campaign: a DELETE answered 200 with an unknown object was taken as done, and the object
    (not deleted) was left behind. Now the answer is retried or checked: the object ends up gone either way."""
    cls, inputs, path, _ = CASES[kind]
    engine = Engine(provider_for(emulator, cls)).create(inputs())
    emulator.fault(kind="garbage", body="wrong_shape", method="DELETE", path=f"{path}/", apply=apply, times=1)
    engine.provider.delete(engine.id, engine.outputs)
    assert not engine.provider.exists(engine.provider.client(), engine.id, engine.inputs)
