"""Pulumi dynamic providers for mail infrastructure: GreenArrow Engine (relay servers, throttling
templates and rules, CloudMTA routes), with an offline emulator of each API."""

from importlib.metadata import PackageNotFoundError, version

from ._versions import PULUMI_VERSION

try:
    __version__ = version("pulumi-mailinfra")  # the one place it is written is pyproject.toml
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
__all__ = ["PULUMI_VERSION", "__version__"]
