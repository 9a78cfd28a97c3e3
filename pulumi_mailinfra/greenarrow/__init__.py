"""GreenArrow Engine API v3 and CloudMTA resources (typed: see `inputs` and docs/reference/greenarrow/)."""

import importlib
from typing import TYPE_CHECKING, Any

from .inputs import *  # noqa: F403 - the generated input types are part of this package's API
from .inputs import __all__ as _inputs_all
from .lookups import find, get_relay_server, get_route, get_template_used_by, get_throttling_template, used_by
from .providers import RelayServerProvider, RouteProvider, ThrottlingRuleProvider, ThrottlingTemplateProvider
from .resources import RelayServer, Route, ThrottlingRule, ThrottlingTemplate

__all__ = [
    *_inputs_all,
    "GreenArrowClient",
    "RelayServer",
    "RelayServerProvider",
    "Route",
    "RouteProvider",
    "ThrottlingRule",
    "ThrottlingRuleProvider",
    "ThrottlingTemplate",
    "ThrottlingTemplateProvider",
    "find",
    "get_relay_server",
    "get_route",
    "get_template_used_by",
    "get_throttling_template",
    "greenarrow_client",
    "used_by",
]

if TYPE_CHECKING:
    from .client import GreenArrowClient, greenarrow_client


def __getattr__(name: str) -> Any:
    # The API client (and httpx with it) loads on first use: a program that only declares resources, and the
    # provider until its first request, never pay for it.
    if name in ("GreenArrowClient", "greenarrow_client"):
        value = getattr(importlib.import_module(".client", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
