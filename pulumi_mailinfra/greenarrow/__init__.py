"""GreenArrow Engine API v3 and CloudMTA resources."""

from .client import GreenArrowClient, greenarrow_client
from .lookups import find, get_relay_server, get_route, get_template_used_by, get_throttling_template, used_by
from .resources import (
    RelayServer,
    RelayServerProvider,
    Route,
    RouteProvider,
    ThrottlingRule,
    ThrottlingRuleProvider,
    ThrottlingTemplate,
    ThrottlingTemplateProvider,
)

__all__ = [
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
