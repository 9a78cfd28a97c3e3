"""What the parts of the Cleanmail emulator share: its errors (each with the status the docs give), the field
checks that raise them naming the field, the store base with ids, paging and domain look-up."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from ..store import ObjectStore

DEFAULT_PAGE_SIZE = 40
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class CleanmailError(Exception):
    status = 400
    error = "Bad Request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(CleanmailError):
    pass


class NotFound(CleanmailError):
    status, error = 404, "Not Found"


class Conflict(CleanmailError):
    status, error = 409, "Conflict"


class Unprocessable(CleanmailError):
    status, error = 422, "Unprocessable Entity"


def hashid(number: int, salt: str = "") -> str:
    """An opaque 5-character id like the docs' (`Eygdk`): a bijection of 1..62**5 - 1 per salt. Each kind has
    its own salt, so ids of different kinds (a user and an external recipient of one alias) never collide."""
    offset = int.from_bytes(salt.encode(), "big") % 62**5
    value, out = (number * 2_654_435_761 + offset) % 62**5, ""
    for _ in range(5):
        value, digit = divmod(value, 62)
        out = _ALPHABET[digit] + out
    return out


def page_window(params: Mapping[str, Any]) -> tuple[int, int]:
    """`offset` and `pageSize` of a list request (defaults 0 and 40), 400 when they are not a valid window."""
    try:
        offset = int(params.get("offset") or 0)
        size = int(params.get("pageSize") or DEFAULT_PAGE_SIZE)
    except ValueError:
        raise BadRequest("offset and pageSize must be integers") from None
    if offset < 0 or size < 1:
        raise BadRequest("offset must be >= 0 and pageSize >= 1")
    return offset, size


def _now_ms() -> int:
    return int(time.time() * 1000)


# ----- field checks: each returns the value or raises BadRequest naming the field ----------------------
def _bool(path: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadRequest(f"{path}: must be a boolean")
    return value


def _int(path: str, value: Any, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadRequest(f"{path}: must be an integer from {low} to {high}")
    return value


def _number(path: str, value: Any, low: float, high: float) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
        raise BadRequest(f"{path}: must be a number from {low} to {high}")
    return float(value)


def _text(path: str, value: Any, *, required: bool = False, max_length: int = 255) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value) or len(value) > max_length:
        raise BadRequest(f"{path}: must be a string of {1 if required else 0} to {max_length} characters")
    return value


def _enum(path: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise BadRequest(f"{path}: must be one of {', '.join(allowed)}")
    return value


class CleanmailStore(ObjectStore):
    """The store every Cleanmail part works on: hashid ids per kind, paged lists, the domain look-up."""

    def _new_id(self, sequence: str) -> str:
        return hashid(self._next_id(sequence), sequence)

    def _domain(self, domain_id: str) -> dict[str, Any]:
        found = self._objects["domain"].get(domain_id)
        if found is None:
            raise NotFound("Domain not found with given id")
        return found

    @staticmethod
    def page(items: list[dict[str, Any]], params: Mapping[str, str], default_sort: str,
             filters: tuple[str, ...]) -> tuple[list[dict[str, Any]], int]:
        """One filter (`name=pre*`, `*suf`, `*mid*`, exact), `sort` (`-` reverses), `offset` / `pageSize`."""
        used = [key for key in filters if params.get(key) not in (None, "")]
        if len(used) > 1:
            raise BadRequest(f"only one filter is allowed; got {', '.join(used)}")
        for key in used:
            pattern = re.escape(str(params[key]).lower()).replace(r"\*", ".*")
            items = [i for i in items if re.fullmatch(pattern, str(i.get(key, "")).lower())]
        sort = params.get("sort") or default_sort
        field = sort.removeprefix("-")
        items = sorted(items, key=lambda i: str(i.get(field, "")).lower(), reverse=sort.startswith("-"))
        offset, size = page_window(params)
        return items[offset:offset + size], len(items)
