"""GreenArrow emulator over HTTP: envelopes, auth, status codes, faults, stats, server and CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pulumi_mailinfra.emulator import EmulatorServer

API = "/ga/api/v3/eng"
AUTH = ("admin", "admin")
RELAY: dict[str, Any] = {
    "name": "new-relay-server",
    "source_ip": {"ip": "127.0.0.2", "hostname": "outgoing-hostname.com"},
    "destination": {
        "hostname": "destination-hostname.com",
        "port": 25,
        "username": "myusername",
        "password": "mysecret",
    },
    "throttle_limits": {"max_concurrent_connections": 2, "max_messages_per_hour": 120},
    "redirect": {"name": "ipaddr-1"},
}


def ok(data: Any) -> dict[str, Any]:
    return {"success": True, "data": data, "error_code": None, "error_messages": None}


def error(code: str, *messages: str) -> dict[str, Any]:
    return {"success": False, "data": None, "error_code": code, "error_messages": list(messages)}


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as running:
        yield running


@pytest.fixture
def client(server: EmulatorServer) -> Iterator[httpx.Client]:
    """A client of the shared live server, with state, faults and stats cleared."""
    with httpx.Client(base_url=server.url, auth=AUTH, timeout=10) as http:
        http.post("/_emulator/reset").raise_for_status()
        http.delete("/_emulator/faults").raise_for_status()
        http.post("/_emulator/stats/reset").raise_for_status()
        yield http


def test_relay_server_doc_example_round_trip(client: httpx.Client) -> None:
    ip = client.post(
        f"{API}/ip_addresses",
        json={"ip_address": {"name": "ipaddr-1", "ip": "10.0.0.1", "hostname": "mx.example.com"}},
    )
    assert ip.status_code == 200
    ip_id = ip.json()["data"]["ip_address"]["id"]
    created = client.post(f"{API}/relay_servers", json={"relay_server": RELAY})
    assert created.status_code == 200
    record = {**RELAY, "id": 2, "redirect": {"type": "ip_address", "id": ip_id, "name": "ipaddr-1"}}
    assert created.json() == ok({"relay_server": {"id": 2, **{k: v for k, v in record.items() if k != "id"}}})
    assert list(created.json()["data"]["relay_server"]) == [
        "id",
        "name",
        "source_ip",
        "destination",
        "throttle_limits",
        "redirect",
    ]
    assert client.get(f"{API}/relay_servers/2").json() == created.json()
    assert client.get(f"{API}/relay_servers").json() == ok(
        {
            "relay_servers": [{"id": 2, "name": "new-relay-server"}],
            "pagination": {
                "page": 0,
                "per_page": 100,
                "num_pages": 1,
                "num_records": 1,
                "next_page_token": None,
            },
        }
    )
    updated = client.put(
        f"{API}/relay_servers/2", json={"relay_server": {"redirect": None, "name": "renamed"}}
    )
    assert updated.json()["data"]["relay_server"]["redirect"] is None
    assert updated.json()["data"]["relay_server"]["destination"]["password"] == "mysecret"
    assert client.delete(f"{API}/relay_servers/2").json() == ok({})
    assert client.get(f"{API}/relay_servers/2").status_code == 404


def test_validation_error_envelope(client: httpx.Client) -> None:
    bad = {**RELAY, "redirect": None, "destination": {**RELAY["destination"], "port": 65536}}
    response = client.post(f"{API}/relay_servers", json={"relay_server": bad})
    assert response.status_code == 400
    assert response.json() == error(
        "validation_error", "relay_server.destination.port: must be an integer from 1 to 65535"
    )
    assert client.get(f"{API}/relay_servers").json()["data"]["relay_servers"] == []


@pytest.mark.parametrize(
    ("content", "messages"),
    [
        (b"not json", ["body: must be a JSON object"]),
        (b"", ["body: must be a JSON object"]),
        (b"[1, 2]", ["body: must be a JSON object"]),
        (b'{"name": "x"}', ["name: is not a recognized field", "relay_server: is required"]),
        (b'{"relay_server": "x"}', ["relay_server: must be a hash"]),
    ],
)
def test_bad_bodies(client: httpx.Client, content: bytes, messages: list[str]) -> None:
    response = client.post(
        f"{API}/relay_servers", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == error("validation_error", *messages)


@pytest.mark.parametrize(
    "path",
    ["/relay_servers/999", "/relay_servers/abc", "/routes/1", "/throttling_templates/x/used_by", "/nope"],
)
def test_not_found(client: httpx.Client, path: str) -> None:
    response = client.get(API + path)
    assert response.status_code == 404
    body = response.json()
    assert body["success"] is False and body["data"] is None and body["error_code"] == "not_found"
    assert len(body["error_messages"]) == 1


@pytest.mark.parametrize("auth", [None, ("admin", "wrong"), ("root", "admin")])
def test_unauthorized(client: httpx.Client, auth: tuple[str, str] | None) -> None:
    client.auth = auth  # type: ignore[assignment]
    response = client.get(f"{API}/relay_servers")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert response.json()["error_code"] == "unauthorized" and response.json()["success"] is False
    assert client.get(f"{API}/nope").status_code == 401  # auth is checked before routing to a handler


def test_custom_credentials_and_garbage_header() -> None:
    with EmulatorServer(ga_username="u", ga_password="p:w") as running:
        url = f"{running.url}{API}/relay_servers"
        assert httpx.get(url, auth=("u", "p:w")).status_code == 200
        assert httpx.get(url, auth=AUTH).status_code == 401
        assert httpx.get(url, headers={"authorization": "Basic !!!"}).status_code == 401


def test_in_use_is_409(client: httpx.Client) -> None:
    target = client.post(
        f"{API}/relay_servers", json={"relay_server": {**RELAY, "name": "relay-a", "redirect": None}}
    )
    a = target.json()["data"]["relay_server"]["id"]
    b = client.post(
        f"{API}/relay_servers", json={"relay_server": {**RELAY, "name": "relay-b", "redirect": {"id": a}}}
    )
    b_id = b.json()["data"]["relay_server"]["id"]
    response = client.delete(f"{API}/relay_servers/{a}")
    assert response.status_code == 409
    assert response.json() == error(
        "in_use", f"Relay Server 'relay-a' is in use by: relay_server 'relay-b' (id {b_id})"
    )
    used_by = client.get(f"{API}/virtual_mtas/{a}/used_by").json()["data"]
    assert used_by["used_by"] == [{"type": "relay_server", "id": b_id, "name": "relay-b"}]
    vmtas = client.get(f"{API}/virtual_mtas").json()["data"]["virtual_mtas"]
    assert [v["type"] for v in vmtas] == ["relay_server", "relay_server"]


def test_pagination_over_http(client: httpx.Client) -> None:
    for i in range(150):
        payload = {"ip_address": {"name": f"ip-{i}", "ip": "10.0.0.1", "hostname": "mx.example.com"}}
        assert client.post(f"{API}/ip_addresses", json=payload).status_code == 200
    first = client.get(f"{API}/ip_addresses").json()["data"]
    token = first["pagination"]["next_page_token"]
    assert len(first["ip_addresses"]) == 100 and first["pagination"]["num_pages"] == 2
    second = client.get(f"{API}/ip_addresses", params={"page_token": token}).json()["data"]
    assert (
        second["ip_addresses"]
        == client.get(f"{API}/ip_addresses", params={"page": 1}).json()["data"]["ip_addresses"]
    )
    assert [r["name"] for r in second["ip_addresses"]] == [f"ip-{i}" for i in range(100, 150)]
    assert second["pagination"] == {
        "page": 1,
        "per_page": 100,
        "num_pages": 2,
        "num_records": 150,
        "next_page_token": None,
    }
    bad = client.get(f"{API}/ip_addresses", params={"page_token": "bogus"})
    assert bad.status_code == 400 and bad.json()["error_code"] == "validation_error"
    assert client.get(f"{API}/ip_addresses", params={"page": "-3"}).status_code == 400


def test_throttling_templates_over_http(client: httpx.Client) -> None:
    payload = {
        "name": "Example Throttling Template",
        "rules": [
            {
                "domains": ["example-2.com", "example-1.com"],
                "max_concurrent_connections": 2,
                "max_messages_per_hour": 0,
                "throttle_program": {"id": 1, "name": "this name doesn't exist"},
            }
        ],
        "default": {"max_concurrent_connections": 1, "max_messages_per_hour": 60},
    }
    created = client.post(f"{API}/throttling_templates", json={"throttling_template": payload}).json()
    assert created["success"] is True
    tid = created["data"]["throttling_template"]["id"]
    assert created["data"]["throttling_template"]["rules"][0]["throttle_program"] == {
        "id": 1,
        "name": "Automatic Backoff",
    }
    new_rule = {"domains": ["new-domain-1.com"], "max_concurrent_connections": 7, "max_messages_per_hour": 9}
    rule = client.post(
        f"{API}/throttling_templates/{tid}/throttling_rules", json={"throttling_rule": new_rule}
    )
    assert rule.json() == ok({"throttling_rule": {"id": 2, **new_rule, "throttle_program": None}})
    changed = client.put(
        f"{API}/throttling_templates/{tid}/throttling_rules/2",
        json={"throttling_rule": {"max_messages_per_hour": 1}},
    )
    assert changed.json()["data"]["throttling_rule"]["max_messages_per_hour"] == 1
    appended = client.put(
        f"{API}/throttling_templates/{tid}",
        json={
            "throttling_template": {"name": "my new name", "rules_new": [{**new_rule, "domains": ["n.com"]}]}
        },
    ).json()["data"]["throttling_template"]
    assert [r["id"] for r in appended["rules"]] == [1, 2, 3]
    refused = client.put(f"{API}/throttling_templates/{tid}", json={"throttling_template": {"rules": []}})
    assert refused.status_code == 400
    duplicate = client.post(
        f"{API}/throttling_templates/{tid}/throttling_rules",
        json={"throttling_rule": {**new_rule, "domains": ["EXAMPLE-1.com"]}},
    )
    assert duplicate.status_code == 400 and "may appear only once" in duplicate.json()["error_messages"][0]
    ip = {
        "name": "ipaddr-1",
        "ip": "10.0.0.1",
        "hostname": "mx.example.com",
        "throttling_template": {"id": tid},
    }
    assert client.post(f"{API}/ip_addresses", json={"ip_address": ip}).status_code == 200
    used_by = client.get(f"{API}/throttling_templates/{tid}/used_by").json()["data"]
    assert used_by["used_by"] == [{"type": "ip_address", "id": 1, "name": "ipaddr-1"}]
    blocked = client.delete(f"{API}/throttling_templates/{tid}")
    assert (
        blocked.status_code == 409 and "ip_address 'ipaddr-1' (id 1)" in blocked.json()["error_messages"][0]
    )
    assert client.delete(f"{API}/throttling_templates/{tid}/throttling_rules/2").json() == ok({})
    programs = client.get(f"{API}/throttle_programs").json()["data"]["throttle_programs"]
    assert programs == [{"id": 1, "name": "Automatic Backoff"}]


def test_routes_have_no_envelope(client: httpx.Client) -> None:
    created = client.post(
        f"{API}/routes", json={"route": {"name": "new-route", "requested_target_daily_volume": 50000}}
    )
    route = {
        "id": 1,
        "name": "new-route",
        "requested_target_daily_volume": 50000,
        "recommended_max_daily_volume": 25000,
        "recommended_max_delivery_rate_per_hour": 10000,
        "overflow_route": None,
        "routing_rule": {"id": 1, "name": "new-route R1"},
    }
    assert created.status_code == 200 and created.json() == {"route": route}
    assert client.get(f"{API}/routes/1").json() == {"route": route}
    listed = client.get(f"{API}/routes", params={"name": "NEW"}).json()
    assert listed == {
        "routes": [route],
        "pagination": {"page": 0, "per_page": 100, "num_pages": 1, "num_records": 1, "next_page_token": None},
    }
    assert client.get(f"{API}/routes", params={"name": "zzz"}).json()["routes"] == []
    renamed = client.put(
        f"{API}/routes/1", json={"route": {"name": "renamed-route", "requested_target_daily_volume": 75000}}
    )
    assert renamed.json() == {
        "route": {
            **route,
            "name": "renamed-route",
            "requested_target_daily_volume": 75000,
            "routing_rule": {"id": 1, "name": "renamed-route R1"},
        }
    }
    overflow = client.post(
        f"{API}/routes",
        json={"route": {"name": "spill", "requested_target_daily_volume": 1, "overflow_route": {"id": 1}}},
    )
    assert overflow.json()["route"]["overflow_route"] == {"id": 1, "name": "renamed-route"}
    refused = client.delete(f"{API}/routes/1")
    assert refused.status_code == 409
    assert refused.json() == error("in_use", "Route 'renamed-route' is in use by: route 'spill' (id 2)")
    invalid = client.post(
        f"{API}/routes", json={"route": {"name": "123", "requested_target_daily_volume": 1}}
    )
    assert invalid.status_code == 400
    assert invalid.json() == error("validation_error", "route.name: must not be an integer")
    assert client.delete(f"{API}/routes/2").json() == {"success": True}
    assert client.delete(f"{API}/routes/1").json() == {"success": True}
    assert client.get(f"{API}/virtual_mtas").json()["data"]["virtual_mtas"] == []


def test_state_file_survives_a_new_app(tmp_path: Path) -> None:
    path = str(tmp_path / "ga.sqlite")
    with EmulatorServer(state_path=path) as first:
        body = {"relay_server": {**RELAY, "redirect": None}}
        response = httpx.post(f"{first.url}{API}/relay_servers", json=body, auth=AUTH)
        assert response.status_code == 200
    with EmulatorServer(state_path=path) as second:
        got = httpx.get(f"{second.url}{API}/relay_servers/1", auth=AUTH).json()
    assert got == response.json()


def test_app_exposes_backend_and_admin_reset(client: httpx.Client, server: EmulatorServer) -> None:
    client.post(f"{API}/relay_servers", json={"relay_server": {**RELAY, "redirect": None}})
    backend = server.app.state.greenarrow
    assert backend is server.greenarrow
    assert backend.list_relay_servers()["pagination"]["num_records"] == 1
    client.auth = None  # type: ignore[assignment]
    assert client.post("/_emulator/reset").json() == {"reset": ["cleanmail", "elemta", "greenarrow"]}
    assert backend.list_relay_servers()["pagination"]["num_records"] == 0


# ---- faults, stats ---------------------------------------------------------------------------


def test_server_url_and_port(server: EmulatorServer) -> None:
    assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
    assert server.running


def test_server_restarts_on_the_same_port_with_its_state(tmp_path: Path) -> None:
    emulator = EmulatorServer(state_path=str(tmp_path / "s.sqlite"))
    with emulator:
        url = emulator.url
        body = {"route": {"name": "r", "requested_target_daily_volume": 1}}
        assert httpx.post(f"{url}{API}/routes", json=body, auth=AUTH).status_code == 200
    assert not emulator.running
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}{API}/routes", auth=AUTH)
    with emulator:
        assert emulator.url == url
        assert httpx.get(f"{url}{API}/routes", auth=AUTH).json()["pagination"]["num_records"] == 1


def test_fault_429_with_retry_after(client: httpx.Client) -> None:
    rule = {"kind": "status", "status": 429, "times": 1, "path": "/relay_servers$", "retry_after": 1}
    added = client.post("/_emulator/faults", json=rule).json()["fault"]
    assert added["kind"] == "status" and added["times"] == 1 and isinstance(added["id"], int)
    assert client.get("/_emulator/faults").json()["faults"] == [added]
    response = client.post(f"{API}/relay_servers", json={"relay_server": {**RELAY, "redirect": None}})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert response.json() == error("too_many_requests", "injected fault: HTTP 429")
    assert client.get(f"{API}/relay_servers").json()["data"]["relay_servers"] == []  # state untouched
    assert client.get("/_emulator/faults").json()["faults"] == []  # used up
    retried = client.post(f"{API}/relay_servers", json={"relay_server": {**RELAY, "redirect": None}})
    assert retried.status_code == 200


def test_fault_503_times_and_method_filter(client: httpx.Client) -> None:
    client.post("/_emulator/faults", json={"kind": "status", "status": 503, "times": 2, "method": "post"})
    assert client.get(f"{API}/routes").status_code == 200  # GET not affected
    payload = {"route": {"name": "r", "requested_target_daily_volume": 1}}
    statuses = [client.post(f"{API}/routes", json=payload).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert client.get(f"{API}/routes").json()["pagination"]["num_records"] == 1


def test_fault_latency(client: httpx.Client) -> None:
    start = time.monotonic()
    client.get(f"{API}/routes")
    baseline = time.monotonic() - start
    client.post("/_emulator/faults", json={"kind": "latency", "latency_ms": 300, "times": 1})
    start = time.monotonic()
    assert client.get(f"{API}/routes").status_code == 200
    assert time.monotonic() - start >= 0.3
    start = time.monotonic()
    client.get(f"{API}/routes")
    assert time.monotonic() - start < 0.3 + baseline


def test_fault_drop_after_write(client: httpx.Client) -> None:
    client.post(
        "/_emulator/faults", json={"kind": "drop_after_write", "times": 1, "path": "^/ga/api/v3/eng/routes$"}
    )
    with pytest.raises(httpx.TransportError):
        client.post(f"{API}/routes", json={"route": {"name": "dropped", "requested_target_daily_volume": 1}})
    routes = client.get(f"{API}/routes").json()["routes"]
    assert [r["name"] for r in routes] == ["dropped"]  # the write happened
    again = client.post(
        f"{API}/routes", json={"route": {"name": "dropped", "requested_target_daily_volume": 1}}
    )
    assert again.status_code == 400  # a retry now hits the uniqueness rule


def test_fault_rules_validated_and_cleared(client: httpx.Client) -> None:
    for bad in (
        {"kind": "explode"},
        {"kind": "status"},
        {"kind": "status", "status": 200, "times": 0},
        {"kind": "latency"},
        {"kind": "status", "status": 500, "path": "("},
        {"status": 500},
    ):
        assert client.post("/_emulator/faults", json=bad).status_code == 400, bad
    client.post("/_emulator/faults", json={"kind": "latency", "latency_ms": 1})
    rule = client.post("/_emulator/faults", json={"kind": "status", "status": 500}).json()["fault"]
    assert client.delete(f"/_emulator/faults/{rule['id']}").json() == {"deleted": rule["id"]}
    assert client.delete("/_emulator/faults").json() == {"cleared": 1}
    assert client.get("/_emulator/faults").json() == {"faults": []}


def test_stats_counter(client: httpx.Client) -> None:
    # Lets the first matching GET through, then answers the next two with 503.
    client.post("/_emulator/faults", json={"kind": "status", "status": 503, "method": "GET", "skip": 1, "times": 2})
    assert client.get(f"{API}/relay_servers").status_code == 200
    assert client.get(f"{API}/relay_servers/5").status_code == 503
    assert client.get(f"{API}/relay_servers/6").status_code == 503
    client.post(f"{API}/routes", json={"route": {"name": "r", "requested_target_daily_volume": 1}})
    client.get("/_emulator/faults")  # admin calls are not counted
    stats = client.get("/_emulator/stats").json()
    assert 0 < stats.pop("busy_seconds") < 5  # the time spent answering them
    assert stats == {
        "requests": 4,
        "by_method": {"GET": 3, "POST": 1},
        "by_route": {
            "GET /ga/api/v3/eng/relay_servers": 1,
            "GET /ga/api/v3/eng/relay_servers/{id}": 2,
            "POST /ga/api/v3/eng/routes": 1,
        },
        "faults_injected": {"status 503": 2},
    }
    assert client.post("/_emulator/stats/reset").json() == {"requests": 0, "by_method": {}, "by_route": {},
                                                            "busy_seconds": 0.0, "faults_injected": {}}


def test_global_latency_and_initial_faults() -> None:
    initial = [{"kind": "status", "status": 503, "times": 1}]
    with EmulatorServer(latency_ms=200, faults=initial) as running:
        start = time.monotonic()
        first = httpx.get(f"{running.url}{API}/routes", auth=AUTH)
        second = httpx.get(f"{running.url}{API}/routes", auth=AUTH)
        assert time.monotonic() - start >= 0.4
    assert (first.status_code, second.status_code) == (503, 200)


# ---- CLI -------------------------------------------------------------------------------------------


def _serve(state: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable,
        "-m",
        "pulumi_mailinfra.emulator",
        "--port",
        "0",
        "--state",
        str(state),
        *extra,
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2]), *sys.path])}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line.startswith("mailinfra-emulator listening on http://127.0.0.1:"), line
    return process, line.rsplit(" ", 1)[1]


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        assert process.wait(timeout=15) == 0
    finally:
        if process.stdout is not None:
            process.stdout.close()


def test_cli_serves_and_state_survives_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    fault = json.dumps({"kind": "status", "status": 503, "times": 1, "method": "GET"})
    process, url = _serve(state, "--ga-username", "ops", "--ga-password", "s3cret", "--fault", fault)
    try:
        assert httpx.get(f"{url}{API}/routes", auth=("ops", "s3cret")).status_code == 503
        created = httpx.post(
            f"{url}{API}/routes",
            json={"route": {"name": "kept", "requested_target_daily_volume": 1}},
            auth=("ops", "s3cret"),
        )
        assert created.status_code == 200
    finally:
        _stop(process)
    process, url = _serve(state)
    try:
        assert httpx.get(f"{url}{API}/routes/1", auth=AUTH).json() == created.json()
    finally:
        _stop(process)


def test_cli_rejects_bad_fault(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pulumi_mailinfra.emulator", "--fault", '{"kind": "nope"}']
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2]), *sys.path])}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 2 and "invalid fault rule" in result.stderr
