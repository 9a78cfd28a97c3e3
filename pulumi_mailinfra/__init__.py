"""Pulumi dynamic providers for mail infrastructure: GreenArrow Engine (relay servers, throttling
templates and rules, CloudMTA routes), with an offline emulator of each API."""

from ._versions import PULUMI_VERSION

__version__ = "0.1.0"
__all__ = ["PULUMI_VERSION", "__version__"]
