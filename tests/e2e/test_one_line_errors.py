"""Every failure a user can meet reads as one clear diagnostic, with no Python traceback in the CLI's output, at
both ends of the supported SDK range (this file runs in both CI legs). Issue 25, item 1: the newest SDK's dynamic
provider server answered every provider exception with `traceback.format_exc()`, so an unreachable API printed a
97-line diagnostic; a duplicate declaration printed a traceback through resource.py at every SDK."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from pulumi import automation as auto

from pulumi_mailinfra import cleanmail, greenarrow
from tests.conftest import Emulator, StackFactory

pytestmark = pytest.mark.e2e


def relay(name: str = "edge") -> greenarrow.RelayServer:
    return greenarrow.RelayServer(name, name=name, source_ip={"ip": "192.0.2.1", "hostname": "a.example"},
                                  destination={"hostname": "b.example", "port": 25})


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def failure_text(run: Callable[[], object]) -> str:
    with pytest.raises(auto.CommandError) as failed:
        run()
    return str(failed.value)


def assert_one_line(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text and "site-packages" not in text, text


def test_an_unreachable_api(make_stack: StackFactory) -> None:
    stack = make_stack(lambda: relay(), config={"mailinfra:greenarrowUrl": f"http://127.0.0.1:{closed_port()}",
                                                "mailinfra:maxAttempts": "1"})
    text = failure_text(stack.up)
    assert "greenarrow" in text and "no response" in text, text
    assert_one_line(text)


def test_wrong_credentials(make_stack: StackFactory) -> None:
    stack = make_stack(lambda: relay(), config={"mailinfra:greenarrowUsername": "nobody"})
    text = failure_text(stack.up)
    assert "HTTP 401" in text, text
    assert_one_line(text)


def test_an_api_refusal_quotes_the_api(make_stack: StackFactory, emulator: Emulator) -> None:
    emulator.cleanmail().request("POST", "/domains", json={"name": "taken.example", "status": "ENABLED",
                                                           "quarantine": True, "retention": False, "archive": False,
                                                           "defaultLanguage": "EN"})

    def program() -> None:
        owner = cleanmail.Domain("owned", name="refused.example", default_language="EN", quarantine=True,
                                 retention=False, archive=False)
        cleanmail.DomainAlias("alias", domain_id=owner.id, name="taken.example")  # another domain's name

    text = failure_text(make_stack(program).up)
    assert "cleanmail POST" in text and "HTTP 409" in text and "taken.example" in text, text
    assert_one_line(text)


def test_a_duplicate_declaration(make_stack: StackFactory) -> None:
    def program() -> None:
        relay("edge")
        greenarrow.RelayServer("other", name="EDGE", source_ip={"ip": "192.0.2.1", "hostname": "a.example"},
                               destination={"hostname": "b.example", "port": 25})

    text = failure_text(make_stack(program).preview)
    assert "'edge' and" in text and "'other'" in text and "unique case-insensitively" in text, text
    assert_one_line(text)


def test_a_missing_service_url_is_refused_at_preview(make_stack: StackFactory, emulator: Emulator) -> None:
    """Issue 25, item 4: with `mailinfra:cleanmailUrl` removed, a change previewed `~ 1 to update` and the `up`
    failed. Refused at preview with 0 requests, naming the key."""
    def program(language: str) -> Callable[[], None]:
        return lambda: cleanmail.Domain("owned", name="urls.example", default_language=language, quarantine=True,
                                        retention=False, archive=False)

    stack = make_stack(program("EN"))
    stack.up()
    stack.remove_config("mailinfra:cleanmailUrl")
    stack.workspace.program = program("DE")
    emulator.reset_stats()
    text = failure_text(stack.preview)
    assert "no cleanmail URL: set `pulumi config set mailinfra:cleanmailUrl <url>`" in text, text
    assert emulator.requests() == 0
    assert_one_line(text)
    stack.set_config("mailinfra:cleanmailUrl", auto.ConfigValue(f"{emulator.url}/cleanmail"))  # for the clean-up


def test_a_tls_refusal(make_stack: StackFactory, emulator: Emulator) -> None:
    """HTTPS to a server that speaks plain HTTP: the handshake fails."""
    https = emulator.url.replace("http://", "https://")
    stack = make_stack(lambda: relay(), config={"mailinfra:greenarrowUrl": https, "mailinfra:maxAttempts": "1"})
    text = failure_text(stack.up)
    assert "greenarrow" in text and "no response" in text, text
    assert_one_line(text)


def test_a_timeout(make_stack: StackFactory, emulator: Emulator) -> None:
    emulator.fault(kind="latency", latency_ms=3000, path="relay_servers")
    stack = make_stack(lambda: relay(), config={"mailinfra:timeoutSeconds": "1", "mailinfra:maxAttempts": "1"})
    text = failure_text(stack.up)
    emulator.clear_faults()
    assert "greenarrow" in text and "relay_servers" in text, text
    assert_one_line(text)
