"""The GreenArrow Engine API v3 (and CloudMTA routes) emulator: `backend` (state and rules, no HTTP) and
`http` (the documented paths, envelope and Basic auth)."""

from .backend import GreenArrowBackend
from .http import greenarrow_router

__all__ = ["GreenArrowBackend", "greenarrow_router"]
