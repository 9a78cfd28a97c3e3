"""The same look-ups, gate, runbook actions and DeliveryCheck against the real Elemta server (built from
third_party/elemta), once without and once with authentication; delivery through `elemta server` to a
loopback LMTP sink that accepts or refuses."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_mailinfra import errors
from pulumi_mailinfra.config import ServiceSettings
from pulumi_mailinfra.elemta import lookups
from pulumi_mailinfra.elemta.client import ElemtaClient
from pulumi_mailinfra.elemta.delivery import DeliveryCheckFailed, run_delivery_check
from pulumi_mailinfra.elemta.providers import DeliveryCheckProvider
from tests.elemta_real import ADMIN, OPERATOR, RealElemta, real_elemta

pytestmark = pytest.mark.elemta

SENDER, RECIPIENT = "ops@example.org", "probe@example.net"


@pytest.fixture
def delivering(tmp_path: Path) -> Iterator[RealElemta]:
    with real_elemta(tmp_path, deliver=True) as server:
        yield server


@pytest.fixture
def web_only(tmp_path: Path) -> Iterator[RealElemta]:
    with real_elemta(tmp_path, deliver=False) as server:
        yield server


@pytest.fixture
def with_auth(tmp_path: Path) -> Iterator[RealElemta]:
    with real_elemta(tmp_path, deliver=True, auth=True) as server:
        yield server


def client(server: RealElemta, **settings: str) -> ElemtaClient:
    return ElemtaClient(ServiceSettings(url=server.url, max_attempts=2, **settings))


def provider_for(server: RealElemta, **config: str) -> DeliveryCheckProvider:
    provider = DeliveryCheckProvider()
    provider.configure(ConfigureRequest(Config({"mailinfra:elemtaUrl": server.url, **config}, "test")))
    return provider


def wait_until(check: object, timeout: float = 8.0) -> None:
    """The real server recomputes /api/queue/stats every 5 s."""
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.25)


def test_lookups_on_a_server_that_only_queues(web_only: RealElemta) -> None:
    api = client(web_only)
    assert lookups.health(api).healthy
    assert lookups.queue_stats(api).total == 0
    sent = api.send_test(SENDER, RECIPIENT, "hello", "one line")
    listed = lookups.queue_messages("active", api)
    assert [m.id for m in listed] == [sent.message_id] and listed[0].to == [RECIPIENT]
    assert [m.id for m in lookups.queue_messages("pending", api)] == [sent.message_id]  # the docs' name
    one = lookups.message(sent.message_id, api)
    assert (one.sender, one.subject, one.queue_type) == (SENDER, "hello", "active") and "one line" in one.content
    with pytest.raises(errors.NotFoundError, match="Message not found"):
        lookups.message("0-0", api)
    stats = lookups.delivery_stats("week", api)
    assert stats.total_delivered == 0 and stats.data == []
    assert isinstance(lookups.system_logs(limit=5, client=api).logs, list)
    wait_until(lambda: lookups.queue_stats(api).active == 1)
    assert lookups.queue_stats(api).active == 1


def test_check_on_a_server_that_only_queues(web_only: RealElemta) -> None:
    api = client(web_only)
    queued = run_delivery_check(api, SENDER, RECIPIENT, wait_for="queued", poll_interval_seconds=0.1)
    assert queued.state == "queued" and [m.id for m in api.queue_messages("active")] == [queued.message_id]
    with pytest.raises(DeliveryCheckFailed, match=r"still in the active queue after 1\.5 s"):
        run_delivery_check(api, SENDER, RECIPIENT, timeout_seconds=1.5, poll_interval_seconds=0.2)


def test_gate_against_the_real_queue(web_only: RealElemta) -> None:
    api = client(web_only)
    assert lookups.check_gate(max_active=0, client=api).total == 0
    for _ in range(2):
        api.send_test(SENDER, RECIPIENT, "s", "b")
    wait_until(lambda: lookups.queue_stats(api).active == 2)
    with pytest.raises(lookups.GateClosed, match=r"active 2 > 1 \(now: active 2, deferred 0, hold 0, failed 0, "
                                                  r"total 2, \d+ B\)"):
        lookups.check_gate(max_active=1, client=api)
    assert lookups.check_gate(max_active=2, max_failed=0, client=api).active == 2


def test_delivery_check_delivers_through_the_real_queue_processor(delivering: RealElemta) -> None:
    provider = provider_for(delivering)
    inputs = provider.check({}, {"sender": SENDER, "recipient": RECIPIENT, "triggers": ["a"],
                                 "timeout_seconds": 20.0, "poll_interval_seconds": 0.2}).inputs
    created = provider.create(dict(inputs))
    assert created.outs["state"] == "delivered" and created.id == created.outs["message_id"]
    assert [m["to"] for m in delivering.sink.received] == [[RECIPIENT]]
    assert "Subject: pulumi-mailinfra delivery check" in delivering.sink.received[0]["content"]
    logged = [e for e in lookups.message_logs("delivery", 500, client(delivering)) if e.message_id == created.id]
    assert logged and logged[-1].fields.get("status") == "delivered"
    again = provider.update(created.id, dict(created.outs), {**inputs, "triggers": ["b"]})
    assert again.outs["message_id"] != created.id and len(delivering.sink.received) == 2


def test_delivery_check_fails_quoting_the_refusal(delivering: RealElemta) -> None:
    delivering.sink.rcpt = "550 5.1.1 no such user"
    provider = provider_for(delivering)
    inputs = provider.check({}, {"sender": SENDER, "recipient": "nobody@example.net", "timeout_seconds": 20.0,
                                 "poll_interval_seconds": 0.2}).inputs
    with pytest.raises(errors.MailinfraError, match=r"failed: Permanent failure: all recipients rejected: "
                                                    r"\[nobody@example\.net\]"):
        provider.create(dict(inputs))
    failed = lookups.queue_messages("failed", client(delivering))
    assert [m.to for m in failed] == [["nobody@example.net"]] and delivering.sink.received == []
    bounces = [e for e in lookups.message_logs("bounce", 500, client(delivering)) if e.message_id == failed[0].id]
    assert bounces and "all recipients rejected" in (bounces[-1].error or "")


def test_runbook_actions_on_the_real_server(tmp_path: Path) -> None:
    with real_elemta(tmp_path, deliver=False, auth=True) as server:
        admin = client(server, username=ADMIN[0], password=ADMIN[1])
        first = admin.send_test(SENDER, RECIPIENT, "retry me", "body text").message_id
        again = lookups.retry_message(first, admin)
        with pytest.raises(errors.NotFoundError):
            admin.message(first)
        assert admin.message(again).subject == "retry me" and "body text" in (admin.message(again).content or "")
        lookups.delete_message(again, admin)
        admin.send_test(SENDER, RECIPIENT, "s", "b")
        lookups.flush_queue("active", admin)
        assert lookups.queue_messages("active", admin) == []


def test_credentials_on_a_server_that_requires_them(with_auth: RealElemta) -> None:
    assert lookups.health(client(with_auth)).healthy  # reads stay public
    with pytest.raises(errors.AuthenticationError) as anonymous:
        client(with_auth).send_test(SENDER, RECIPIENT, "s", "b")
    assert "Authentication required" in str(anonymous.value) and "no credentials" in str(anonymous.value)
    wrong = provider_for(with_auth, **{"mailinfra:elemtaUsername": OPERATOR[0],
                                       "mailinfra:elemtaPassword": "not-the-password"})
    inputs = wrong.check({}, {"sender": SENDER, "recipient": RECIPIENT, "timeout_seconds": 20.0}).inputs
    with pytest.raises(errors.MailinfraError) as refused:
        wrong.create(dict(inputs))
    assert "HTTP 401" in str(refused.value) and "invalid credentials" in str(refused.value)
    assert "not-the-password" not in str(refused.value)

    operator = provider_for(with_auth, **{"mailinfra:elemtaUsername": OPERATOR[0],
                                          "mailinfra:elemtaPassword": OPERATOR[1]})
    assert operator.create(dict({**inputs, "poll_interval_seconds": 0.2})).outs["state"] == "delivered"
    with pytest.raises(errors.PermissionDeniedError, match="Required permission: queue:flush"):
        lookups.flush_queue("all", client(with_auth, username=OPERATOR[0], password=OPERATOR[1]))

    key = with_auth.create_api_key()
    keyed = provider_for(with_auth, **{"mailinfra:elemtaApiKey": key})
    assert keyed.create(dict({**inputs, "poll_interval_seconds": 0.2})).outs["state"] == "delivered"
    with pytest.raises(errors.AuthenticationError, match="the server refused the API key"):
        client(with_auth, token="elemta_" + "x" * 43).send_test(SENDER, RECIPIENT, "s", "b")
    assert httpx.get(f"{with_auth.url}/api/queue/stats").status_code == 200
