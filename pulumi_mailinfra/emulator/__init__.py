"""Offline emulator of the mail infrastructure APIs (GreenArrow Engine API v3 so far).

``create_app(...)`` builds the ASGI app; ``EmulatorServer(...)`` serves it from a background
thread (``with EmulatorServer() as server: server.url``); ``python -m pulumi_mailinfra.emulator``
serves it in the foreground.
"""

from .app import create_app
from .server import EmulatorServer

__all__ = ["EmulatorServer", "create_app"]
