"""GreenArrow Engine API v3 client: Basic auth, the `success/data/error_code/error_messages` envelope
(and the envelope-less shape the Routes page shows), page / page_token pagination."""

from __future__ import annotations

from typing import Any

import httpx

from .. import errors
from ..config import ServiceSettings, resolve_settings
from ..errors import ConfigurationError
from ..http import ApiClient, _json_or_none, cached_client

API_PREFIX = "/ga/api/v3/eng"


class GreenArrowClient(ApiClient):
    service = "greenarrow"
    api_prefix = API_PREFIX

    def _auth(self) -> httpx.Auth | None:
        if self.settings.username is None or self.settings.password is None:
            raise ConfigurationError(
                "GreenArrow needs credentials: mailinfra:greenarrowUsername / greenarrowPassword "
                "(or GREENARROW_USERNAME / GREENARROW_PASSWORD)"
            )
        return httpx.BasicAuth(self.settings.username, self.settings.password)

    def _undocumented(self, response: httpx.Response, method: str, path: str) -> str | None:
        # Every documented answer is the envelope (`success`), except the Routes page's `{"route": ...}` and
        # `{"routes": [...]}`. Anything else, say a DELETE answered with an unknown object, is not taken as done.
        body = _json_or_none(response)
        if body is None or (isinstance(body, dict) and ({"success", "route", "routes"} & set(body))):
            return None
        return "not GreenArrow's envelope"

    def _unwrap(self, response: httpx.Response, method: str, path: str) -> Any:
        body = _json_or_none(response)
        # Judge by `success` when the envelope is there (the docs' examples answer 200 even for
        # errors); fall back to the status code for envelope-less answers.
        if isinstance(body, dict) and "success" in body:
            if body.get("success") is True and response.is_success:
                return body.get("data") if "data" in body else {}
            messages = body.get("error_messages") or []
            if isinstance(messages, (str, dict)):
                messages = [messages]
            status = response.status_code if not response.is_success else None
            if not messages and not body.get("error_code") and method != "GET":
                # No code, no words: nothing says the write was refused, so it may have been applied.
                raise errors.AmbiguousWriteError(f"greenarrow {method} {path} answered success: false with no reason")
            raise self._error(status, body.get("error_code"), [str(m) for m in messages], method, path)
        if response.is_success:
            return body if body is not None else {}
        raise self._error(response.status_code, None, [response.text[:500] or response.reason_phrase],
                          method, path)


def greenarrow_client(raw_config: dict[str, Any] | None = None) -> GreenArrowClient:
    settings: ServiceSettings = resolve_settings("greenarrow", raw_config)
    return cached_client(GreenArrowClient, settings)  # type: ignore[return-value]
