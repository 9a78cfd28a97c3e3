"""Property-based: every emulator API endpoint, sent random bodies, ids and query strings (authenticated, so the
requests get past the door), answers below 500, every 4xx carries the service's documented error body, and a
refused request leaves the stored state exactly as it was."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulumi_mailinfra.emulator.app import create_app
from tests.payloads import relay_payload

GA_AUTH = ("admin", "props-pw")
CM_TOKEN = "props-token"
HEADERS = {"/ga/": {}, "/cleanmail/": {"Authorization": f"Bearer {CM_TOKEN}"}, "/elemta/": {}}
PARAM = re.compile(r"\{(\w+)(:path)?\}")
FIELDS = ["name", "id", "email", "password", "domains", "status", "quarantine", "retention", "archive", "type",
          "value", "port", "hostname", "ip", "relay_server", "route", "throttling_template", "throttling_rule",
          "default", "rules", "domainId", "policyId", "names", "aliases", "from", "to", "subject", "expiration",
          "permissions", "login", "selector", "private_key", "requested_target_daily_volume", "source_ip",
          "destination", "throttle_limits", "max_concurrent_connections", "max_messages_per_hour"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30) | st.sampled_from(["", "a@b.example", "example.com", "1", "-1", "ENABLED", "SMTP"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8),
                                                                inner, max_size=5),
    max_leaves=15)
raw_bodies = st.sampled_from([b"", b"{", b"not json", b"\xff\xfe", b"[1, 2", b"null", b'"text"'])
texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=16)


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[TestClient, Any, dict[str, list[str]]]]:
    app = create_app(ga_username=GA_AUTH[0], ga_password=GA_AUTH[1], cleanmail_tokens=(CM_TOKEN,),
                     elemta_delivery_delay=3600)
    with TestClient(app, raise_server_exceptions=True) as client:
        # Objects of each kind, so random requests also hit real ids and get past "not found".
        ga = "/ga/api/v3/eng"
        client.post(f"{ga}/relay_servers", json={"relay_server": relay_payload("seed-relay")}, auth=GA_AUTH)
        client.post(f"{ga}/routes", json={"route": {"name": "seed-route", "requested_target_daily_volume": 10}},
                    auth=GA_AUTH)
        client.post(f"{ga}/throttling_templates", auth=GA_AUTH, json={"throttling_template": {
            "name": "seed-template", "default": {"max_concurrent_connections": 1, "max_messages_per_hour": 0},
            "rules": [{"domains": ["example.com"], "max_concurrent_connections": 1, "max_messages_per_hour": 0}]}})
        cm = HEADERS["/cleanmail/"]
        domain = client.post("/cleanmail/domains", headers=cm, json={
            "name": "seed.example", "quarantine": True, "retention": False, "archive": False}).json()
        client.post("/cleanmail/users", headers=cm, json={"email": "u@seed.example", "domainId": domain.get("id"),
                                                          "status": "ENABLED"})
        ids: dict[str, list[str]] = {}
        for backend in (app.state.greenarrow, app.state.cleanmail, app.state.elemta):
            for kind, docs in backend.inventory().items():
                ids.setdefault(kind, []).extend(str(d["id"]) for d in docs if "id" in d)
        yield client, app, ids


def api_routes() -> list[tuple[str, str]]:
    app = create_app()
    found = []
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path.startswith(tuple(HEADERS)):
            found += [(method, route.path) for method in sorted(route.methods - {"HEAD", "OPTIONS"})]
    return sorted(set(found))


ROUTES = api_routes()


def inventory(app: Any) -> str:
    return json.dumps([b.inventory() for b in (app.state.greenarrow, app.state.cleanmail, app.state.elemta)],
                      sort_keys=True, default=str)


def documented_error(prefix: str, status: int, response: Any) -> bool:
    if prefix == "/ga/":
        body = response.json()
        return (body.get("success") is False and isinstance(body.get("error_code"), str)
                and isinstance(body.get("error_messages"), list)
                and all(isinstance(m, str) and m for m in body["error_messages"]))
    if prefix == "/cleanmail/":
        body = response.json()
        return body.get("status") == status and isinstance(body.get("error"), str) and isinstance(
            body.get("message"), str) and bool(body["message"])
    # Elemta: the real server's plain-text errors, or its JSON ones for authentication.
    if response.headers.get("content-type", "").startswith("text/plain"):
        return bool(response.text.strip())
    body = response.json()
    return isinstance(body.get("error"), str) and body.get("status") == status


@st.composite
def requests(draw: st.DrawFn, ids: dict[str, list[str]]) -> tuple[str, str, dict[str, str], Any, bool]:
    method, template = draw(st.sampled_from(ROUTES))
    known = [i for values in ids.values() for i in values]

    def fill(match: re.Match[str]) -> str:
        real = st.sampled_from(known)
        value = draw(st.one_of(real, real, real, texts)) if known else draw(texts)  # mostly ids that exist
        return quote(value, safe="/" if match.group(2) else "")

    path = PARAM.sub(fill, template)
    query = draw(st.dictionaries(st.sampled_from(["page", "page_token", "offset", "pageSize", "name", "email",
                                                  "domainId", "limit", "type", "format", "dl"]) | texts,
                                 texts | st.integers(-5, 10**6).map(str), max_size=3))
    raw = draw(st.booleans())
    body = draw(raw_bodies) if raw else draw(json_values)
    return method, path, query, body, raw


@given(data=st.data())
@settings(max_examples=2500, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_random_requests_get_documented_4xx_and_change_nothing(
    emulator: tuple[TestClient, Any, dict[str, list[str]]], data: st.DataObject
) -> None:
    client, app, ids = emulator
    method, path, query, body, raw = data.draw(requests(ids))
    prefix = next(p for p in HEADERS if path.startswith(p))
    before = inventory(app)
    send: dict[str, Any] = {"content": body} if raw else {"json": body}
    response = client.request(method, path, params=query, headers=HEADERS[prefix],
                              auth=GA_AUTH if prefix == "/ga/" else None, **send)
    status = response.status_code
    assert status < 500, (method, path, query, body, response.text)
    if status >= 400:
        assert documented_error(prefix, status, response), (method, path, status, response.text[:300])
        assert inventory(app) == before, f"a refused {method} {path} changed the stored state"


def test_every_service_has_its_routes_exercised() -> None:
    prefixes = {next(p for p in HEADERS if path.startswith(p)) for _, path in ROUTES}
    assert prefixes == set(HEADERS) and len(ROUTES) > 60, ROUTES
