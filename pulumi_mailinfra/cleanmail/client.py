"""Cleanmail API v3 client: Bearer token, plain JSON bodies (no envelope), `201 Created` with `Location`,
`204 No Content` answers, `offset` / `pageSize` pagination with the total in `X-Total-Count`, string ids
(`Eygdk`), errors as a JSON body whose messages are quoted."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from ..config import ServiceSettings, resolve_settings
from ..errors import ConfigurationError
from ..http import ApiClient, BearerAuth, _json_or_none, cached_client, error_messages

PAGE_SIZE = 100


class CleanmailClient(ApiClient):
    service = "cleanmail"
    api_prefix = ""  # the configured URL is the API's base (e.g. https://cleanmail.example.com/api/v3)

    def _auth(self) -> httpx.Auth | None:
        if not self.settings.token:
            raise ConfigurationError("Cleanmail needs a token: mailinfra:cleanmailToken (or CLEANMAIL_TOKEN)")
        return BearerAuth(self.settings.token)

    def _undocumented(self, response: httpx.Response, method: str, path: str) -> str | None:
        # A DELETE answers 204, or 200 with a list (the admin deletes); only an attachment's delete answers the
        # file (5.7.1). Any other object is no documented answer, and taking it as done could leave the object
        # behind.
        body = _json_or_none(response)
        if (method == "DELETE" and isinstance(body, dict) and body.get("success") is not False
                and not path.startswith(self.path("/emails/attachments/"))):
            return "not a documented answer to a DELETE"
        return None

    def _unwrap(self, response: httpx.Response, method: str, path: str) -> Any:
        body = _json_or_none(response)
        if response.is_success:
            return body if body is not None else {}
        messages = error_messages(body, response.text[:500] or response.reason_phrase)
        code = body.get("code") if isinstance(body, Mapping) and isinstance(body.get("code"), str) else None
        raise self._error(response.status_code, code, messages, method, path)

    def list_all(self, relative: str, items_key: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint: `offset` / `pageSize` pages until `X-Total-Count` is reached (or a
        short page, for a server that omits the header). A page is a JSON array, or an object holding it
        under `items_key`."""
        offset = 0
        while True:
            answer = self.exchange("GET", self.path(relative), params={**params, "offset": offset,
                                                                        "pageSize": PAGE_SIZE})
            data = answer.data
            items = data if isinstance(data, list) else (data or {}).get(items_key) or []
            yield from items
            offset += len(items)
            total = answer.headers.get("X-Total-Count")
            done = offset >= int(total) if total and total.isdigit() else len(items) < PAGE_SIZE
            if done or not items:
                return

    def find_by_name(self, relative: str, items_key: str, name: str, field: str = "name") -> dict[str, Any] | None:
        """Names are exact-match filters on the server (`?name=...`, `?email=...`: one filter allowed);
        compared again case-insensitively here, for a server that ignores the filter."""
        wanted = name.casefold()
        for item in self.list_all(relative, items_key, **{field: name}):
            if str(item.get(field, "")).casefold() == wanted:
                return item
        return None


def cleanmail_client(raw_config: dict[str, Any] | None = None) -> CleanmailClient:
    settings: ServiceSettings = resolve_settings("cleanmail", raw_config)
    return cached_client(CleanmailClient, settings)  # type: ignore[return-value]
