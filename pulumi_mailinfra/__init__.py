"""Pulumi dynamic providers for mail infrastructure: GreenArrow Engine (relay servers, throttling
templates and rules, CloudMTA routes), Cleanmail and Elemta, with an offline emulator of each API."""

from typing import Any

from ._versions import PULUMI_VERSION

__all__ = ["PULUMI_VERSION", "__version__"]


def __getattr__(name: str) -> Any:
    # `__version__` on first use: reading the installed metadata costs ~30 ms, on every program's and provider's
    # start-up otherwise.
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("pulumi-mailinfra")  # the one place it is written is pyproject.toml
    except PackageNotFoundError:  # a source tree that was never installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
