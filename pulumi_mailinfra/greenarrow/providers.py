"""GreenArrow Engine providers: each resource is a ResourceSpec and, where the API needs it, a hook or two.
The typed resource classes that programs use are generated from these (greenarrow/resources.py)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from ..errors import AmbiguousWriteError, NotFoundError, ValidationError
from ..provider import CrudProvider, ResourceSpec
from ..reconcile import canonical, reconcile, reference_matches
from .models import (
    RelayServerModel,
    RouteModel,
    RouteOutputs,
    ThrottlingRuleModel,
    ThrottlingTemplateModel,
    ThrottlingTemplateOutputs,
)

if TYPE_CHECKING:
    from ..http import ApiClient


# ----- relay servers ----------------------------------------------------------------------------------
class RelayServerProvider(CrudProvider):
    spec = ResourceSpec(
        type_name="RelayServer",
        description="A GreenArrow VirtualMTA that relays mail to another SMTP server. `destination.password` is "
        "always stored as a secret, even when given as a plain string.",
        title="relay server",
        replacement_note="The API refuses to delete a relay server other records use (409 `in_use`, naming them): a "
        "replacement fails, changing nothing, while another relay redirects to it.",
        service="greenarrow",
        model=RelayServerModel,
        collection="/relay_servers",
        wrapper="relay_server",
        items_key="relay_servers",
        secret_paths=("destination.password",),
    )


# ----- throttling templates ---------------------------------------------------------------------------
def _rule_key(rule: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(str(d).casefold() for d in rule.get("domains") or [])


def _same_rule(desired: Mapping[str, Any], live: Mapping[str, Any]) -> bool:
    """Equal as the API sees it (a throttle program by name matches the `{id, name}` it resolved to)."""
    return canonical(reconcile(dict(desired), _public_rule(live))) == canonical(dict(desired))


def plan_rule_changes(
    live_rules: Sequence[Mapping[str, Any]], new_rules: Sequence[Mapping[str, Any]], *, claim: bool = True
) -> tuple[list[int], list[tuple[int, Mapping[str, Any]]], list[Mapping[str, Any]], list[int | None]]:
    """Map desired rules onto the template's live rules (each with its `id`) so ids stay stable: first by
    identical domain set (survives reordering), then by the largest domain overlap (a rule that gained or
    lost domains keeps its id, and a reorder plus an extension is not mistaken for an exchange), then by
    position. With `claim=False` no live rule is reused: all are deleted and the desired ones added (the
    live rules belong to someone else, e.g. ThrottlingRule resources this template is taking over from).
    Returns (ids to delete, (id, rule) to update in a safe order, rules to add, the id of each desired rule
    or None where it is added)."""
    pool = [dict(r) for r in live_rules] if claim else []
    assigned: list[int | None] = [None] * len(new_rules)
    for index, rule in enumerate(new_rules):
        for slot, live in enumerate(pool):
            if _rule_key(live) == _rule_key(rule):
                assigned[index] = int(pool.pop(slot)["id"])
                break
    while True:
        overlaps = [(len(_rule_key(rule) & _rule_key(live)), -index, -slot)
                    for index, rule in enumerate(new_rules) if assigned[index] is None
                    for slot, live in enumerate(pool)]
        best = max(overlaps, default=None)
        if best is None or best[0] == 0:
            break
        assigned[-best[1]] = int(pool.pop(-best[2])["id"])
    for index in range(len(new_rules)):
        if assigned[index] is None and pool:
            assigned[index] = int(pool.pop(0)["id"])
    live_by_id = {int(r["id"]): r for r in live_rules}
    updates = {
        rule_id: rule
        for rule_id, rule in zip(assigned, new_rules, strict=True)
        if rule_id is not None and not _same_rule(rule, live_by_id[rule_id])
    }
    additions = [rule for rule_id, rule in zip(assigned, new_rules, strict=True) if rule_id is None]
    deletes = [int(r["id"]) for r in (pool if claim else live_rules)]
    held = {d: rid for rid, r in live_by_id.items() if rid not in deletes for d in _rule_key(r)}
    return deletes, _release_first(updates, held, live_by_id), additions, assigned


def _release_first(
    updates: dict[int, Mapping[str, Any]], held: dict[str, int], live_by_id: Mapping[int, Mapping[str, Any]]
) -> list[tuple[int, Mapping[str, Any]]]:
    """Order rule PUTs so none claims a domain another rule still holds (a domain may appear once per
    template). A cycle (rules swapping domains) is broken by first shrinking a rule to the domains it keeps."""
    pending, ordered, shrunk = dict(updates), [], set()
    while pending:
        ready = next((rid for rid, rule in pending.items()
                      if all(held.get(d, rid) == rid for d in _rule_key(rule))), None)
        if ready is None:
            ready = next((rid for rid, rule in pending.items()
                          if rid not in shrunk and _rule_key(rule) & _rule_key(live_by_id[rid])), None)
            if ready is None:
                raise ValueError("throttling rules exchange all their domains in one step; split the change "
                                 "over two updates")
            shrunk.add(ready)
            keep = [d for d in live_by_id[ready]["domains"] if str(d).casefold() in _rule_key(pending[ready])]
            ordered.append((ready, {**_public_rule(live_by_id[ready]), "domains": keep}))
            for domain in _rule_key(live_by_id[ready]) - _rule_key(pending[ready]):
                held.pop(domain, None)
            live_by_id = {**live_by_id, ready: {**live_by_id[ready], "domains": keep}}
            continue
        rule = pending.pop(ready)
        ordered.append((ready, rule))
        for domain in [d for d, rid in held.items() if rid == ready]:
            held.pop(domain)
        held.update({d: ready for d in _rule_key(rule)})
    return ordered


def match_rule_ids(api_rules: Sequence[Mapping[str, Any]], rules: Sequence[Mapping[str, Any]]) -> list[int | None]:
    """The id of the API rule holding each rule's domains (domains are unique per template, so exact)."""
    by_key = {_rule_key(r): r.get("id") for r in api_rules}
    return [by_key.get(_rule_key(rule)) for rule in rules]


