"""Typed API errors. Each quotes the API's own messages so a failed `up` says what the service said."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pulumi.errors import RunError


class MailinfraError(Exception):
    """Base class of every error this package raises on purpose."""


class DeclarationError(MailinfraError, RunError, ValueError):
    """A program declares what cannot work (two resources managing one object, two forms of one list): raised
    while the program runs, it is a RunError, which the language host reports as its message alone, without a
    Python traceback."""


class ConfigurationError(MailinfraError):
    """A required provider setting (URL, credentials) is missing or malformed."""


class ApiError(MailinfraError):
    """The API answered with an error. `messages` are the API's own words."""

    def __init__(
        self,
        service: str,
        method: str,
        path: str,
        status: int | None,
        code: str | None,
        messages: Iterable[str],
    ) -> None:
        self.service = service
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.messages = [str(m) for m in messages]
        detail = "; ".join(self.messages) or "no message"
        label = f"HTTP {status}" if status else "no response"
        super().__init__(f"{service} {method} {path} failed ({label}, {code or 'error'}): {detail}")


class ValidationError(ApiError):
    """The API rejected the payload (HTTP 400 / error_code validation_error)."""


class AuthenticationError(ApiError):
    """Wrong or missing credentials (HTTP 401)."""


class PermissionDeniedError(ApiError):
    """Credentials valid but not allowed (HTTP 403)."""


class NotFoundError(ApiError):
    """The object does not exist (HTTP 404 / error_code not_found)."""


class InUseError(ApiError):
    """The object is referenced by others and cannot be deleted; the message names them."""


class RateLimitedError(ApiError):
    """HTTP 429 still returned after every retry."""


class ServerError(ApiError):
    """HTTP 5xx still returned after every retry."""


class UnexpectedResponseError(ApiError):
    """The API answered something no documented answer looks like (an HTML page, JSON cut short, an envelope
    saying it failed without saying why, an object of another shape)."""


class AmbiguousWriteError(MailinfraError):
    """A non-idempotent request may or may not have been applied (connection lost after sending)."""


# Shorter secrets are masked only where they stand alone (a whole token): masking every occurrence of a
# fragment such as "e" would make the message unreadable and the mask pattern would spell the secret.
MIN_FRAGMENT_LENGTH = 6
REDACTED = "[secret]"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Replace every secret value in `text` with one constant mask (never revealing its length), so an
    error or log line never carries a password. Secrets of at least MIN_FRAGMENT_LENGTH characters are
    masked wherever they occur; shorter ones only as whole tokens (not inside a longer word)."""
    for secret in sorted({s for s in secrets if isinstance(s, str) and s}, key=len, reverse=True):
        if len(secret) >= MIN_FRAGMENT_LENGTH:
            text = text.replace(secret, REDACTED)
        else:
            text = re.sub(rf"(?<![\w-]){re.escape(secret)}(?![\w-])", REDACTED, text)
    return text
