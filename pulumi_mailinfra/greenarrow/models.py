"""Every documented GreenArrow attribute and constraint, as pydantic models of the resource inputs (and of
the computed outputs). These models are the single source of the generated input types
(`greenarrow/inputs.py`), resource classes (`greenarrow/resources.py`) and reference pages
(`docs/reference/greenarrow/`): descriptions are the API docs' own words."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_serializer, model_validator

from ..validation import (
    Hostname,
    IPv4,
    LazyModel,
    NonNegativeInt,
    Port,
    PositiveInt,
    Rule,
    StrictModel,
    VirtualMtaName,
    _whole_int,
    known_values_error,
)

MAX_RULES_PER_TEMPLATE = 250
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^(\*\.|\[\*\.\])?{_LABEL}(\.{_LABEL})*$")


def _ref_id(value: Any) -> Any:
    # Another resource's `id` output is a string; accept "12" as well as 12.
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return _whole_int(value)


RefId = Annotated[int | str, BeforeValidator(_ref_id), Rule("an integer id; another resource's `id` output works")]


class ReferenceModel(StrictModel):
    """A reference to another object by id or by (case-insensitive) name; id wins when both are given."""

    id: RefId | None = Field(default=None, ge=1, description="The id of the object referred to.")
    name: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="The case-insensitive name of the object referred to; ignored when `id` is given.",
    )

    @model_validator(mode="after")
    def _one_of(self) -> ReferenceModel:
        if self.id is None and self.name is None:
            raise ValueError("give an id or a name")
        return self

    @model_serializer(mode="wrap")
    def _without_nulls(self, handler: Any) -> dict[str, Any]:
        # Send only what was given: a name next to `"id": null` might not be resolved by the server.
        return {k: v for k, v in handler(self).items() if v is not None}


class SourceIpModel(StrictModel):
    """Local connection parameters towards the destination server."""

    ip: IPv4 = Field(description="The outgoing IP address to use when connecting to the destination server.")
    hostname: Hostname = Field(
        description="The hostname used in the HELO/EHLO command of outgoing SMTP connections (the reverse DNS "
        "name of the IP address used to connect to the relay server)."
    )


class DestinationModel(StrictModel):
    """The destination server."""

    hostname: Hostname = Field(description="Hostname or IP address of the destination server.")
    port: Port = Field(description="Port number on the destination server.")
    username: Annotated[str | None, Field(max_length=200)] = Field(
        default=None,
        description="Username for authentication on the destination server; null: no authentication.",
    )
    password: Annotated[str | None, Field(max_length=200)] = Field(
        default=None,
        description="Password for authentication on the destination server; null: no authentication.",
    )


class ThrottleLimitsModel(StrictModel):
    """Limits towards the destination; 0 means unlimited."""

    max_concurrent_connections: NonNegativeInt = Field(
        description="The maximum number of connections allowed to the destination server; 0 is unlimited."
    )
    max_messages_per_hour: NonNegativeInt = Field(
        description="The maximum number of messages per hour allowed to the destination server; 0 is unlimited."
    )


class RelayServerModel(StrictModel):
    name: VirtualMtaName = Field(
        description="A descriptive name for the relay server."
    )
    source_ip: SourceIpModel = Field(description="Local connection parameters towards the destination server.")
    destination: DestinationModel = Field(description="The server this relay delivers to.")
    throttle_limits: ThrottleLimitsModel = Field(
        default=ThrottleLimitsModel(max_concurrent_connections=0, max_messages_per_hour=0),
        description="Limits towards the destination server (0 = unlimited).",
    )
    redirect: ReferenceModel | None = Field(
        default=None,
        description="Send delivery intended for this relay server through another VirtualMTA instead (an IP "
        "address, relay server or routing rule), by id or name.",
    )


def _domain(value: Any) -> Any:
    domain = value.removeprefix("[*.]").removeprefix("*.") if isinstance(value, str) else value
    if isinstance(value, str) and (len(domain) > 253 or not _DOMAIN.fullmatch(value)):
        raise ValueError(f"{value!r} is not a domain, '*.domain' or '[*.]domain' pattern")
    return value


DomainPattern = Annotated[
    str,
    BeforeValidator(_domain),
    Rule("a domain, `*.domain` (its subdomains) or `[*.]domain` (the domain and its subdomains); unique per "
         "template, case-insensitively"),
]


class TemplateRuleModel(StrictModel):
    """One throttling rule of a template: limits for the domains it lists."""

    domains: list[DomainPattern] = Field(min_length=1, description="The recipient domains this rule applies to.")
    max_concurrent_connections: NonNegativeInt = Field(
        description="The maximum number of concurrent connections to these domains; 0 is unlimited."
    )
    max_messages_per_hour: NonNegativeInt = Field(
        description="The maximum number of messages per hour to these domains; 0 is unlimited."
    )
    throttle_program: ReferenceModel | None = Field(
        default=None, description="A throttle program (e.g. `{\"name\": \"Automatic Backoff\"}`) by id or name."
    )

    @model_validator(mode="before")
    @classmethod
    def _unique_domains(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            _check_unique([_known_domains(data)], "domains")
        return data


class TemplateDefaultModel(ThrottleLimitsModel):
    """The limits for domains no rule lists; 0 means unlimited."""


def _known_domains(rule: Any) -> list[str]:
    """The domains of a raw rule that are known (at preview some may not be yet)."""
    domains = rule.get("domains") if isinstance(rule, Mapping) else None
    return [d for d in domains if isinstance(d, str)] if isinstance(domains, list) else []


def _check_unique(groups: list[list[str]], where: str) -> None:
    """A domain may appear once per template: within each group and across groups. Runs on the raw, known
    values (a `before` validator), so a duplicate is reported at preview even when other values of the
    rules are unknown until apply."""
    seen: set[str] = set()
    for group in groups:
        for domain in group:
            key = domain.casefold()
            if key in seen:
                raise known_values_error(f"{where}: domain {domain!r} appears more than once; a domain may "
                                         "appear once per template")
            seen.add(key)


def _template_name(value: Any) -> Any:
    if isinstance(value, str):
        if any(not 0x20 <= ord(c) <= 0x7E for c in value):
            raise ValueError("must contain only ASCII characters in the range 0x20-0x7e")
        if value != value.strip():
            raise ValueError("must not have leading nor trailing whitespace")
    return value


# Templates are not VirtualMTAs: only the printable-ASCII and whitespace rules are assumed for them.
TemplateName = Annotated[
    str,
    BeforeValidator(_template_name),
    Field(min_length=1, max_length=200),
    Rule("ASCII 0x20-0x7e; no leading or trailing whitespace; unique case-insensitively"),
]


class ThrottlingTemplateModel(StrictModel):
    name: TemplateName = Field(
        description="A descriptive name for the template."
    )
    default: TemplateDefaultModel = Field(description="The limits for domains that no rule lists.")
    rules: list[TemplateRuleModel] | None = Field(
        default=None,
        max_length=MAX_RULES_PER_TEMPLATE,
        description="The template's rules, authoritative: rules on the server that are not listed are deleted. "
        "Omit to manage the rules with `ThrottlingRule` resources instead (never both on one template).",
    )

    @model_validator(mode="before")
    @classmethod
    def _unique_across_rules(cls, data: Any) -> Any:
        rules = data.get("rules") if isinstance(data, Mapping) else None
        if isinstance(rules, list):  # duplicates within one rule are that rule's error
            _check_unique([list({d.casefold(): d for d in _known_domains(r)}.values()) for r in rules], "rules")
        return data


class ThrottlingTemplateOutputs(LazyModel):
    rule_ids: list[int] = Field(description="The API id of each rule, in `rules` order (empty without `rules`).")


class ThrottlingRuleModel(TemplateRuleModel):
    """A rule managed on its own, in a template managed elsewhere."""

    template_id: RefId = Field(ge=1, description="The id of the template the rule belongs to.")


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


RouteName = Annotated[
    str,
    BeforeValidator(_route_name),
    Field(min_length=1, max_length=180),
    Rule("letters, digits, spaces, `-`, `_` and `.`; no leading or trailing whitespace; not an integer; unique "
         "case-insensitively across all VirtualMTAs"),
]


class RouteModel(StrictModel):
    name: RouteName = Field(
        description="The route's name."
    )
    requested_target_daily_volume: PositiveInt = Field(
        description="The daily volume the route should be able to send; GreenArrow Cloud provisions IP "
        "addresses for it."
    )
    overflow_route: ReferenceModel | None = Field(
        default=None, description="The route that takes mail beyond this route's limits, by id or name."
    )


class RoutingRuleModel(LazyModel):
    id: int
    name: str


class RouteOutputs(LazyModel):
    recommended_max_daily_volume: int = Field(
        description="The daily volume the provisioned IP addresses can send, across all recipient domains."
    )
    recommended_max_delivery_rate_per_hour: int = Field(
        description="The hourly delivery rate the provisioned IP addresses can sustain."
    )
    routing_rule: RoutingRuleModel = Field(
        description="The routing rule the route created (`{id, name}`); it directs mail through the route's IPs."
    )
