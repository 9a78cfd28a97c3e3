"""An httpx transport over the standard library's `http.client`: HTTP/1.1 with keep-alive, nothing else.

Why: at N = 500 the provider's own CPU went mostly to httpx's default stack (httpcore and h11 under it):
~0.45 ms of CPU per request against ~0.13 ms for `http.client` on the same connection. `ApiClient` uses this
transport when no proxy applies (a proxy keeps httpx's own transport, which knows how to use one).

What it keeps of httpx's behaviour, because the retry rules in `http.py` depend on it:
- a failure before the request could have reached the server is `ConnectError` / `ConnectTimeout` (safe to
  resend anything), with the `ssl` error in the exception chain when the certificate was refused;
- a failure after sending is `WriteError` / `ReadError` / `ReadTimeout` / `RemoteProtocolError` (a POST may
  have been applied);
- an idle connection is reused only when the server has not closed it, and only within `keepalive_expiry`
  seconds (httpx's 5 s) of its last answer, before a server's own idle timeout could close it as the request
  goes out: a lost connection then means "sent, outcome unknown", as with httpx.
"""

from __future__ import annotations

import http.client
import select
import socket
import ssl
import threading
import time

import httpx

_DEFAULT_PORTS = {"http": 80, "https": 443}
_Key = tuple[str, str, int]


class StdlibTransport(httpx.BaseTransport):
    """Keep-alive connections per (scheme, host, port), at most `max_idle` idle ones each; thread-safe (a
    connection serves one request at a time: the dynamic provider calls from 4 worker threads)."""

    def __init__(
        self, ssl_context: ssl.SSLContext | None = None, max_idle: int = 8, keepalive_expiry: float = 5.0
    ) -> None:
        self._ssl_context = ssl_context
        self._max_idle = max_idle
        self._keepalive_expiry = keepalive_expiry
        self._idle: dict[_Key, list[tuple[http.client.HTTPConnection, float]]] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}", request=request)
        key = (url.scheme, url.host, url.port or _DEFAULT_PORTS[url.scheme])
        timeouts = request.extensions.get("timeout", {})
        connection = self._take(key)
        try:
            if connection.sock is None:
                self._connect(connection, timeouts.get("connect"), request)
            sock = connection.sock
            assert sock is not None
            sock.settimeout(timeouts.get("write"))
            self._send(connection, request)
            sock.settimeout(timeouts.get("read"))
            try:
                answer = connection.getresponse()
                content = answer.read()
            except TimeoutError as exc:
                raise httpx.ReadTimeout(str(exc) or "timed out reading the response", request=request) from exc
            except http.client.HTTPException as exc:  # closed early, cut short, not HTTP
                raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__, request=request) from exc
            except OSError as exc:
                raise httpx.ReadError(str(exc), request=request) from exc
        except BaseException:
            connection.close()
            raise
        if answer.will_close:
            connection.close()
        else:
            self._give_back(key, connection)
        return httpx.Response(answer.status, headers=answer.getheaders(), content=content, request=request,
                              extensions={"http_version": b"HTTP/1.1", "reason_phrase": answer.reason.encode()})

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection, _ in connections:
                connection.close()

    # ----- connections -----------------------------------------------------------------------------
    def _take(self, key: _Key) -> http.client.HTTPConnection:
        """A recent idle connection the server has not closed (a readable idle socket has hit EOF or holds
        bytes nobody asked for: either way unusable), else a new unconnected one."""
        oldest = time.monotonic() - self._keepalive_expiry
        with self._lock:
            idle = self._idle.get(key)
            while idle:
                connection, since = idle.pop()
                if since >= oldest and connection.sock is not None and not _readable(connection.sock):
                    return connection
                connection.close()
        scheme, host, port = key
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, context=self._ssl_context or _default_context())
        return http.client.HTTPConnection(host, port)

    def _give_back(self, key: _Key, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self._max_idle:
                idle.append((connection, time.monotonic()))
                return
        connection.close()

    @staticmethod
    def _connect(connection: http.client.HTTPConnection, timeout: float | None, request: httpx.Request) -> None:
        connection.timeout = timeout
        try:
            connection.connect()
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "timed out connecting", request=request) from exc
        except (OSError, ssl.SSLError) as exc:  # refused, unreachable, no such host, TLS handshake refused
            raise httpx.ConnectError(str(exc) or type(exc).__name__, request=request) from exc

    @staticmethod
    def _send(connection: http.client.HTTPConnection, request: httpx.Request) -> None:
        body = request.read()
        headers = [(name, value) for name, value in request.headers.raw if name.lower() != b"transfer-encoding"]
        if body and not any(name.lower() == b"content-length" for name, _ in headers):
            headers.append((b"Content-Length", str(len(body)).encode()))  # a streamed body, now read whole
        try:
            # httpx's headers already carry Host and Accept-Encoding (the encodings it can decode).
            connection.putrequest(request.method, request.url.raw_path.decode("ascii"), skip_host=True,
                                  skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name.decode("latin-1"), value.decode("latin-1"))
            connection.endheaders(body or None)
        except TimeoutError as exc:
            raise httpx.WriteTimeout(str(exc) or "timed out sending the request", request=request) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise httpx.WriteError(str(exc) or type(exc).__name__, request=request) from exc


def _readable(sock: socket.socket) -> bool:
    """Whether reading would not block: on an idle keep-alive connection, that the server closed it."""
    if hasattr(select, "poll"):  # no FD_SETSIZE limit
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([sock], [], [], 0)[0])


_DEFAULT_CONTEXT: ssl.SSLContext | None = None
_DEFAULT_CONTEXT_LOCK = threading.Lock()


def _default_context() -> ssl.SSLContext:
    """httpx's own default verification (certifi's CA bundle), built once per process: it costs ~80 ms."""
    global _DEFAULT_CONTEXT
    with _DEFAULT_CONTEXT_LOCK:
        context = _DEFAULT_CONTEXT
        if context is None:
            context = _DEFAULT_CONTEXT = httpx.create_ssl_context()
        return context
