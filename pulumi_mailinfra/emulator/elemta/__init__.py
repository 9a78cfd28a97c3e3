"""The Elemta REST API emulator: backend (state and rules) and HTTP layer."""

from .backend import ElemtaBackend
from .http import elemta_admin_router, elemta_router

__all__ = ["ElemtaBackend", "elemta_admin_router", "elemta_router"]
