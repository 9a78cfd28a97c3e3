"""GreenArrow Engine API v3 and CloudMTA resources (typed: see `inputs` and docs/reference/greenarrow/)."""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .inputs import *  # noqa: F403 - the generated input types are part of this package's API
from .inputs import __all__ as _inputs_all
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
    from .lookups import find, get_relay_server, get_route, get_template_used_by, get_throttling_template, used_by
    from .providers import RelayServerProvider, RouteProvider, ThrottlingRuleProvider, ThrottlingTemplateProvider

# Loaded on first use: the providers (pydantic models), the API client (httpx) and the look-ups that use
# it. A program that only declares resources imports none of them; the provider process imports the
# providers it is asked to build.
__getattr__ = lazy_exports(
    __name__,
    {
        ".client": ("GreenArrowClient", "greenarrow_client"),
        ".lookups": (
            "find",
            "get_relay_server",
            "get_route",
            "get_template_used_by",
            "get_throttling_template",
            "used_by",
        ),
        ".providers": ("RelayServerProvider", "RouteProvider", "ThrottlingRuleProvider", "ThrottlingTemplateProvider"),
    },
)