class ThrottlingTemplateProvider(CrudProvider):
    """Inline `rules` are authoritative when given: changes go through the rule endpoints and `rules_new`
    so ids stay stable. When `rules` is omitted the template leaves its rules to ThrottlingRule
    resources (mixing both on one template would make them fight)."""

    form_family: ClassVar[str] = "rules"
    form_owner: ClassVar[str] = "template_id"
    form_self: ClassVar[str] = "rules"

    spec = ResourceSpec(
        type_name="ThrottlingTemplate",
        description="A named group of throttling rules, used by IP addresses as their default rules. Give "
        "`rules` to manage them here (authoritative; rule ids stay stable across edits and reorders), or omit "
        "it and manage them with `ThrottlingRule` resources.",
        title="throttling template",
        replacement_note="The API refuses to delete a template IP addresses use (409 `in_use`, naming them): a "
        "replacement fails, changing nothing, while one does. Inline `rules` are created again with it; "
        "`ThrottlingRule` resources naming it are replaced with it.",
        service="greenarrow",
        model=ThrottlingTemplateModel,
        collection="/throttling_templates",
        wrapper="throttling_template",
        items_key="throttling_templates",
        outputs_model=ThrottlingTemplateOutputs,
        unordered=("rules", "rules[].domains"),  # a domain is in one rule of a template: no order to keep
    )

    def outputs(self, inputs: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
        if inputs.get("rules") is None:  # rules managed elsewhere: not ours to report as drift
            outs = super().outputs(inputs, {k: v for k, v in record.items() if k != "rules"})
            outs["rules"], outs["rule_ids"] = None, []
            return outs
        api_rules = list(record.get("rules") or [])
        by_id = {r.get("id"): r for r in api_rules}
        desired = list(inputs.get("rules") or [])
        ids = record.get("rule_ids_in_order") or inputs.get("rule_ids") or match_rule_ids(api_rules, desired)
        ordered, rule_ids = [], []
        for rule_id, rule in zip(ids, desired, strict=False):
            if rule_id in by_id:  # a rule deleted out of band drops out: drift
                ordered.append(reconcile(dict(rule), _public_rule(by_id.pop(rule_id))))
                rule_ids.append(rule_id)
        for extra in api_rules:  # rules added out of band show up as drift too
            if extra.get("id") in by_id:
                ordered.append(_public_rule(extra))
                rule_ids.append(extra.get("id"))
        outs = super().outputs(inputs, {**record, "rules": ordered})
        outs["rules"], outs["rule_ids"] = canonical(ordered, keep_nulls=True), canonical(rule_ids)
        return outs

    def payload(self, args: BaseModel, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {"throttling_template": args.model_dump(mode="json", exclude_none=getattr(args, "rules", None) is None)}

    def send_create(self, client: ApiClient, body: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        record = super().send_create(client, body, inputs)
        return {**record, "rule_ids_in_order": [r["id"] for r in record.get("rules") or []]}

    def send_update(
        self, client: ApiClient, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], args: BaseModel
    ) -> dict[str, Any]:
        template = client.path(self.object_path(news, id_))
        body = args.model_dump(mode="json", exclude={"rules"})
        self.refuse_taken_name(client, id_, olds, news)
        if news.get("rules") is None:
            record = self.unwrap(client.request("PUT", template, json={"throttling_template": body}))
            # Rules this template managed inline until now would be left behind, unmanaged, and block the
            # ThrottlingRule resources that take over their domains: remove them.
            for rule_id in (olds.get("rule_ids") or []) if olds.get("rules") is not None else []:
                with contextlib.suppress(NotFoundError):
                    client.request("DELETE", f"{template}/throttling_rules/{canonical(rule_id)}")
            return self.fetch(client, id_, news) if olds.get("rule_ids") else record
        # Plan against the live rules, not the recorded ones: robust to out-of-band edits and to a
        # previous update that failed half-way. A template that did not manage its rules until now does not
        # claim the live ones (they may be ThrottlingRule resources' about to be deleted): it replaces them.
        live = self.fetch(client, id_, news).get("rules") or []
        rules = args.model_dump(mode="json")["rules"]
        claim = not olds or olds.get("rules") is not None  # `{}` when adopting: take the live rules over
        deletes, updates, additions, assigned = plan_rule_changes(live, rules, claim=claim)
        self.refuse_unknown_programs(client, live, rules)  # before anything destructive is sent
        for rule_id in deletes:  # deletes first: they free domains the others may take
            with contextlib.suppress(NotFoundError):  # already gone is what we wanted
                client.request("DELETE", f"{template}/throttling_rules/{rule_id}")
        for rule_id, rule in updates:
            client.request("PUT", f"{template}/throttling_rules/{rule_id}", json={"throttling_rule": rule})
        payload = {"throttling_template": body | {"rules_new": additions}}
        try:
            # rules_new appends: a blind retry could add twice, so this PUT is not retried automatically.
            record = self.unwrap(client.request("PUT", template, json=payload, idempotent=not additions))
        except AmbiguousWriteError:
            record = self.fetch(client, id_, news)
            if None in match_rule_ids(record.get("rules") or [], additions):
                record = self.unwrap(client.request("PUT", template, json=payload, idempotent=False))
        fresh = iter(match_rule_ids(record.get("rules") or [], additions))
        ids = [rid if rid is not None else next(fresh, None) for rid in assigned]
        return {**record, "rule_ids_in_order": ids}

    def refuse_taken_name(self, client: ApiClient, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any]) -> None:
        """A rename to a name another template has fails on the template PUT, which comes after the rule
        changes: look it up first (one read, only when the name changes) so nothing is changed in vain."""
        name = news.get("name")
        if not isinstance(name, str) or str(olds.get("name", "")).casefold() == name.casefold():
            return
        other = client.find_by_name(self.collection_path(news), self.spec.items_key, name)
        if other is not None and str(other.get("id")) != str(id_):
            raise ValidationError("greenarrow", "PUT", self.object_path(news, id_), None, "validation_error", [
                f"throttling_template.name: a throttling template named {other.get('name')!r} already exists "
                f"(id {other.get('id')}); nothing was changed"])

    def refuse_unknown_programs(
        self, client: ApiClient, live: Sequence[Mapping[str, Any]], rules: Sequence[Mapping[str, Any]]
    ) -> None:
        """Throttle programs are resolved by the server when a rule is written, after deletes may have run:
        resolve the references the live rules do not already carry first (one read, only then). A server
        without the (undocumented) throttle program list is trusted as before."""
        known = [r.get("throttle_program") for r in live if isinstance(r.get("throttle_program"), Mapping)]
        wanted = [(i, r["throttle_program"]) for i, r in enumerate(rules) if r.get("throttle_program")]
        unresolved = [(i, ref) for i, ref in wanted if not any(reference_matches(ref, k) for k in known)]
        if not unresolved:
            return
        try:
            programs = list(client.list_all("/throttle_programs", "throttle_programs"))
        except NotFoundError:
            return
        missing = [f"throttling_template.rules[{i}].throttle_program: no throttle program matches {ref}"
                   for i, ref in unresolved if not any(reference_matches(ref, p) for p in programs)]
        if missing:
            names = ", ".join(repr(p.get("name")) for p in programs)
            raise ValidationError("greenarrow", "PUT", "/throttling_templates", None, "validation_error",
                                  [*missing, f"(known: {names}); nothing was changed"])


def _public_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rule.items() if k != "id"}


