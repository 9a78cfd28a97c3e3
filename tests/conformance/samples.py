"""The conformance suite's input: one `Sample` per resource type. A new type is covered by adding its sample here;
`test_samples.py` refuses a type without one and an input field (nested keys included) that no out-of-band change
exercises and no `unseen` entry explains."""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from pulumi_mailinfra.cleanmail import providers as cleanmail_providers
from pulumi_mailinfra.elemta import providers as elemta_providers
from pulumi_mailinfra.greenarrow.providers import (
    RelayServerProvider,
    RouteProvider,
    ThrottlingRuleProvider,
    ThrottlingTemplateProvider,
)
from pulumi_mailinfra.provider import CrudProvider


@dataclass(frozen=True)
class Ref:
    """Another sample's output (its `id` by default), resolved in the program."""

    sample: str
    output: str = "id"


@dataclass(frozen=True)
class Sample:
    """One resource of the conformance stack and what the suite does to it."""

    name: str  # the logical name; other samples refer to it with Ref(name)
    provider: type[CrudProvider]
    inputs: dict[str, Any]
    # Out-of-band changes made through the API, one change set per round: dotted path -> the value the API gets.
    # Across the sets every input leaf of the type appears (or is listed in `unseen`).
    drift: tuple[dict[str, Any], ...] = ()
    unseen: Mapping[str, str] = field(default_factory=dict)  # leaf path -> why no out-of-band change is checked
    update: dict[str, Any] = field(default_factory=dict)  # inputs changed in place (no replacement)
    replace: dict[str, Any] = field(default_factory=dict)  # inputs whose change replaces the object
    reorder: dict[str, Any] = field(default_factory=dict)  # set-like lists in another order: no change
    deletable: bool = True  # deleted through the API in the delete round (its dependents are not)

    @property
    def type_name(self) -> str:
        return self.provider.spec.type_name

    @property
    def service(self) -> str:
        return self.provider.spec.service


def covered_on(sample: str, *paths: str) -> dict[str, str]:
    """`unseen` entries for fields another sample of the type changes out of band."""
    return {path: f"covered on `{sample}`" for path in paths}


