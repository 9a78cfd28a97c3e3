"""Cleanmail emulator: a domain's attachment filters (5.8) and URI-BL filters (5.10), mixed into the backend.

Rules (docs/assumptions.md, "Cleanmail filtering rules"): enum values are answered upper-case as in the
docs' examples and accepted in any case; a domain may hold one rule per pattern (attachments: check type +
filter, URI-BL: filter; compared case-insensitively) — another is 409 "This item may already exists with same
rules"; `priority` is the rule's rank in its domain (1 = first added), `scope` the domain's name; there is no
GET of one filter, only the domain's paged list (sort, `action` filter)."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from .common import BadRequest, CleanmailStore, Conflict, NotFound, _now_ms, _text

FILTER_KINDS = {
    "attachment": {"actions": ("ALLOW", "DENY"),
                   "check_types": ("FILENAME", "CONTENTTYPE", "ARCHIVE-CONTENTTYPE", "ARCHIVE-FILENAME")},
    "uri": {"actions": ("URIDNSBL_SKIP_DOMAIN", "WHITELIST_URI_HOST", "BLACKLIST_URI_HOST"), "check_types": ()},
}


class FilterRules(CleanmailStore):
    """The backend's `<kind>_filter` objects (kinds: attachment, uri)."""

    def _filter_fields(self, kind: str, body: Any, current: Mapping[str, Any] | None) -> dict[str, Any]:
        if not isinstance(body, Mapping):
            raise BadRequest("the body must be a filter object")
        spec = FILTER_KINDS[kind]
        allowed = {"action", "filter", "description"} | ({"checkType"} if spec["check_types"] else set())
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise BadRequest(f"unknown field(s): {', '.join(unknown)}")
        out = dict(current or {})
        for key, choices in (("action", spec["actions"]), ("checkType", spec["check_types"])):
            if key not in allowed or (key not in body and current is not None):
                continue
            value = body.get(key)
            if not isinstance(value, str) or value.upper() not in choices:
                raise BadRequest(f"{key}: must be one of {', '.join(choices)}")
            out[key] = value.upper()
        if "filter" in body or current is None:
            value = _text("filter", body.get("filter"), required=True)
            if kind == "attachment":
                try:
                    re.compile(str(value))
                except re.error as exc:
                    raise BadRequest(f"filter: not a valid regular expression ({exc})") from None
            out["filter"] = value
        if "description" in body:
            out["description"] = _text("description", body.get("description"))
        return out

    def _same_rule(self, kind: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
        keys = ("checkType", "filter") if kind == "attachment" else ("filter",)
        return all(str(a.get(k, "")).lower() == str(b.get(k, "")).lower() for k in keys)

    def _refuse_duplicate(self, kind: str, rule: Mapping[str, Any]) -> None:
        for other in self._objects[f"{kind}_filter"].values():
            if other["domainId"] == rule["domainId"] and other["id"] != rule.get("id") and \
                    self._same_rule(kind, other, rule):
                raise Conflict("This item may already exists with same rules")

    def _filter(self, kind: str, filter_id: str) -> dict[str, Any]:
        found = self._objects[f"{kind}_filter"].get(filter_id)
        if found is None:
            raise NotFound(f"No {'attachment' if kind == 'attachment' else 'uriBl'} filter found with given id")
        return found

    def _render_filter(self, rule: Mapping[str, Any]) -> dict[str, Any]:
        public = {k: v for k, v in rule.items() if k != "domainId"}
        public["scope"] = self._objects["domain"][rule["domainId"]]["name"]
        return copy.deepcopy(public)

    def add_filter(self, kind: str, domain_id: str, body: Any) -> dict[str, Any]:
        with self._write():
            self._domain(domain_id)
            rule = self._filter_fields(kind, body, None)
            rule["domainId"] = domain_id
            rule.setdefault("description", None)
            self._refuse_duplicate(kind, rule)
            siblings = [r for r in self._objects[f"{kind}_filter"].values() if r["domainId"] == domain_id]
            rule.update(id=self._new_id(f"{kind}_filter"), createdDate=_now_ms(),
                        priority=max((r["priority"] for r in siblings), default=0) + 1)
            self._put(f"{kind}_filter", rule)
            return self._render_filter(rule)

    def list_filters(self, kind: str, domain_id: str, params: Mapping[str, str]) -> tuple[list[dict[str, Any]], int]:
        with self._lock:
            self._domain(domain_id)
            rules = [self._render_filter(r) for r in self._objects[f"{kind}_filter"].values()
                     if r["domainId"] == domain_id]
            action = params.get("action")
            if action:
                if action.upper() not in FILTER_KINDS[kind]["actions"]:
                    raise BadRequest(f"action: must be one of {', '.join(FILTER_KINDS[kind]['actions'])}")
                rules = [r for r in rules if r["action"] == action.upper()]
            return self.page(rules, {k: v for k, v in params.items() if k != "action"},
                             "action", ())

    def patch_filter(self, kind: str, filter_id: str, body: Any) -> None:
        with self._write():
            current = self._filter(kind, filter_id)
            rule = self._filter_fields(kind, body, current)
            self._refuse_duplicate(kind, rule)
            self._put(f"{kind}_filter", rule)

    def delete_filter(self, kind: str, filter_id: str) -> None:
        with self._write():
            self._filter(kind, filter_id)
            self._remove(f"{kind}_filter", filter_id)
