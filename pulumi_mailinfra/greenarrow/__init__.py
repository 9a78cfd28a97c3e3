"""GreenArrow Engine API v3 and CloudMTA resources (typed: see `inputs` and docs/reference/greenarrow/)."""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
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

# The API client (and httpx with it) loads on first use: a program that only declares resources, and the provider
# until its first request, never pay for it.
__getattr__ = lazy_exports(__name__, ".client", ("GreenArrowClient", "greenarrow_client"))
