"""Retry, Retry-After, ambiguity and envelope handling of the GreenArrow client, on a scripted transport."""

from __future__ import annotations

import time

import httpx
import pytest

from pulumi_mailinfra import errors
from pulumi_mailinfra.config import ServiceSettings
from pulumi_mailinfra.greenarrow.client import GreenArrowClient

OK = {"success": True, "data": {"relay_server": {"id": 1, "name": "r"}}, "error_code": None, "error_messages": None}


def scripted(*responses: httpx.Response | Exception) -> tuple[GreenArrowClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    settings = ServiceSettings(url="http://ga.test", username="admin", password="hunter2-pw", max_attempts=4)
    client = GreenArrowClient(settings, transport=httpx.MockTransport(handler))
    client.backoff_initial = 0.01  # type: ignore[misc]
    return client, seen


def test_basic_auth_and_envelope_unwrapped() -> None:
    client, seen = scripted(httpx.Response(200, json=OK))
    assert client.get("/ga/api/v3/eng/relay_servers/1") == OK["data"]
    assert seen[0].headers["Authorization"].startswith("Basic ")


def test_envelope_less_route_shape_is_accepted() -> None:
    client, _ = scripted(httpx.Response(200, json={"route": {"id": 1, "name": "my-route"}}))
    assert client.get("/ga/api/v3/eng/routes/1") == {"route": {"id": 1, "name": "my-route"}}


def test_success_false_with_http_200_is_an_error_quoting_the_api() -> None:
    body = {"success": False, "data": None, "error_code": "validation_error",
            "error_messages": ["relay_server.name: must be unique"]}
    client, _ = scripted(httpx.Response(200, json=body))
    with pytest.raises(errors.ValidationError, match=r"relay_server\.name: must be unique"):
        client.request("POST", "/ga/api/v3/eng/relay_servers", json={})


@pytest.mark.parametrize(("status", "cls"), [(401, errors.AuthenticationError), (404, errors.NotFoundError),
                                              (409, errors.InUseError), (400, errors.ValidationError)])
def test_status_codes_map_to_typed_errors(status: int, cls: type[Exception]) -> None:
    client, _ = scripted(httpx.Response(status, json={"success": False, "error_code": None,
                                                      "error_messages": ["nope"]}))
    with pytest.raises(cls):
        client.get("/x")


def test_429_honours_retry_after_then_succeeds() -> None:
    client, seen = scripted(httpx.Response(429, headers={"Retry-After": "0.3"}), httpx.Response(200, json=OK))
    started = time.monotonic()
    assert client.request("POST", "/ga/api/v3/eng/relay_servers", json={}) == OK["data"]
    assert time.monotonic() - started >= 0.3
    assert len(seen) == 2


def test_get_retries_5xx_and_transport_errors() -> None:
    client, seen = scripted(httpx.Response(503), httpx.ReadError("reset"), httpx.Response(200, json=OK))
    assert client.get("/x") == OK["data"]
    assert len(seen) == 3


def test_post_is_not_blindly_retried_after_an_ambiguous_failure() -> None:
    for failure in (httpx.Response(502), httpx.RemoteProtocolError("dropped")):
        client, seen = scripted(failure, httpx.Response(200, json=OK))
        with pytest.raises(errors.AmbiguousWriteError):
            client.request("POST", "/ga/api/v3/eng/relay_servers", json={})
        assert len(seen) == 1


def test_post_retried_when_the_connection_was_never_made() -> None:
    client, seen = scripted(httpx.ConnectError("refused"), httpx.Response(200, json=OK))
    assert client.request("POST", "/x", json={}) == OK["data"]
    assert len(seen) == 2


def test_gives_up_after_max_attempts_with_the_last_api_error() -> None:
    client, seen = scripted(*[httpx.Response(500, json={"success": False, "error_code": "boom",
                                                        "error_messages": ["database locked"]})] * 4)
    with pytest.raises(errors.ServerError, match="database locked"):
        client.get("/x")
    assert len(seen) == 4


def test_error_messages_never_carry_the_api_password() -> None:
    client, _ = scripted(httpx.Response(401, json={"success": False, "error_code": "unauthorized",
                                                   "error_messages": ["bad login admin:hunter2-pw"]}))
    with pytest.raises(errors.AuthenticationError) as caught:
        client.get("/x")
    assert "hunter2-pw" not in str(caught.value)


def test_pagination_follows_page_tokens() -> None:
    def page(items: list[int], token: str | None) -> httpx.Response:
        return httpx.Response(200, json={"success": True, "data": {
            "relay_servers": [{"id": i, "name": f"r{i}"} for i in items],
            "pagination": {"page": 0, "per_page": 2, "num_pages": 2, "num_records": 3, "next_page_token": token}}})

    client, seen = scripted(page([1, 2], "tok-2"), page([3], None))
    names = [r["name"] for r in client.list_all("/relay_servers", "relay_servers")]
    assert names == ["r1", "r2", "r3"]
    assert seen[1].url.params["page_token"] == "tok-2"