# ----- standalone throttling rules --------------------------------------------------------------------
class ThrottlingRuleProvider(CrudProvider):
    """A rule of a template managed elsewhere. Moving it to another template replaces it."""

    form_family: ClassVar[str] = "rules"
    form_owner: ClassVar[str] = "template_id"

    spec = ResourceSpec(
        type_name="ThrottlingRule", identity=("domains",),
        description="One throttling rule in a template whose `rules` are not managed inline. Moving it to "
        "another template (`template_id`) replaces it.",
        title="throttling rule",
        service="greenarrow",
        model=ThrottlingRuleModel,
        collection="/throttling_templates/{template_id}/throttling_rules",
        wrapper="throttling_rule",
        items_key="rules",
        replace_on=frozenset({"template_id"}),
        not_sent=frozenset({"template_id"}),
        name_field=None,
        unordered=("domains",),
    )

    @staticmethod
    def template_rules(client: ApiClient, inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
        # No single-rule GET is documented: rules are read through their template.
        template = client.get(client.path(f"/throttling_templates/{canonical(inputs['template_id'])}"))
        return [dict(rule) for rule in (template.get("throttling_template") or {}).get("rules") or []]

    def fetch(self, client: ApiClient, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        for rule in self.template_rules(client, inputs):
            if str(rule.get("id")) == str(id_):
                return rule
        raise NotFoundError("greenarrow", "GET", f"throttling rule {id_}", 404, "not_found",
                            [f"rule {id_} is not in template {inputs['template_id']}"])

    def find_existing(self, client: ApiClient, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        wanted = _rule_key(inputs)
        return next((rule for rule in self.template_rules(client, inputs) if _rule_key(rule) == wanted), None)

    # How long a rule waits for a domain another rule of its template is releasing in the same `up`.
    domain_wait_seconds: ClassVar[float] = 30.0

    def send_create(self, client: ApiClient, body: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        return self._when_domains_free(client, inputs, None, lambda: super(ThrottlingRuleProvider, self)
                                       .send_create(client, body, inputs))

    def send_update(
        self, client: ApiClient, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], args: BaseModel
    ) -> dict[str, Any]:
        return self._when_domains_free(client, news, id_, lambda: super(ThrottlingRuleProvider, self)
                                       .send_update(client, id_, olds, news, args))

    def _when_domains_free(
        self, client: ApiClient, inputs: Mapping[str, Any], id_: str | None, write: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """Moving a domain between two standalone rules (r1 [a, x] -> [a] while r2 [b] -> [b, x]) is two
        updates the engine runs at once: r2's may reach the server first and be refused, a domain being
        allowed once per template. When the refusal is that (another rule holds one of our domains), wait
        for it to be released, within a bound; any other refusal, or a domain never released, fails."""
        deadline, delay = time.monotonic() + self.domain_wait_seconds, 0.2
        released_retry = False
        while True:
            try:
                return write()
            except ValidationError:
                others = [rule for rule in self.template_rules(client, inputs) if str(rule.get("id")) != str(id_)]
                if id_ is None and any(_rule_key(rule) == _rule_key(inputs) for rule in others):
                    raise  # a rule with exactly our domains: create takes it over or says how it differs
                held = {d for rule in others for d in _rule_key(rule)}
                if not held & _rule_key(inputs):
                    # No other rule holds our domains now: released between the refusal and this look (found by
                    # the concurrency test), so one more try decides; a refusal for another reason stands.
                    if released_retry:
                        raise
                    released_retry = True
                    continue
                if time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 2.0)


# ----- CloudMTA routes --------------------------------------------------------------------------------
class RouteProvider(CrudProvider):
    spec = ResourceSpec(
        type_name="Route",
        description="A GreenArrow CloudMTA route: creating it provisions IP addresses from GreenArrow Cloud and a "
        "routing rule that directs mail through them.",
        title="route",
        replacement_note="Deleting a route points its routing rule at the \"dump from queue\" relay server and removes "
        "its IP addresses: mail routed through it between the delete and the create is dumped. Replace a "
        "route in a quiet window.",
        service="greenarrow",
        model=RouteModel,
        collection="/routes",
        wrapper="route",
        items_key="routes",
        outputs_model=RouteOutputs,
    )


