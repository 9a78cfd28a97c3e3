"""Cleanmail emulator: sender rules, the white / block lists (5.9), mixed into the backend.

Rules (docs/assumptions.md, "Cleanmail sender rules"): a rule's owner is a domain (its name) or a mailbox (its
address); `value` is an address or a domain; one rule per owner and value (compared case-insensitively) — a
second is 409 "An identical rule may already exists"; `spfOn` is required for ALLOW rules and answered null
for the others; an `expireAt` (epoch ms) in the past is 422 on create and replace; expired rules stay listed
with their `expireAt`; a bulk rule whose owner is no known domain or mailbox is 422."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from .common import BadRequest, CleanmailStore, Conflict, NotFound, Unprocessable, _now_ms, _text

RULE_TYPES = ("ALLOW", "BLOCK", "PROTECTED")
_ADDRESS = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_DOMAIN = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))+")


class SenderRules(CleanmailStore):
    """The backend's `sender_rule` objects, owned by a domain or a user."""

    def _owner_of(self, owner_kind: str, owner_id: str) -> str:
        if owner_kind == "domain":
            return str(self._domain(owner_id)["name"])
        user = self._objects["user"].get(owner_id)
        if user is None:
            raise NotFound("User may not exist")
        return str(user["email"])

    def _owner_by_name(self, owner: Any) -> tuple[str, str]:
        if not isinstance(owner, str) or not owner:
            raise BadRequest("owner: must be a mailbox address or a domain name")
        wanted = owner.lower()
        for user in self._objects["user"].values():
            if user["email"].lower() == wanted:
                return "user", user["id"]
        for domain in self._objects["domain"].values():
            if domain["name"].lower() == wanted and domain["status"] != "DELETED":
                return "domain", domain["id"]
        raise Unprocessable(f"owner: {owner} is not a known domain or mailbox")

    def _rule_fields(self, body: Any, with_owner: bool = False) -> dict[str, Any]:
        allowed = {"value", "type", "expireAt", "description", "spfOn"} | ({"owner"} if with_owner else set())
        if not isinstance(body, Mapping):
            raise BadRequest("each rule must be a FilterSenderAdd object")
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise BadRequest(f"unknown field(s): {', '.join(unknown)}")
        value = body.get("value")
        if not isinstance(value, str) or not (_ADDRESS.fullmatch(value) or _DOMAIN.fullmatch(value)):
            raise BadRequest("value: must be an email address or a domain name")
        kind = body.get("type")
        if not isinstance(kind, str) or kind.upper() not in RULE_TYPES:
            raise BadRequest(f"type: must be one of {', '.join(RULE_TYPES)}")
        expire_at = body.get("expireAt")
        if expire_at is not None:
            if not isinstance(expire_at, int) or isinstance(expire_at, bool):
                raise BadRequest("expireAt: must be a date (epoch milliseconds)")
            if expire_at <= _now_ms():
                raise Unprocessable("expireAt: the expiration date must be in the future")
        spf_on = body.get("spfOn")
        if kind.upper() == "ALLOW" and not isinstance(spf_on, bool):
            raise BadRequest("spfOn: required for an allowlist rule")
        if expire_at is not None:
            expire_at -= expire_at % 1000  # stored dates are answered cut to the second, as the docs' examples show
        return {"value": value.lower(), "type": kind.upper(), "expireAt": expire_at,
                "description": _text("description", body.get("description")),
                "spfOn": spf_on if kind.upper() == "ALLOW" else None}

    def _rules_of(self, owner_kind: str, owner_id: str) -> list[dict[str, Any]]:
        return [r for r in self._objects["sender_rule"].values()
                if r["ownerKind"] == owner_kind and r["ownerId"] == owner_id]

    def _new_rules(self, owner_kind: str, owner_id: str, bodies: list[Any],
                   keep: list[dict[str, Any]]) -> list[dict[str, Any]]:
        owner = self._owner_of(owner_kind, owner_id)
        taken = {r["value"] for r in keep}
        made = []
        for body in bodies:
            rule = self._rule_fields(body)
            if rule["value"] in taken:
                raise Conflict("An identical rule may already exists")
            taken.add(rule["value"])
            rule.update(id=self._new_id("sender_rule"), owner=owner, ownerKind=owner_kind, ownerId=owner_id,
                        createdDate=_now_ms())
            made.append(rule)
        return made

    @staticmethod
    def _render_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
        return copy.deepcopy({k: v for k, v in rule.items() if k not in ("ownerKind", "ownerId")})

    @staticmethod
    def _listed(body: Any) -> list[Any]:
        if not isinstance(body, list):
            raise BadRequest("the body must be a list of rules")
        return body

    def add_rules(self, owner_kind: str, owner_id: str, body: Any) -> list[dict[str, Any]]:
        """POST /domains/{id}/wblist, /users/{id}/wblist: 201 with the added rules."""
        with self._write():
            made = self._new_rules(owner_kind, owner_id, self._listed(body), self._rules_of(owner_kind, owner_id))
            for rule in made:
                self._put("sender_rule", rule)
            return [self._render_rule(r) for r in made]

    def set_rules(self, owner_kind: str, owner_id: str, body: Any) -> list[dict[str, Any]]:
        """PUT /.../wblist: the owner's whole list replaced by the given one."""
        with self._write():
            made = self._new_rules(owner_kind, owner_id, self._listed(body), [])
            for rule in self._rules_of(owner_kind, owner_id):
                self._remove("sender_rule", rule["id"])
            for rule in made:
                self._put("sender_rule", rule)
            return [self._render_rule(r) for r in made]

    def bulk_add_rules(self, body: Any) -> list[dict[str, Any]]:
        """POST /wblist: rules for any owners (FilterSenderItem, with `owner`)."""
        with self._write():
            made = []
            for item in self._listed(body):
                owner_kind, owner_id = self._owner_by_name(item.get("owner") if isinstance(item, Mapping) else None)
                fields = {k: v for k, v in item.items() if k != "owner"}
                created = self._new_rules(owner_kind, owner_id, [fields],
                                          self._rules_of(owner_kind, owner_id) + [
                                              r for r in made if r["ownerId"] == owner_id])
                made += created
            for rule in made:
                self._put("sender_rule", rule)
            return [self._render_rule(r) for r in made]

    def list_rules(self, owner_kind: str, owner_id: str, params: Mapping[str, str]) -> tuple[list[dict[str, Any]], int]:
        with self._lock:
            self._owner_of(owner_kind, owner_id)
            rules = [self._render_rule(r) for r in self._rules_of(owner_kind, owner_id)]
            kind = params.get("type")
            if kind:
                rules = [r for r in rules if r["type"] == kind.upper()]
            return self.page(rules, {k: v for k, v in params.items() if k != "type"},
                             "owner" if owner_kind == "domain" else "id", ("value",))

    def _rule(self, owner_kind: str, owner_id: str, rule_id: str) -> dict[str, Any]:
        self._owner_of(owner_kind, owner_id)
        rule = self._objects["sender_rule"].get(rule_id)
        if rule is None or rule["ownerKind"] != owner_kind or rule["ownerId"] != owner_id:
            raise NotFound("A problem occured. The rule may not exist")
        return rule

    def replace_rule(self, owner_kind: str, owner_id: str, rule_id: str, body: Any) -> dict[str, Any]:
        """PUT /.../wblist/{id}: the rule replaced by another (same id)."""
        with self._write():
            current = self._rule(owner_kind, owner_id, rule_id)
            fields = self._rule_fields(body)
            others = [r for r in self._rules_of(owner_kind, owner_id) if r["id"] != rule_id]
            if fields["value"] in {r["value"] for r in others}:
                raise Conflict("An identical rule may already exists")
            rule = {**current, **fields}
            self._put("sender_rule", rule)
            return self._render_rule(rule)

    def delete_rule(self, owner_kind: str, owner_id: str, rule_id: str) -> None:
        with self._write():
            self._rule(owner_kind, owner_id, rule_id)
            self._remove("sender_rule", rule_id)
