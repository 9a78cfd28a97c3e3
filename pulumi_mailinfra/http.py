"""The shared HTTP client machinery: retries (tenacity, honouring Retry-After), timeouts, typed errors,
pagination, and a per-process client cache so providers reuse connections without pickling a client."""

from __future__ import annotations

import itertools
import re
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
import tenacity

from . import errors
from .config import ServiceSettings
from .diagnostics import log_request, remember_exchange
from .transport import StdlibTransport

# Transport failures where the request certainly never reached the server: safe to resend anything.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_TRANSPORT = (httpx.TransportError,)
# PATCH bodies here set fields to values (Cleanmail's "apply changes only on specified fields"): repeating
# one is harmless, so it is retried like PUT.
_IDEMPOTENT = frozenset({"GET", "PUT", "PATCH", "DELETE", "HEAD"})
MAX_RETRY_AFTER_SECONDS = 60.0


@dataclass(frozen=True)
class ApiResponse:
    """A successful answer: the payload as the service's `_unwrap` gives it, the status and headers."""

    data: Any
    status: int
    headers: httpx.Headers


class _Retryable(Exception):
    """Internal: a failed attempt worth another try, with the error to raise if none remain."""

    def __init__(self, error: Exception, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, min(float(value), MAX_RETRY_AFTER_SECONDS))
    except ValueError:
        return None  # an HTTP date: fall back to backoff rather than parse clocks


class _WaitRetryAfterOrBackoff(tenacity.wait.wait_base):
    """Wait what the server asked for (Retry-After), else exponential backoff with jitter."""

    def __init__(self, initial: float, maximum: float) -> None:
        # Built from pieces tenacity has had for years (wait_exponential_jitter's signature changed).
        self._backoff = tenacity.wait_exponential(multiplier=initial, max=maximum) + tenacity.wait_random(0, initial)

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, _Retryable) and error.retry_after is not None:
            return error.retry_after
        return self._backoff(retry_state)


def tls_verification(settings: ServiceSettings) -> ssl.SSLContext | bool:
    """Certificates are always verified over https: against `mailinfra:caBundle` when set (exactly those CAs,
    like curl's --cacert), else the default trust store. Plain http (loopback, or allowed explicitly) loads
    nothing: a CA bundle costs ~80 ms of CPU per client."""
    if not settings.url.lower().startswith("https:"):
        return False
    if settings.ca_bundle is None:
        return True
    try:
        return ssl.create_default_context(cafile=settings.ca_bundle)
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise errors.ConfigurationError(
            f"mailinfra:caBundle {settings.ca_bundle!r}: not a PEM file of CA certificates ({exc})") from None


