"""Every documented GreenArrow attribute and constraint, as pydantic models of the resource inputs."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_serializer, model_validator

from ..validation import (
    Hostname,
    Int,
    IPv4,
    NonNegativeInt,
    Port,
    PositiveInt,
    StrictModel,
    VirtualMtaName,
    _whole_int,
)

MAX_RULES_PER_TEMPLATE = 250
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^(\*\.|\[\*\.\])?{_LABEL}(\.{_LABEL})*$")


def _ref_id(value: Any) -> Any:
    # Another resource's `id` output is a string; accept "12" as well as 12.
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return _whole_int(value)


RefId = Annotated[int, BeforeValidator(_ref_id)]


class Reference(StrictModel):
    """A reference to another object by id or by (case-insensitive) name; id wins when both are given."""

    id: RefId | None = Field(default=None, ge=1)
    name: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_of(self) -> Reference:
        if self.id is None and self.name is None:
            raise ValueError("give an id or a name")
        return self

    @model_serializer(mode="wrap")
    def _without_nulls(self, handler: Any) -> dict[str, Any]:
        # Send only what was given: a name next to `"id": null` might not be resolved by the server.
        return {k: v for k, v in handler(self).items() if v is not None}


class SourceIp(StrictModel):
    ip: IPv4
    hostname: Hostname


class Destination(StrictModel):
    hostname: Hostname
    port: Port
    username: Annotated[str | None, Field(max_length=200)] = None
    password: Annotated[str | None, Field(max_length=200)] = None


class ThrottleLimits(StrictModel):
    """0 means unlimited."""

    max_concurrent_connections: NonNegativeInt
    max_messages_per_hour: NonNegativeInt


class RelayServerArgs(StrictModel):
    name: VirtualMtaName
    source_ip: SourceIp
    destination: Destination
    throttle_limits: ThrottleLimits = ThrottleLimits(max_concurrent_connections=0, max_messages_per_hour=0)
    redirect: Reference | None = None


def _domain(value: Any) -> Any:
    domain = value.removeprefix("[*.]").removeprefix("*.") if isinstance(value, str) else value
    if isinstance(value, str) and (len(domain) > 253 or not _DOMAIN.fullmatch(value)):
        raise ValueError(f"{value!r} is not a domain, '*.domain' or '[*.]domain' pattern")
    return value


DomainPattern = Annotated[str, BeforeValidator(_domain)]


class ThrottlingRuleArgs(StrictModel):
    domains: list[DomainPattern] = Field(min_length=1)
    max_concurrent_connections: NonNegativeInt
    max_messages_per_hour: NonNegativeInt
    throttle_program: Reference | None = None

    @model_validator(mode="after")
    def _unique_domains(self) -> ThrottlingRuleArgs:
        _check_unique(self.domains, "domains")
        return self


class TemplateDefault(ThrottleLimits):
    pass


def _check_unique(domains: list[str], where: str) -> None:
    seen: set[str] = set()
    for domain in domains:
        key = domain.casefold()
        if key in seen:
            raise ValueError(f"{where}: domain {domain!r} appears more than once; a domain may appear once "
                             "per template")
        seen.add(key)


def _template_name(value: Any) -> Any:
    if isinstance(value, str):
        if any(not 0x20 <= ord(c) <= 0x7E for c in value):
            raise ValueError("must contain only ASCII characters in the range 0x20-0x7e")
        if value != value.strip():
            raise ValueError("must not have leading nor trailing whitespace")
    return value


# Templates are not VirtualMTAs: only the printable-ASCII and whitespace rules are assumed for them.
TemplateName = Annotated[str, BeforeValidator(_template_name), Field(min_length=1, max_length=200)]


class ThrottlingTemplateArgs(StrictModel):
    name: TemplateName
    default: TemplateDefault
    rules: list[ThrottlingRuleArgs] = Field(default_factory=list, max_length=MAX_RULES_PER_TEMPLATE)

    @model_validator(mode="after")
    def _unique_across_rules(self) -> ThrottlingTemplateArgs:
        _check_unique([d for rule in self.rules for d in rule.domains], "rules")
        return self


class ThrottlingRuleResourceArgs(ThrottlingRuleArgs):
    """A rule managed on its own, in a template managed elsewhere."""

    template_id: Int = Field(ge=1)


_ROUTE_NAME = re.compile(r"^[A-Za-z0-9 _.\-]+$")


def _route_name(value: Any) -> Any:
    if isinstance(value, str):
        if not _ROUTE_NAME.fullmatch(value):
            raise ValueError("may contain only letters, digits, spaces, '-', '_' and '.'")
        if value != value.strip():
            raise ValueError("must not have leading nor trailing whitespace")
        if re.fullmatch(r"[+-]?\d+", value):
            raise ValueError("must not be an integer")
    return value


RouteName = Annotated[str, BeforeValidator(_route_name), Field(min_length=1, max_length=180)]


class RouteArgs(StrictModel):
    name: RouteName
    requested_target_daily_volume: PositiveInt
    overflow_route: Reference | None = None
