"""The Cleanmail API v3 emulator: `backend` (state and rules, no HTTP) and `http` (the documented paths under
`/cleanmail`, Bearer auth, statuses and headers)."""

from .backend import CleanmailBackend
from .http import cleanmail_admin_router, cleanmail_router

__all__ = ["CleanmailBackend", "cleanmail_admin_router", "cleanmail_router"]