GREENARROW: tuple[Sample, ...] = (
    Sample("relay-spare", RelayServerProvider,  # what `fallback` is redirected to out of band
           {"name": "conf-relay-spare", "source_ip": {"ip": "192.0.2.30", "hostname": "spare.example.com"},
            "destination": {"hostname": "smtp-spare.example.net", "port": 25}},
           unseen=covered_on("fallback", "name", "source_ip.ip", "source_ip.hostname", "destination.hostname",
                             "destination.port", "destination.username", "destination.password",
                             "throttle_limits.max_concurrent_connections", "throttle_limits.max_messages_per_hour",
                             "redirect.id", "redirect.name")),
    Sample(
        "fallback", RelayServerProvider,
        {"name": "conf-fallback", "source_ip": {"ip": "192.0.2.20", "hostname": "fallback.example.com"},
         "destination": {"hostname": "smtp-fallback.example.net", "port": 25}},
        drift=(
            {"name": "conf-fallback-oob", "source_ip.ip": "192.0.2.21", "source_ip.hostname": "oob.example.com",
             "destination.hostname": "oob.example.net", "destination.port": 2525,
             "throttle_limits.max_concurrent_connections": 3, "throttle_limits.max_messages_per_hour": 99},
            {"destination.username": "planted", "destination.password": "planted-pw",
             "redirect.name": "conf-relay-spare"},
        ),
        unseen={"redirect.id": "covered on `primary`, which redirects by id"},
        update={"destination": {"hostname": "smtp-fallback.example.net", "port": 587}},
        deletable=False,  # `primary` redirects to it: the API refuses its delete
    ),
    Sample(
        "primary", RelayServerProvider,
        {"name": "conf-primary", "source_ip": {"ip": "192.0.2.10", "hostname": "mail.example.com"},
         "destination": {"hostname": "smtp.example.net", "port": 587, "username": "relay", "password": "pw-Conf1"},
         "throttle_limits": {"max_concurrent_connections": 4, "max_messages_per_hour": 500},
         "redirect": {"id": Ref("fallback")}},
        drift=({"destination.username": "other", "destination.password": "other-pw"},),
        unseen={"name": "covered on `fallback`", "source_ip.ip": "covered on `fallback`",
                "source_ip.hostname": "covered on `fallback`", "destination.hostname": "covered on `fallback`",
                "destination.port": "covered on `fallback`",
                "throttle_limits.max_concurrent_connections": "covered on `fallback`",
                "throttle_limits.max_messages_per_hour": "covered on `fallback`",
                "redirect.id": "a reference by id or by name is one object: covered by `fallback`'s redirect.name",
                "redirect.name": "covered on `fallback`"},
        update={"throttle_limits": {"max_concurrent_connections": 5, "max_messages_per_hour": 600}},
    ),
    Sample(
        "template", ThrottlingTemplateProvider,
        {"name": "conf-template", "default": {"max_concurrent_connections": 10, "max_messages_per_hour": 0},
         "rules": [{"domains": ["gmail.com", "[*.]googlemail.com"], "max_concurrent_connections": 20,
                    "max_messages_per_hour": 36000},
                   {"domains": ["*.yahoo.com"], "max_concurrent_connections": 5, "max_messages_per_hour": 0,
                    "throttle_program": {"name": "Automatic Backoff"}}]},
        drift=(
            {"name": "conf-template-oob", "default.max_concurrent_connections": 11,
             "default.max_messages_per_hour": 7, "rules[0].domains": ["gmail.com"],
             "rules[0].max_concurrent_connections": 21, "rules[0].max_messages_per_hour": 1,
             "rules[0].throttle_program.name": "Automatic Backoff"},
        ),
        unseen={"rules[].throttle_program.id": "a program by id is the same object as by name: the name covers it"},
        update={"default": {"max_concurrent_connections": 12, "max_messages_per_hour": 0}},
        reorder={"rules": [{"domains": ["*.yahoo.com"], "max_concurrent_connections": 5, "max_messages_per_hour": 0,
                            "throttle_program": {"name": "Automatic Backoff"}},
                           {"domains": ["[*.]googlemail.com", "gmail.com"], "max_concurrent_connections": 20,
                            "max_messages_per_hour": 36000}]},
    ),
    Sample("pool", ThrottlingTemplateProvider,
           {"name": "conf-pool", "default": {"max_concurrent_connections": 4, "max_messages_per_hour": 0}},
           unseen=covered_on("template", "name", "default.max_concurrent_connections",
                             "default.max_messages_per_hour", "rules[].domains", "rules[].max_concurrent_connections",
                             "rules[].max_messages_per_hour", "rules[].throttle_program.id",
                             "rules[].throttle_program.name"),
           deletable=False),  # `outlook` is in it: deleted out of band, it takes the rule along
    Sample(
        "outlook", ThrottlingRuleProvider,
        {"template_id": Ref("pool"), "domains": ["outlook.com", "hotmail.com"], "max_concurrent_connections": 8,
         "max_messages_per_hour": 1200},
        drift=({"domains": ["outlook.com"], "max_concurrent_connections": 9, "max_messages_per_hour": 1300,
                "throttle_program.name": "Automatic Backoff"},),
        unseen={"template_id": "a rule cannot move to another template through the API (replace field)",
                "throttle_program.id": "covered by the name (the API answers both)"},
        update={"max_messages_per_hour": 1400},
        replace={"template_id": Ref("template")},
        reorder={"domains": ["hotmail.com", "outlook.com"]},
    ),
    Sample("spare", RouteProvider, {"name": "conf-spare", "requested_target_daily_volume": 1000},
           unseen={"name": "covered on `main`", "requested_target_daily_volume": "covered on `main`",
                   "overflow_route.id": "covered on `main`", "overflow_route.name": "covered on `overflow`"}),
    Sample("overflow", RouteProvider, {"name": "conf-overflow", "requested_target_daily_volume": 25000},
           drift=({"name": "conf-overflow-oob", "requested_target_daily_volume": 26000,
                   "overflow_route.name": "conf-spare"},),
           unseen={"overflow_route.id": "covered on `main`"},
           deletable=False),  # `main` overflows into it
    Sample("main", RouteProvider,
           {"name": "conf-main", "requested_target_daily_volume": 50000, "overflow_route": {"id": Ref("overflow")}},
           drift=({"name": "conf-main-oob", "requested_target_daily_volume": 51000,
                   "overflow_route.id": Ref("spare")},),
           unseen={"overflow_route.name": "covered on `overflow`"},
           update={"requested_target_daily_volume": 60000}),
)

SAMPLES: tuple[Sample, ...] = GREENARROW

# Types whose sample is still to be written (issue 22 is open until this is empty).
PENDING: frozenset[type[CrudProvider]] = frozenset({
    cleanmail_providers.DomainProvider, cleanmail_providers.DomainPolicyProvider,
    cleanmail_providers.DomainDkimProvider, cleanmail_providers.DomainDefaultPolicyProvider,
    cleanmail_providers.DomainAliasesProvider, cleanmail_providers.DomainAliasProvider,
    cleanmail_providers.UserProvider, cleanmail_providers.UserSignatureProvider,
    cleanmail_providers.EmailAliasProvider, cleanmail_providers.DomainOptionProvider,
    cleanmail_providers.UserOptionProvider, cleanmail_providers.AttachmentFilterProvider,
    cleanmail_providers.UriBlFilterProvider, cleanmail_providers.DomainSenderRuleProvider,
    cleanmail_providers.MailboxSenderRuleProvider, cleanmail_providers.DomainSenderRulesProvider,
    cleanmail_providers.MailboxSenderRulesProvider, cleanmail_providers.SenderRulesProvider,
    cleanmail_providers.DomainUsersAccessProvider, cleanmail_providers.AdminTokenProvider,
    cleanmail_providers.DomainAdminProvider, cleanmail_providers.AdminProvider,
    elemta_providers.DeliveryCheckProvider,
})


def leaf_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every input leaf of a model, nested models walked (`rules[].domains`)."""
    paths: list[str] = []
    for name, info in model.model_fields.items():
        nested, is_list = _nested(info.annotation)
        path = f"{prefix}{name}{'[]' if is_list and nested else ''}"
        paths += leaf_paths(nested, f"{path}.") if nested else [path]
    return paths


def _nested(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = typing.get_origin(annotation)
    for arg in typing.get_args(annotation):
        found, is_list = _nested(arg)
        if found is not None:
            return found, is_list or origin is list
    return None, False


def bare(path: str) -> str:
    """`rules[0].domains` -> `rules[].domains`."""
    return re.sub(r"\[\d+\]", "[]", path)
