"""The Elemta emulator: its backend without HTTP (the delivery step in every mode, stats and logs derived from
what happened, persistence) and its HTTP layer (the real server's shapes and text errors, authentication)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from pulumi_mailinfra.emulator import EmulatorServer
from pulumi_mailinfra.emulator.elemta.backend import BadRequest, ElemtaBackend, NotFound


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def send(backend: ElemtaBackend, to: Any = "probe@example.net", **extra: Any) -> str:
    return str(backend.send_test({"from": "ops@example.org", "to": to, "subject": "s", "body": "b", **extra})
               ["message_id"])


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def backend(clock: Clock) -> ElemtaBackend:
    return ElemtaBackend(delay_seconds=5, clock=clock)


def test_a_sent_message_is_active_until_its_delivery_step(backend: ElemtaBackend, clock: Clock) -> None:
    message_id = send(backend)
    assert [m["id"] for m in backend.list_queue("active") or []] == [message_id]
    assert backend.queue_stats()["active_count"] == 1
    clock.now += 4.9
    assert backend.get_message(message_id)["queue_type"] == "active"
    clock.now += 0.2
    with pytest.raises(NotFound, match=f"Message not found: {message_id}"):
        backend.get_message(message_id)
    delivered = backend.message_logs({"event_type": "delivery"})["logs"]
    assert [e["fields"]["message_id"] for e in delivered] == [message_id]
    stats = backend.delivery_stats("day")
    assert (stats["total_delivered"], stats["success_rate"], stats["recent_errors"]) == (1, 100.0, None)


def test_deferred_messages_carry_their_error_and_retry(backend: ElemtaBackend, clock: Clock) -> None:
    backend.set_delivery(mode="defer", retry_seconds=30, error="451 4.7.1 greylisted")
    message_id = send(backend)
    clock.now += 5
    message = backend.get_message(message_id)
    assert (message["queue_type"], message["retry_count"], message["last_error"]) == (
        "deferred", 1, "451 4.7.1 greylisted")
    assert backend.queue_stats()["deferred_count"] == 1
    clock.now += 30  # retried at next_retry, still deferred
    assert backend.get_message(message_id)["retry_count"] == 2
    backend.set_delivery(mode="deliver")
    clock.now += 30
    with pytest.raises(NotFound):
        backend.get_message(message_id)
    assert backend.delivery_stats("hour")["total_deferred"] == 2


def test_failed_and_held_messages_stay_in_their_queue(backend: ElemtaBackend, clock: Clock) -> None:
    backend.set_delivery(mode="fail", error="550 5.1.1 no such user")
    failed = send(backend)
    clock.now += 5
    assert backend.get_message(failed)["queue_type"] == "failed"
    backend.set_delivery(mode="hold", error="quarantined")
    held = send(backend)
    clock.now += 5
    assert backend.get_message(held)["hold_reason"] == "quarantined"
    stats = backend.delivery_stats("week")
    assert stats["total_failed"] == 1 and stats["recent_errors"][0]["error"] == "550 5.1.1 no such user"
    bounces = backend.message_logs({"event_type": "bounce"})["logs"]
    assert [e["fields"]["message_id"] for e in bounces] == [failed]


def test_manual_mode_moves_nothing_until_forced(backend: ElemtaBackend, clock: Clock) -> None:
    backend.set_delivery(mode="manual")
    message_id = send(backend)
    clock.now += 1000
    assert backend.get_message(message_id)["queue_type"] == "active"
    assert backend.deliver_due(force=True) == 1
    with pytest.raises(NotFound):
        backend.get_message(message_id)


def test_send_test_rules(backend: ElemtaBackend) -> None:
    with pytest.raises(BadRequest, match="from and to are required"):
        backend.send_test({"from": "ops@example.org"})
    with pytest.raises(BadRequest, match="Invalid JSON"):
        send(backend, to=["probe@example.net"])  # the real server takes one address, not a list
    with pytest.raises(BadRequest, match="Invalid JSON"):
        backend.send_test(None)
    assert send(backend, to="not-an-address")  # like the real server, addresses are not validated
    with pytest.raises(BadRequest):
        backend.set_delivery(mode="bounce")


def test_queue_names_flush_and_delete(backend: ElemtaBackend) -> None:
    with pytest.raises(BadRequest, match="invalid queue type"):
        backend.list_queue("pending")  # the docs' name: a 400 on the real server
    assert backend.list_queue(None) is None  # every queue, empty: null, as on the real server
    first, second = send(backend), send(backend)
    backend.delete_message(first)
    with pytest.raises(NotFound):
        backend.delete_message(first)
    assert backend.flush("all")["count"] == 1
    assert backend.list_queue("active") == [] and second


def test_logs_filters_limits_and_system_lines(backend: ElemtaBackend, clock: Clock) -> None:
    for _ in range(3):
        send(backend)
    clock.now += 5
    logs = backend.message_logs({})
    assert [e["event_type"] for e in logs["logs"]] == ["reception"] * 3 + ["delivery"] * 3
    assert logs["limit"] == 50
    assert len(backend.message_logs({"limit": "2"})["logs"]) == 2
    assert backend.message_logs({"limit": "9999"})["limit"] == 500
    assert backend.message_logs({"event_type": "bounce"})["logs"] is None
    assert len(backend.message_logs({"level": "INFO"})["logs"]) == 6
    assert backend.system_logs({"tail": "2"})["count"] == 2


def test_state_persists_in_sqlite(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "state.db"
    first = ElemtaBackend(path, delay_seconds=5, clock=clock)
    message_id = send(first)
    first.set_delivery(mode="defer")
    first.close()
    again = ElemtaBackend(path, delay_seconds=5, clock=clock)
    assert again.get_message(message_id)["queue_type"] == "active"
    assert again.delivery["mode"] == "defer"
    assert again.message_logs({})["count"] == 1


# ----- HTTP ---------------------------------------------------------------------------------------
@pytest.fixture
def served() -> Any:
    with EmulatorServer(elemta_users=("admin:admin-pw", "operator:op-pw"), elemta_api_keys=("elemta_key123",),
                        elemta_delivery_delay=60) as server:
        yield server


def api(server: EmulatorServer, auth: Any = None, headers: dict[str, str] | None = None) -> httpx.Client:
    return httpx.Client(base_url=f"{server.url}/elemta/api", auth=auth, headers=headers, timeout=10)


def test_http_shapes_and_text_errors(served: EmulatorServer) -> None:
    client = api(served, auth=("operator", "op-pw"))
    assert client.get("/health").json()["status"] == "healthy"
    sent = client.post("/send-test", json={"from": "ops@example.org", "to": "probe@example.net"})
    assert sent.status_code == 200 and sent.json()["status"] == "success"
    message_id = sent.json()["message_id"]
    assert [m["id"] for m in client.get("/queue/active").json()] == [message_id]
    assert "content" in client.get(f"/queue/message/{message_id}").json()
    raw = client.get(f"/queue/message/{message_id}", params={"format": "raw"})
    assert raw.headers["content-type"].startswith("text/plain") and "Subject: Test Email" in raw.text
    stats = client.get("/queue/stats").json()
    assert stats["active_count"] == 1 and stats["total_size"] > 0
    missing = client.get("/queue/message/nope")
    assert missing.status_code == 404 and missing.text.strip() == "Message not found: nope"
    assert missing.headers["content-type"].startswith("text/plain")
    pending = client.get("/queue/pending")
    assert pending.status_code == 400 and pending.text.strip() == "Error: invalid queue type"
    assert client.post("/send-test", json={"from": "a@b.c", "to": ["x@y.z"]}).text.strip() == "Invalid JSON"
    assert client.get("/stats/delivery", params={"timeScale": "fortnight"}).json()["total_delivered"] == 0
    assert client.get("/logs", params={"tail": "1"}).json()["count"] == 1


def test_http_authentication_and_permissions(served: EmulatorServer) -> None:
    body = {"from": "ops@example.org", "to": "probe@example.net"}
    assert api(served).get("/queue/stats").status_code == 200  # reads are public
    refused = api(served).post("/send-test", json=body)
    assert refused.status_code == 401
    assert refused.json() == {"error": "Authentication required", "details": "invalid credentials", "status": 401}
    assert api(served, auth=("operator", "wrong")).post("/send-test", json=body).status_code == 401
    assert api(served, headers={"Authorization": "Bearer elemta_wrong"}).post("/send-test", json=body).json()[
        "details"] == "invalid API key"
    message_id = api(served, auth=("operator", "op-pw")).post("/send-test", json=body).json()["message_id"]
    forbidden = api(served, auth=("operator", "op-pw")).delete(f"/queue/message/{message_id}")
    assert forbidden.status_code == 403 and forbidden.json()["details"] == "Required permission: queue:delete"
    assert api(served, auth=("operator", "op-pw")).post("/queue/all/flush").json()["details"] == (
        "Required permission: queue:flush")
    assert api(served, auth=("admin", "admin-pw")).delete(f"/queue/message/{message_id}").status_code == 200
    with_key = api(served, headers={"Authorization": "Bearer elemta_key123"})
    assert with_key.post("/send-test", json=body).status_code == 200
    assert with_key.post("/queue/all/flush").json()["count"] == 1
    assert api(served, headers={"Authorization": "elemta_key123"}).post("/send-test", json=body).status_code == 200


def test_admin_controls_delivery_and_health(served: EmulatorServer) -> None:
    admin = httpx.Client(base_url=f"{served.url}/_emulator/elemta")
    client = api(served, auth=("operator", "op-pw"))
    message_id = client.post("/send-test", json={"from": "a@b.example", "to": "c@d.example"}).json()["message_id"]
    assert admin.post("/delivery", json={"mode": "fail", "error": "550 no"}).json()["mode"] == "fail"
    assert admin.post("/deliver").json() == {"moved": 1}
    assert client.get(f"/queue/message/{message_id}").json()["last_error"] == "550 no"
    assert admin.post("/delivery", json={"mode": "explode"}).status_code == 400
    admin.post("/health", json={"status": "degraded"})
    assert client.get("/health").json()["status"] == "degraded"
    httpx.post(f"{served.url}/_emulator/reset")
    assert client.get("/health").json()["status"] == "healthy" and client.get("/queue").json() is None
