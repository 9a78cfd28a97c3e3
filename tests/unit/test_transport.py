"""The http.client transport: answers as httpx gives them, failures mapped as the retry rules expect, idle
connections reused only while the server keeps them open, and httpx's own transport wherever a proxy is set."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from pulumi_mailinfra.config import ServiceSettings
from pulumi_mailinfra.greenarrow.client import GreenArrowClient
from pulumi_mailinfra.transport import StdlibTransport

Script = Callable[[socket.socket, int], None]  # (accepted connection, its number from 1)


class RawServer:
    """A loopback TCP server answering each accepted connection with `script`; records what it received."""

    def __init__(self, script: Script) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = 0
        self.received: list[bytes] = []
        self._script = script
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._script, args=(conn, self.connections), daemon=True).start()

    def read_request(self, conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        while len(body) < length:
            body += conn.recv(65536)
        self.received.append(head + b"\r\n\r\n" + body)
        return data

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Script], RawServer]]:
    servers: list[RawServer] = []

    def start(script: Script) -> RawServer:
        servers.append(RawServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def ok(body: bytes = b'{"ok": true}', extra: bytes = b"") -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


def client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, transport=StdlibTransport(), timeout=5)


def test_answers_keep_alive_and_send_bodies_whole(serve: Callable[[Script], RawServer]) -> None:
    def script(conn: socket.socket, _n: int) -> None:
        with conn:
            while server.read_request(conn):
                conn.sendall(ok(extra=b"X-Total-Count: 3\r\nX-Total-Count: 4\r\n"))

    server = serve(script)
    with client(server.url) as http:
        first = http.post("/things", json={"name": "a"}, params={"page": 2})
        second = http.post("/upload", files={"file": ("a.txt", b"hello")})
    assert (first.status_code, first.json(), first.reason_phrase) == (200, {"ok": True}, "OK")
    assert first.headers.get_list("x-total-count") == ["3", "4"]
    assert second.json() == {"ok": True}
    assert server.connections == 1  # one keep-alive connection for both
    post, upload = server.received
    assert post.startswith(b"POST /things?page=2 HTTP/1.1\r\n")
    assert json.loads(post.partition(b"\r\n\r\n")[2]) == {"name": "a"}
    assert b"\r\nContent-Length: " in upload and b"hello" in upload and b"chunked" not in upload


def test_a_connection_the_server_closed_while_idle_is_not_reused(serve: Callable[[Script], RawServer]) -> None:
    closed = threading.Event()

    def script(conn: socket.socket, _n: int) -> None:
        with conn:
            server.read_request(conn)
            conn.sendall(ok())  # keep-alive announced, then closed anyway: the next request needs a new one
        closed.set()

    server = serve(script)
    with client(server.url) as http:
        assert http.post("/a", json={}).status_code == 200
        assert closed.wait(5)
        time.sleep(0.05)  # the FIN reaches the client's socket
        assert http.post("/b", json={}).status_code == 200
    assert server.connections == 2
    assert [r.split(b" ")[1] for r in server.received] == [b"/a", b"/b"]  # each sent once


def test_an_idle_connection_is_not_reused_after_the_keepalive_expiry(serve: Callable[[Script], RawServer]) -> None:
    def script(conn: socket.socket, _n: int) -> None:
        with conn:
            while server.read_request(conn):
                conn.sendall(ok())

    server = serve(script)
    with httpx.Client(base_url=server.url, transport=StdlibTransport(keepalive_expiry=0.1), timeout=5) as http:
        http.get("/a")
        http.get("/b")  # at once: the same connection
        time.sleep(0.2)
        http.get("/c")  # idle too long: a server might be closing it just now
    assert server.connections == 2


@pytest.mark.parametrize("answer", [
    b"",  # closed without answering
    ok()[:-5],  # body cut short
    b"garbage\r\n\r\n",  # not HTTP
])
def test_failures_after_sending_are_not_connect_errors(serve: Callable[[Script], RawServer], answer: bytes) -> None:
    def script(conn: socket.socket, _n: int) -> None:
        with conn:
            server.read_request(conn)
            conn.sendall(answer)

    server = serve(script)
    with client(server.url) as http, pytest.raises(httpx.RemoteProtocolError) as raised:
        http.post("/x", json={})
    assert not isinstance(raised.value, httpx.ConnectError)  # a POST here may have been applied


def test_read_timeout(serve: Callable[[Script], RawServer]) -> None:
    release = threading.Event()

    def script(conn: socket.socket, _n: int) -> None:
        with conn:
            server.read_request(conn)
            release.wait(5)

    server = serve(script)
    with httpx.Client(base_url=server.url, transport=StdlibTransport(), timeout=0.2) as http, \
            pytest.raises(httpx.ReadTimeout):
        http.get("/slow")
    release.set()


def test_connection_refused_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    with client(f"http://127.0.0.1:{port}") as http, pytest.raises(httpx.ConnectError):
        http.get("/")


def test_api_client_uses_httpx_own_transport_when_a_proxy_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = ServiceSettings(url="http://127.0.0.1:9", username="u", password="p")
    assert isinstance(GreenArrowClient(settings)._transport, StdlibTransport)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    proxied = GreenArrowClient(settings)
    assert proxied._transport is None  # requests then go through httpx.Client.send, which applies the proxy