def _certificate_rejected(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure behind a connection error, if that is what it was."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _proxy_configured() -> bool:
    """Whether the environment names a proxy (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY...), which httpx honours."""
    return any(scheme in ("http", "https", "all") for scheme in urllib.request.getproxies())


def describe_body(response: httpx.Response) -> str:
    """A short, readable description of a body that is not the JSON expected: an HTML page by its title."""
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    text = response.text
    title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    shown = title.group(1).strip() if title else " ".join(text.split())
    return f"{kind}, {len(response.content)} bytes: {shown[:120]!r}"


class ApiClient:
    """One httpx client per service and settings; subclasses define auth and the response shape."""

    service: ClassVar[str] = "api"
    api_prefix: ClassVar[str] = ""  # prepended to the relative paths resources use
    backoff_initial: ClassVar[float] = 0.2
    backoff_max: ClassVar[float] = 5.0

    def __init__(self, settings: ServiceSettings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        verify = tls_verification(settings)
        if transport is None and not _proxy_configured():
            transport = StdlibTransport(verify if isinstance(verify, ssl.SSLContext) else None)
        # Requests go straight to the transport (see `_send`), except through a proxy, which httpx's own
        # transport handles: the client then sends them itself.
        self._transport = transport
        self._http = httpx.Client(
            base_url=settings.url,
            auth=self._auth(),
            timeout=httpx.Timeout(settings.timeout, connect=min(5.0, settings.timeout)),
            headers={"Accept": "application/json", "User-Agent": "pulumi-mailinfra"},
            transport=transport,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
            verify=verify,
        )

    # ----- subclass hooks -------------------------------------------------------------------------
    def _auth(self) -> httpx.Auth | None:
        return None

    def _unwrap(self, response: httpx.Response, method: str, path: str) -> Any:
        """Return the response's payload or raise the typed error it describes."""
        body = _json_or_none(response)
        if response.is_success:
            return body
        raise self._error(response.status_code, None, [response.text[:500]], method, path)

    def _undocumented(self, response: httpx.Response, method: str, path: str) -> str | None:
        """What makes a successful JSON answer one the API never gives, if anything (a service's documented
        shapes); None when it is plausible."""
        return None

    # ----- errors ---------------------------------------------------------------------------------
    def _error(
        self, status: int | None, code: str | None, messages: list[str], method: str, path: str
    ) -> errors.ApiError:
        secrets = (self.settings.password, self.settings.token)
        messages = [errors.redact(m, secrets) for m in messages]
        code_l = (code or "").lower()
        cls: type[errors.ApiError]
        if status == 401 or code_l in {"unauthorized", "authentication_failed"}:
            cls = errors.AuthenticationError
        elif status == 403 or code_l in {"forbidden", "permission_denied"}:
            cls = errors.PermissionDeniedError
        elif status == 404 or code_l == "not_found":
            cls = errors.NotFoundError
        elif status == 409 or code_l in {"in_use", "conflict"}:
            cls = errors.InUseError
        elif status == 429:
            cls = errors.RateLimitedError
        elif status is not None and status >= 500:
            cls = errors.ServerError
        else:
            cls = errors.ValidationError
        return cls(self.service, method, path, status, code, messages)

    # ----- requests -------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Send with retries and return the payload. Idempotent methods retry on 429, 5xx and transport
        errors; a POST retries only when the server surely did not apply it (429, connection refused) and
        otherwise raises AmbiguousWriteError so the caller can look the object up instead of creating a
        duplicate. `idempotent=False` gives a PUT the same care (e.g. one that appends rules)."""
        return self.exchange(method, path, json=json, params=params, idempotent=idempotent, headers=headers).data

    def exchange(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
        headers: Mapping[str, str] | None = None,
        files: Mapping[str, Any] | None = None,
        raw: bool = False,
    ) -> ApiResponse:
        """`request`, keeping the status and headers (Location of a 201, X-Total-Count of a page). `files`: a
        multipart body; `raw`: a successful answer's bytes as they came (a file download), not parsed."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in _IDEMPOTENT

        attempts = itertools.count(1)

        def attempt() -> ApiResponse:
            number, started = next(attempts), time.monotonic()
            try:
                response = self._send(method, path, json=json, params=params, headers=headers, files=files)
            except _NOT_SENT as exc:
                log_request(self.service, method, path, type(exc).__name__, time.monotonic() - started, number)
                rejected = _certificate_rejected(exc)
                if rejected is not None:  # not transient: retrying would only delay the same answer
                    raise errors.ApiError(self.service, method, path, None, "tls_verification_failed", [
                        f"the server's certificate was not accepted ({rejected.verify_message or rejected}); "
                        "if the service uses a private CA, set mailinfra:caBundle to its PEM file"]) from None
                raise _Retryable(exc) from exc
            except _TRANSPORT as exc:
                log_request(self.service, method, path, type(exc).__name__, time.monotonic() - started, number)
                if idempotent:
                    raise _Retryable(exc) from exc
                raise errors.AmbiguousWriteError(
                    f"{self.service} {method} {path}: connection lost after sending ({type(exc).__name__})"
                ) from exc
            status = response.status_code
            remember_exchange(f"{self.service} {method} {path} (HTTP {status})")
            log_request(self.service, method, path, status, time.monotonic() - started, number)
            if response.is_success and not raw:
                undocumented = "not JSON" if not _is_json(response) else self._undocumented(response, method, path)
                if undocumented:
                    # Not an answer the API gives (a proxy's page, a body cut short, another shape): a read may
                    # be retried, a write may have been applied, so the caller looks the object up rather than
                    # repeat it.
                    error = errors.UnexpectedResponseError(
                        self.service, method, path, status, "unexpected_response",
                        [errors.redact(f"the answer is {undocumented} ({describe_body(response)})",
                                       (self.settings.password, self.settings.token))])
                    if idempotent:
                        raise _Retryable(error)
                    raise errors.AmbiguousWriteError(str(error)) from error
            if status == 429 or status >= 500:
                error = self._error_from(response, method, path)
                if status == 429 or idempotent:
                    raise _Retryable(error, _parse_retry_after(response.headers.get("Retry-After")))
                raise errors.AmbiguousWriteError(str(error)) from error
            if raw and response.is_success:
                return ApiResponse(response.content, status, response.headers)
            data = self._unwrap(response, method, path)
            if isinstance(data, Mapping) and data.get("success") is False:  # a refusal dressed as a success
                reason = "the answer says success: false and gives no reason"
                if method != "GET" and error_messages(data, reason) == [reason] \
                        and not isinstance(data.get("error_code"), str):
                    # No code, no words: nothing says the write was refused, so it may have been applied.
                    raise errors.AmbiguousWriteError(f"{method} {path} answered {status} with success: false and "
                                                     "no reason")
                raise self._error(status, data.get("error_code") if isinstance(data.get("error_code"), str) else None,
                                  error_messages(data, reason), method, path)
            return ApiResponse(data, status, response.headers)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retryable),
            stop=tenacity.stop_after_attempt(self.settings.max_attempts),
            wait=_WaitRetryAfterOrBackoff(self.backoff_initial, self.backoff_max),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Retryable as exhausted:
            if isinstance(exhausted.error, errors.MailinfraError):
                raise exhausted.error from None
            raise errors.ApiError(
                self.service, method, path, None, "transport_error", [str(exhausted.error)]
            ) from exhausted.error

    def _send(self, method: str, path: str, **content: Any) -> httpx.Response:
        """One request, its answer read whole. Built by the httpx client (base URL, default headers, timeouts),
        authenticated by its auth flow, sent by the transport directly: what `Client.send` does, without the
        redirect, cookie and event-hook layers these APIs do not use, which cost ~0.06 ms of CPU a request."""
        request = self._http.build_request(method, path, **content)
        if self._transport is None:
            return self._http.send(request)
        flow = (self._http.auth or httpx.Auth()).sync_auth_flow(request)
        request = next(flow)
        while True:
            response = self._transport.handle_request(request)
            response.read()
            try:
                request = flow.send(response)
            except StopIteration:
                return response

    def _error_from(self, response: httpx.Response, method: str, path: str) -> errors.ApiError:
        try:
            self._unwrap(response, method, path)
        except errors.ApiError as error:
            return error
        return self._error(response.status_code, None, [response.text[:500]], method, path)

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def path(self, relative: str) -> str:
        return f"{self.api_prefix}{relative}"

    def create(self, relative: str, body: Any, headers: Mapping[str, str] | None = None) -> Any:
        """POST to a collection and return the created object: the answer's body, or, for a `201 Created`
        that only names the object in `Location`, what a GET of that location returns."""
        answer = self.exchange("POST", self.path(relative), json=body, headers=headers)
        location = answer.headers.get("Location")
        if answer.data in (None, {}, "") and location:
            return self.get(httpx.URL(location).path if "://" in location else location)
        return answer.data

    def list_all(self, relative: str, items_key: str, **params: Any) -> Iterator[dict[str, Any]]:
        return iterate_pages(lambda q: self.get(self.path(relative), **q), items_key, params)

    def find_by_name(self, relative: str, items_key: str, name: str, field: str = "name") -> dict[str, Any] | None:
        """Names are unique case-insensitively; list pages until the one whose `field` matches."""
        wanted = name.casefold()
        for item in self.list_all(relative, items_key):
            if str(item.get(field, "")).casefold() == wanted:
                return item
        return None

    def close(self) -> None:
        self._http.close()  # closes the transport too


class BearerAuth(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


def error_messages(body: Any, fallback: str) -> list[str]:
    """The API's own words from an error body, whatever its shape (`message`, `errors`, `detail`...)."""
    if isinstance(body, str) and body:
        return [body]
    if not isinstance(body, Mapping):
        return [fallback]
    found: list[str] = []
    for key in ("message", "error", "detail", "title"):
        if isinstance(body.get(key), str) and body[key]:
            found.append(body[key])
    errors = body.get("errors")
    if isinstance(errors, Mapping):
        found += [f"{field}: {message}" for field, message in errors.items()]
    elif isinstance(errors, list):
        found += [str(e.get("message", e)) if isinstance(e, Mapping) else str(e) for e in errors]
    return list(dict.fromkeys(found)) or [fallback]


_NOT_JSON = object()


def _parsed(response: httpx.Response) -> Any:
    """The body as JSON (None when empty, _NOT_JSON when it does not parse), parsed once per response."""
    cached = getattr(response, "_mailinfra_json", _parsed)
    if cached is _parsed:
        try:
            cached = response.json() if response.content.strip() else None
        except ValueError:
            cached = _NOT_JSON
        response._mailinfra_json = cached  # type: ignore[attr-defined]
    return cached


def _is_json(response: httpx.Response) -> bool:
    """An empty body (204) or one that parses as JSON."""
    return _parsed(response) is not _NOT_JSON


def _json_or_none(response: httpx.Response) -> Any:
    body = _parsed(response)
    return None if body is _NOT_JSON else body


# ----- per-process client cache -------------------------------------------------------------------
_CLIENTS: dict[tuple[Any, ...], ApiClient] = {}
_CLIENTS_LOCK = threading.Lock()


def cached_client(factory: Callable[[ServiceSettings], ApiClient], settings: ServiceSettings) -> ApiClient:
    """One client per (class, settings) per process: the dynamic provider's 4 worker threads share its
    connection pool, and nothing holding a socket is ever pickled into state."""
    key = (factory, settings)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            client = _CLIENTS[key] = factory(settings)
        return client


def iterate_pages(
    fetch: Callable[[dict[str, Any]], Mapping[str, Any]], items_key: str, params: Mapping[str, Any]
) -> Iterator[dict[str, Any]]:
    """Follow GreenArrow-style pagination: `next_page_token` when given, else `page`+1 up to num_pages."""
    query = dict(params)
    seen_tokens: set[str] = set()
    while True:
        data = fetch(query) or {}
        yield from data.get(items_key) or []
        pagination = data.get("pagination") or {}
        token = pagination.get("next_page_token")
        if token:
            if token in seen_tokens:  # a server that repeats its token would loop forever
                return
            seen_tokens.add(token)
            query = {k: v for k, v in params.items() if k != "page"} | {"page_token": token}
            continue
        page, pages = pagination.get("page"), pagination.get("num_pages")
        tokenless = "next_page_token" not in pagination
        if tokenless and isinstance(page, int) and isinstance(pages, int) and page + 1 < pages:
            query = dict(params) | {"page": page + 1}
            continue
        return
