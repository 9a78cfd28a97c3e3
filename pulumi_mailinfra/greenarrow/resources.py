"""GreenArrow Engine resources: each one a ResourceSpec, a provider class and a typed constructor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pydantic import BaseModel

from ..http import ApiClient
from ..provider import CLIENT_FACTORIES, CrudProvider, ResourceSpec
from ..reconcile import canonical, reconcile
from ..resource import MailinfraResource
from .client import greenarrow_client
from .models import (
    RelayServerArgs,
    RouteArgs,
    ThrottlingRuleResourceArgs,
    ThrottlingTemplateArgs,
)

CLIENT_FACTORIES["greenarrow"] = greenarrow_client
Input = pulumi.Input


# ----- relay servers ----------------------------------------------------------------------------------
class RelayServerProvider(CrudProvider):
    spec = ResourceSpec(
        title="relay server",
        service="greenarrow",
        model=RelayServerArgs,
        collection="/relay_servers",
        wrapper="relay_server",
        items_key="relay_servers",
        secret_paths=("destination.password",),
    )


class RelayServer(MailinfraResource, module="greenarrow", name="RelayServer"):
    """A GreenArrow VirtualMTA that relays to another SMTP server. `destination.password` is always
    stored as a secret. `redirect` takes `{"id": other.id}` or `{"name": ...}` of any VirtualMTA."""

    name: pulumi.Output[str]
    source_ip: pulumi.Output[dict[str, Any]]
    destination: pulumi.Output[dict[str, Any]]
    throttle_limits: pulumi.Output[dict[str, Any]]
    redirect: pulumi.Output[dict[str, Any] | None]

    def __init__(
        self,
        resource_name: str,
        *,
        source_ip: Input[Mapping[str, Any]],
        destination: Input[Mapping[str, Any]],
        name: Input[str] | None = None,
        throttle_limits: Input[Mapping[str, Any]] | None = None,
        redirect: Input[Mapping[str, Any]] | None = None,
        adopt_existing: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "name": name,
            "source_ip": source_ip,
            "destination": destination,
            "throttle_limits": throttle_limits or {"max_concurrent_connections": 0, "max_messages_per_hour": 0},
            "redirect": redirect,
        }
        super().__init__(RelayServerProvider(), resource_name, props, opts, adopt_existing=adopt_existing)


# ----- throttling templates ---------------------------------------------------------------------------
def _rule_key(rule: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(str(d).casefold() for d in rule.get("domains") or [])


def plan_rule_changes(
    old_rules: Sequence[Mapping[str, Any]], old_ids: Sequence[Any], new_rules: Sequence[Mapping[str, Any]]
) -> tuple[list[int], list[tuple[int, Mapping[str, Any]]], list[Mapping[str, Any]], list[int | None]]:
    """Map desired rules onto existing rule ids so unchanged rules keep their ids: first by identical
    domain set (survives reordering), then by position. Returns (ids to delete, (id, rule) to update,
    rules to add, the id of each new rule or None where it is added)."""
    pool = [(int(i), dict(r)) for i, r in zip(old_ids, old_rules, strict=False) if i is not None]
    assigned: list[int | None] = [None] * len(new_rules)
    for index, rule in enumerate(new_rules):
        for slot, (rule_id, old) in enumerate(pool):
            if _rule_key(old) == _rule_key(rule):
                assigned[index] = rule_id
                pool.pop(slot)
                break
    for index in range(len(new_rules)):
        if assigned[index] is None and pool:
            assigned[index] = pool.pop(0)[0]
    old_by_id = {int(i): canonical(dict(r)) for i, r in zip(old_ids, old_rules, strict=False) if i is not None}
    updates = [
        (rule_id, rule)
        for rule_id, rule in zip(assigned, new_rules, strict=True)
        if rule_id is not None and old_by_id.get(rule_id) != canonical(dict(rule))
    ]
    additions = [rule for rule_id, rule in zip(assigned, new_rules, strict=True) if rule_id is None]
    return [rule_id for rule_id, _ in pool], updates, additions, assigned


class ThrottlingTemplateProvider(CrudProvider):
    """Inline `rules` are authoritative when given: changes go through the rule endpoints and `rules_new`
    so ids stay stable. When `rules` is omitted the template leaves its rules to ThrottlingRule
    resources (mixing both on one template would make them fight)."""

    spec = ResourceSpec(
        title="throttling template",
        service="greenarrow",
        model=ThrottlingTemplateArgs,
        collection="/throttling_templates",
        wrapper="throttling_template",
        items_key="throttling_templates",
        computed=("rule_ids",),
    )

    def outputs(self, inputs: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
        if inputs.get("rules") is None:  # rules managed elsewhere: not ours to report as drift
            outs = super().outputs(inputs, {k: v for k, v in record.items() if k != "rules"})
            outs["rules"], outs["rule_ids"] = None, []
            return outs
        api_rules = list(record.get("rules") or [])
        by_id = {r.get("id"): r for r in api_rules}
        ids = record.get("rule_ids_in_order") or inputs.get("rule_ids") or []
        ordered, rule_ids = [], []
        for rule_id, rule in zip(ids, inputs.get("rules") or [], strict=False):
            if rule_id in by_id:  # a rule deleted out of band drops out: drift
                ordered.append(reconcile(dict(rule), _public_rule(by_id.pop(rule_id))))
                rule_ids.append(rule_id)
        for extra in api_rules:  # rules added out of band show up as drift too
            if extra.get("id") in by_id:
                ordered.append(_public_rule(extra))
                rule_ids.append(extra.get("id"))
        outs = super().outputs(inputs, {**record, "rules": ordered})
        outs["rules"], outs["rule_ids"] = canonical(ordered), canonical(rule_ids)
        return outs

    def payload(self, args: BaseModel, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {"throttling_template": args.model_dump(mode="json")}

    def send_create(self, client: ApiClient, body: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        record = super().send_create(client, body, inputs)
        return {**record, "rule_ids_in_order": [r["id"] for r in record.get("rules") or []]}

    def send_update(
        self, client: ApiClient, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], args: BaseModel
    ) -> dict[str, Any]:
        template = self.api_path(client, self.object_path(news, id_))
        if news.get("rules") is None:
            body = args.model_dump(mode="json", exclude={"rules"})
            return self.unwrap(client.request("PUT", template, json={"throttling_template": body}))
        if not olds or olds.get("rules") is None:  # adopting: read the live rules so they can be matched
            live = self.fetch(client, id_, news)
            olds = {"rules": [_public_rule(r) for r in live.get("rules") or []],
                    "rule_ids": [r["id"] for r in live.get("rules") or []]}
        rules = args.model_dump(mode="json")["rules"]
        deletes, updates, additions, assigned = plan_rule_changes(
            olds.get("rules") or [], olds.get("rule_ids") or [], rules
        )
        for rule_id in deletes:  # deletes first: they free domains the others may take
            client.request("DELETE", f"{template}/throttling_rules/{rule_id}")
        for rule_id, rule in updates:
            client.request("PUT", f"{template}/throttling_rules/{rule_id}", json={"throttling_rule": rule})
        body = args.model_dump(mode="json", exclude={"rules"}) | {"rules_new": additions}
        before = {rid for rid in assigned if rid is not None}
        record = self.unwrap(client.request("PUT", template, json={"throttling_template": body}))
        fresh = iter(r["id"] for r in record.get("rules") or [] if r["id"] not in before)
        ids = [rid if rid is not None else next(fresh, None) for rid in assigned]
        return {**record, "rule_ids_in_order": ids}


def _public_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rule.items() if k != "id"}


class ThrottlingTemplate(MailinfraResource, module="greenarrow", name="ThrottlingTemplate"):
    """A named group of throttling rules. `rule_ids` lists the API id of each rule, in `rules` order.
    Omit `rules` to manage the template's rules with ThrottlingRule resources instead."""

    name: pulumi.Output[str]
    default: pulumi.Output[dict[str, Any]]
    rules: pulumi.Output[list[dict[str, Any]]]
    rule_ids: pulumi.Output[list[int]]

    def __init__(
        self,
        resource_name: str,
        *,
        default: Input[Mapping[str, Any]],
        rules: Input[Sequence[Input[Mapping[str, Any]]]] | None = None,
        name: Input[str] | None = None,
        adopt_existing: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {"name": name, "default": default, "rules": rules}
        super().__init__(ThrottlingTemplateProvider(), resource_name, props, opts, adopt_existing=adopt_existing)


# ----- standalone throttling rules --------------------------------------------------------------------
class ThrottlingRuleProvider(CrudProvider):
    """A rule of a template managed elsewhere. Moving it to another template replaces it."""

    spec = ResourceSpec(
        title="throttling rule",
        service="greenarrow",
        model=ThrottlingRuleResourceArgs,
        collection="/throttling_templates/{template_id}/throttling_rules",
        wrapper="throttling_rule",
        items_key="rules",
        replace_on=frozenset({"template_id"}),
        not_sent=frozenset({"template_id"}),
        name_field=None,
    )

    def fetch(self, client: ApiClient, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        # No single-rule GET is documented: read the template and pick the rule.
        from ..errors import NotFoundError

        template = client.get(self.api_path(client, f"/throttling_templates/{canonical(inputs['template_id'])}"))
        for rule in (template.get("throttling_template") or {}).get("rules") or []:
            if str(rule.get("id")) == str(id_):
                return dict(rule)
        raise NotFoundError("greenarrow", "GET", f"throttling rule {id_}", 404, "not_found",
                            [f"rule {id_} is not in template {inputs['template_id']}"])

    def find_existing(self, client: ApiClient, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        template = client.get(self.api_path(client, f"/throttling_templates/{canonical(inputs['template_id'])}"))
        wanted = _rule_key(inputs)
        for rule in (template.get("throttling_template") or {}).get("rules") or []:
            if _rule_key(rule) == wanted:
                return dict(rule)
        return None


class ThrottlingRule(MailinfraResource, module="greenarrow", name="ThrottlingRule"):
    """One throttling rule in an existing template (`template_id` accepts another resource's id)."""

    template_id: pulumi.Output[int]
    domains: pulumi.Output[list[str]]

    def __init__(
        self,
        resource_name: str,
        *,
        template_id: Input[int | str],
        domains: Input[Sequence[Input[str]]],
        max_concurrent_connections: Input[int] = 0,
        max_messages_per_hour: Input[int] = 0,
        throttle_program: Input[Mapping[str, Any]] | None = None,
        adopt_existing: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "template_id": pulumi.Output.from_input(template_id).apply(lambda v: int(v)),
            "domains": domains,
            "max_concurrent_connections": max_concurrent_connections,
            "max_messages_per_hour": max_messages_per_hour,
            "throttle_program": throttle_program,
        }
        super().__init__(ThrottlingRuleProvider(), resource_name, props, opts, adopt_existing=adopt_existing)


# ----- CloudMTA routes --------------------------------------------------------------------------------
class RouteProvider(CrudProvider):
    spec = ResourceSpec(
        title="route",
        service="greenarrow",
        model=RouteArgs,
        collection="/routes",
        wrapper="route",
        items_key="routes",
        computed=("recommended_max_daily_volume", "recommended_max_delivery_rate_per_hour", "routing_rule"),
    )


class Route(MailinfraResource, module="greenarrow", name="Route"):
    """A GreenArrow CloudMTA route. `overflow_route` takes `{"id": other.id}` or `{"name": ...}`."""

    name: pulumi.Output[str]
    requested_target_daily_volume: pulumi.Output[int]
    overflow_route: pulumi.Output[dict[str, Any] | None]
    recommended_max_daily_volume: pulumi.Output[int]
    recommended_max_delivery_rate_per_hour: pulumi.Output[int]
    routing_rule: pulumi.Output[dict[str, Any]]

    def __init__(
        self,
        resource_name: str,
        *,
        requested_target_daily_volume: Input[int],
        name: Input[str] | None = None,
        overflow_route: Input[Mapping[str, Any]] | None = None,
        adopt_existing: bool = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "name": name,
            "requested_target_daily_volume": requested_target_daily_volume,
            "overflow_route": overflow_route,
        }
        super().__init__(RouteProvider(), resource_name, props, opts, adopt_existing=adopt_existing,
                         autoname_max_length=180)
