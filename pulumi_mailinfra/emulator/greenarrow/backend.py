"""GreenArrow Engine API v3 emulator: state and rules, without HTTP.

Every public method takes and returns plain JSON-able data shaped like the ``data`` part of the
documented responses (``{"relay_server": {...}}``, ``{"routes": [...], "pagination": {...}}``)
and raises :class:`ValidationFailed`, :class:`NotFound` or :class:`InUse`. Path ids may be given
as ``int`` or as the raw path string; anything that is not a non-negative integer is "not found".

Model:

* IP addresses, relay servers and routing rules are VirtualMTAs: one id sequence and one name
  namespace, unique case-insensitively across the three types.
* Throttling templates own their throttling rules; rule ids come from their own sequence and
  never change. ``PUT`` of a template appends ``rules_new``; sending ``rules`` there is refused
  (the docs' table of update "exceptions" was lost; this is our documented assumption).
* Routes (CloudMTA) each own a routing rule VirtualMTA named ``"<route name> R<route id>"``.

Simplifications compared to the real service:

* A route's provisioned IPs are only counted (``ips = max(1, ceil(requested / 50000))`` at
  creation, fixed afterwards); they are not created as IP address records.
* Deleting a route removes the route *and* its routing rule. The real service keeps the routing
  rule and redirects it to the "dump from queue" relay server.
* Domain uniqueness inside a template compares the patterns as written (case-insensitively), so
  ``example.com`` and ``[*.]example.com`` may coexist.

Persistence: with ``state_path`` every successful write is committed to a SQLite file (tables
``objects(kind, id, doc)`` and ``meta(key, value)``, rows namespaced with ``greenarrow/`` so other
emulated services can share the file); without it the state lives in memory only.
"""

from __future__ import annotations

import base64
import binascii
import copy
import ipaddress
import json
import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from ..store import ObjectStore

PER_PAGE = 100
MAX_RULES = 250
IPS_PER_VOLUME = 50_000
DAILY_VOLUME_PER_IP = 25_000
HOURLY_RATE_PER_IP = 10_000
NAMESPACE = "greenarrow"
VMTA_KINDS = ("ip_address", "relay_server", "routing_rule")
KINDS = (*VMTA_KINDS, "throttling_template", "route")
SEQUENCES = ("virtual_mta", "throttling_template", "throttling_rule", "route")
LABELS = {
    "ip_address": "IP Address",
    "relay_server": "Relay Server",
    "routing_rule": "Routing Rule",
    "throttling_template": "Throttling Template",
    "route": "Route",
}
THROTTLE_PROGRAMS: tuple[dict[str, Any], ...] = ({"id": 1, "name": "Automatic Backoff"},)

# --------------------------------------------------------------------------------------------
# Errors


class GreenArrowError(Exception):
    """Base of the errors the emulator answers with the GreenArrow error envelope."""

    status = 400
    code = "error"
    headers: ClassVar[dict[str, str]] = {}

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


class ValidationFailed(GreenArrowError):
    status = 400
    code = "validation_error"


class NotFound(GreenArrowError):
    status = 404
    code = "not_found"

    def __init__(self, message: str) -> None:
        super().__init__([message])


class InUse(GreenArrowError):
    status = 409
    code = "in_use"

    def __init__(self, message: str, users: list[dict[str, Any]]) -> None:
        super().__init__([message])
        self.users = users


# --------------------------------------------------------------------------------------------
# Declarative validation


class _Errors:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.messages.append(f"{path}: {message}")

    def raise_any(self) -> None:
        if self.messages:
            raise ValidationFailed(self.messages)


Check = Callable[[_Errors, str, Any], Any]


@dataclass(frozen=True)
class F:
    """One field: a check function (or a nested spec), whether it is required, its default."""

    check: Check | dict[str, F]
    required: bool = True
    default: Any = None


Spec = dict[str, F]
_INTEGER = re.compile(r"[+-]?[0-9]+")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"(?:\[\*\.\]|\*\.)?({_LABEL}(?:\.{_LABEL})*)")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def int_range(low: int, high: int | None = None) -> Check:
    if high is None:
        message = f"must be an integer greater than or equal to {low}"
    else:
        message = f"must be an integer from {low} to {high}"

    def check(errors: _Errors, path: str, value: Any) -> Any:
        if not _is_int(value) or value < low or (high is not None and value > high):
            errors.add(path, message)
        return value

    return check


def optional_string(max_length: int) -> Check:
    def check(errors: _Errors, path: str, value: Any) -> Any:
        if value is not None and (not isinstance(value, str) or len(value) > max_length):
            errors.add(path, f"must be null or a string of at most {max_length} characters")
        return value

    return check


def name_check(
    max_length: int, allowed: Callable[[str], bool], allowed_message: str, *, trimmed: bool, not_integer: bool
) -> Check:
    """A name rule: length 1..max_length, allowed characters, optionally trimmed / not an integer."""

    def check(errors: _Errors, path: str, value: Any) -> Any:
        if not isinstance(value, str):
            errors.add(path, "must be a string")
            return value
        if not 1 <= len(value) <= max_length:
            errors.add(path, f"must be from 1 to {max_length} characters in length")
        if not all(allowed(c) for c in value):
            errors.add(path, allowed_message)
        if trimmed and value != value.strip():
            errors.add(path, "must not have leading nor trailing whitespace")
        if not_integer and _INTEGER.fullmatch(value):
            errors.add(path, "must not be an integer")
        return value

    return check


def _printable(char: str) -> bool:
    return 0x20 <= ord(char) <= 0x7E


vmta_name = name_check(
    200,
    lambda c: _printable(c) and c not in ",#@",
    "must contain only ASCII characters in the range 0x20-0x7e, excluding comma, pound, and at-sign",
    trimmed=True,
    not_integer=True,
)
template_name = name_check(
    200,
    _printable,
    "must contain only ASCII characters in the range 0x20-0x7e",
    trimmed=True,
    not_integer=False,
)
route_name = name_check(
    180,
    lambda c: _alnum(c) or c in " -_.",
    "must contain only letters, digits, spaces, '-', '_' and '.'",
    trimmed=True,
    not_integer=True,
)
non_negative = int_range(0)


def hostname(errors: _Errors, path: str, value: Any) -> Any:
    if not isinstance(value, str):
        errors.add(path, "must be a string")
    elif not 1 <= len(value) <= 200:
        errors.add(path, "must be from 1 to 200 characters in length")
    elif not (_alnum(value[0]) and _alnum(value[-1])):
        errors.add(path, "must start and end with a letter or number")
    return value


def ipv4(errors: _Errors, path: str, value: Any) -> Any:
    try:
        ok = isinstance(value, str) and value.isascii() and str(ipaddress.IPv4Address(value)) == value
    except ValueError:
        ok = False
    if not ok:
        errors.add(path, "must be a valid IPv4 address in dotted-decimal notation")
    return value


def domains(errors: _Errors, path: str, value: Any) -> Any:
    if not isinstance(value, list) or not value:
        errors.add(path, "must be a non-empty list of domains")
        return value
    for i, domain in enumerate(value):
        match = _DOMAIN.fullmatch(domain) if isinstance(domain, str) and domain.isascii() else None
        if match is None or len(match.group(1)) > 253:
            errors.add(f"{path}[{i}]", "must be a domain name, optionally prefixed with '*.' or '[*.]'")
    return value


def reference(*read_only: str) -> Check:
    """null or a hash naming a record by ``id`` or ``name``; ``id`` wins. Normalised to one key."""

    def check(errors: _Errors, path: str, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, dict):
            errors.add(path, "must be null or a hash with an id or a name")
            return None
        for key in value:
            if key not in ("id", "name", *read_only):
                errors.add(f"{path}.{key}", "is not a recognized field")
        if value.get("id") is not None:
            if _is_int(value["id"]):
                return {"id": value["id"]}
            errors.add(f"{path}.id", "must be an integer")
        elif isinstance(value.get("name"), str):
            return {"name": value["name"]}
        elif value.get("name") is not None:
            errors.add(f"{path}.name", "must be a string")
        else:
            errors.add(path, "must contain an id or a name")
        return None

    return check


def check_hash(errors: _Errors, path: str, value: Any, spec: Spec, read_only: Iterable[str] = ()) -> dict:
    """Validate ``value`` against ``spec``; unknown keys are errors, read-only keys are ignored."""
    if not isinstance(value, dict):
        errors.add(path, "must be a hash")
        return {}
    for key in value:
        if key not in spec and key not in read_only:
            errors.add(f"{path}.{key}", "is not a recognized field")
    out: dict[str, Any] = {}
    for key, field in spec.items():
        sub = f"{path}.{key}"
        if key not in value:
            if field.required:
                errors.add(sub, "is required")
            out[key] = copy.deepcopy(field.default)
        elif isinstance(field.check, dict):
            out[key] = check_hash(errors, sub, value[key], field.check)
        else:
            out[key] = field.check(errors, sub, value[key])
    return out


def merge(current: dict, patch: dict, spec: Spec) -> dict:
    """Apply a partial update: omitted fields keep their value, nested hashes merge key by key."""
    out = dict(current)
    for key, value in patch.items():
        field = spec.get(key)
        if (
            field
            and isinstance(field.check, dict)
            and isinstance(value, dict)
            and isinstance(out.get(key), dict)
        ):
            out[key] = merge(out[key], value, field.check)
        else:
            out[key] = value
    return out


RULE_SPEC: Spec = {
    "domains": F(domains),
    "max_concurrent_connections": F(non_negative),
    "max_messages_per_hour": F(non_negative),
    "throttle_program": F(reference(), required=False),
}


def rule_list(errors: _Errors, path: str, value: Any) -> Any:
    if not isinstance(value, list):
        errors.add(path, "must be a list of throttling rules")
        return []
    return [check_hash(errors, f"{path}[{i}]", rule, RULE_SPEC, ("id",)) for i, rule in enumerate(value)]


LIMITS_SPEC: Spec = {"max_concurrent_connections": F(non_negative), "max_messages_per_hour": F(non_negative)}
RELAY_SERVER_SPEC: Spec = {
    "name": F(vmta_name),
    "source_ip": F({"ip": F(ipv4), "hostname": F(hostname)}),
    "destination": F(
        {
            "hostname": F(hostname),
            "port": F(int_range(1, 65535)),
            "username": F(optional_string(200), required=False),
            "password": F(optional_string(200), required=False),
        }
    ),
    "throttle_limits": F(LIMITS_SPEC),
    "redirect": F(reference("type"), required=False),
}
IP_ADDRESS_SPEC: Spec = {
    "name": F(vmta_name),
    "ip": F(ipv4),
    "hostname": F(hostname),
    "throttling_template": F(reference(), required=False),
}
TEMPLATE_SPEC: Spec = {
    "name": F(template_name),
    "rules": F(rule_list, required=False, default=[]),
    "default": F(LIMITS_SPEC),
}
TEMPLATE_UPDATE_SPEC: Spec = {
    "name": F(template_name),
    "default": F(LIMITS_SPEC),
    "rules_new": F(rule_list, required=False, default=[]),
}
ROUTE_SPEC: Spec = {
    "name": F(route_name),
    "requested_target_daily_volume": F(int_range(1)),
    "overflow_route": F(reference(), required=False),
}
SPECS = {"relay_server": RELAY_SERVER_SPEC, "ip_address": IP_ADDRESS_SPEC, "route": ROUTE_SPEC}
ROUTE_READ_ONLY = (
    "id",
    "recommended_max_daily_volume",
    "recommended_max_delivery_rate_per_hour",
    "routing_rule",
)


# --------------------------------------------------------------------------------------------
# Pagination


def _encode_token(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_token(token: str, collection: str) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    except (ValueError, UnicodeDecodeError, binascii.Error):
        state = None
    if not isinstance(state, dict) or state.get("c") != collection or not _is_int(state.get("p")) \
            or state["p"] < 0:
        raise ValidationFailed(["page_token: is not a valid page token for this list"])
    return state


def _page_number(page: int | str | None) -> int:
    if page is None:
        return 0
    if isinstance(page, str) and re.fullmatch(r"[0-9]+", page):
        return int(page)
    if _is_int(page) and page >= 0:
        return page
    raise ValidationFailed(["page: must be an integer greater than or equal to 0"])


def paginate(
    key: str,
    items: list[dict],
    collection: str,
    page: int | str | None = None,
    page_token: str | None = None,
    state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One page of ``items`` under ``key`` plus the documented ``pagination`` hash.

    ``page_token`` (when given) wins over ``page``; it is base64 of ``{"c": collection, "p": page}``
    plus ``state`` (e.g. a list filter), so a token alone is enough to fetch the next page.
    """
    number = _decode_token(page_token, collection)["p"] if page_token is not None else _page_number(page)
    num_pages = math.ceil(len(items) / PER_PAGE)
    next_token = None
    if number + 1 < num_pages:
        next_token = _encode_token({"c": collection, "p": number + 1, **(state or {})})
    return {
        key: items[number * PER_PAGE : (number + 1) * PER_PAGE],
        "pagination": {
            "page": number,
            "per_page": PER_PAGE,
            "num_pages": num_pages,
            "num_records": len(items),
            "next_page_token": next_token,
        },
    }


def _coerce_id(value: int | str) -> int | None:
    if _is_int(value):
        return value  # type: ignore[return-value]
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,18}", value):
        return int(value)
    return None


_DELETE = object()
PageArg = int | str | None
IdArg = int | str


def _summary(kind: str, doc: dict) -> dict[str, Any]:
    return {"type": kind, "id": doc["id"], "name": doc["name"]}


def _users_text(users: list[dict[str, Any]]) -> str:
    return ", ".join(f"{u['type']} '{u['name']}' (id {u['id']})" for u in users)


# --------------------------------------------------------------------------------------------
# Backend


class GreenArrowBackend(ObjectStore):
    """Thread-safe GreenArrow state with optional SQLite persistence."""

    def __init__(self, state_path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(NAMESPACE, KINDS, SEQUENCES, state_path)

    # ---- lookups -----------------------------------------------------------------------------

    def _all(self, kind: str) -> list[dict]:
        return sorted(self._objects[kind].values(), key=lambda d: d["id"])

    def _get(self, kind: str, oid: int | str) -> dict:
        key = _coerce_id(oid)
        doc = self._objects[kind].get(key) if key is not None else None
        if doc is None:
            raise NotFound(f"{LABELS[kind]} with id {oid} not found")
        return doc

    def _vmta(self, vid: int) -> tuple[str, dict] | None:
        for kind in VMTA_KINDS:
            if vid in self._objects[kind]:
                return kind, self._objects[kind][vid]
        return None

    def _vmtas(self) -> list[tuple[str, dict]]:
        return sorted(
            ((k, d) for k in VMTA_KINDS for d in self._objects[k].values()), key=lambda kd: kd[1]["id"]
        )

    def _vmta_ref(self, vid: int | None) -> dict[str, Any] | None:
        hit = self._vmta(vid) if vid is not None else None
        return _summary(*hit) if hit else None

    @staticmethod
    def _find(records: Iterable[dict], ref: dict[str, Any]) -> dict | None:
        if "id" in ref:
            return next((r for r in records if r["id"] == ref["id"]), None)
        return next((r for r in records if r["name"].lower() == ref["name"].lower()), None)

    def _resolve(
        self, errors: _Errors, path: str, ref: dict | None, records: Iterable[dict], label: str
    ) -> dict | None:
        if ref is None:
            return None
        found = self._find(records, ref)
        if found is None:
            key = "id" if "id" in ref else "name"
            errors.add(path, f"no {label} with {key} {ref[key]!r} exists")
        return found

    def _check_unique(
        self,
        errors: _Errors,
        path: str,
        name: Any,
        records: Iterable[tuple[str, dict]],
        self_id: int | None,
        subject: str = "",
    ) -> None:
        if not isinstance(name, str):
            return
        for kind, doc in records:
            if doc["name"].lower() == name.lower() and doc["id"] != self_id:
                errors.add(
                    path,
                    f"must be unique (case-insensitive); {subject}'{name}' is already used by "
                    f"{kind} '{doc['name']}' (id {doc['id']})",
                )
                return

    def _check_chain(
        self,
        errors: _Errors,
        path: str,
        start: dict | None,
        self_doc: dict | None,
        kind: str,
        step: Callable[[int], dict | None],
        verb: str,
    ) -> None:
        """Refuse a reference to the record itself, or one whose chain leads back to it (a loop)."""
        if start is None or self_doc is None:
            return
        if start["id"] == self_doc["id"]:
            errors.add(path, f"a {LABELS[kind].lower()} may not {verb} to itself")
            return
        chain, seen, current = [self_doc, start], {self_doc["id"]}, start
        while current is not None and current["id"] not in seen:
            seen.add(current["id"])
            current = step(current["id"])
            if current is not None:
                chain.append(current)
        if current is not None and current["id"] == self_doc["id"]:
            names = " -> ".join(f"'{d['name']}'" for d in chain)
            errors.add(path, f"would create a loop of {verb}s: {names}")

    # ---- generic record operations -------------------------------------------------------------

    def _render(self, kind: str, doc: dict) -> dict[str, Any]:
        return getattr(self, f"_render_{kind}")(doc)

    def _users(self, kind: str, doc: dict) -> list[dict[str, Any]]:
        """Records that refer to ``doc`` and so prevent its deletion."""
        if kind == "throttling_template":
            return [
                _summary("ip_address", d)
                for d in self._all("ip_address")
                if d["throttling_template_id"] == doc["id"]
            ]
        if kind == "route":
            overflow = [
                _summary("route", d) for d in self._all("route") if d["overflow_route_id"] == doc["id"]
            ]
            return overflow + self._users("routing_rule", {"id": doc["routing_rule_id"]})
        return [
            _summary("relay_server", d) for d in self._all("relay_server") if d["redirect_id"] == doc["id"]
        ]

    def _list_names(self, kind: str, plural: str, page: PageArg, page_token: str | None) -> dict[str, Any]:
        with self._lock:
            items = [{"id": d["id"], "name": d["name"]} for d in self._all(kind)]
            return paginate(plural, items, plural, page, page_token)

    def _get_one(self, kind: str, oid: IdArg) -> dict[str, Any]:
        with self._lock:
            return {kind: self._render(kind, self._get(kind, oid))}

    def _save(self, kind: str, oid: IdArg | None, payload: Any) -> dict[str, Any]:
        """Create (``oid`` None) or update a relay server, IP address or route via ``_build_<kind>``."""
        payload = copy.deepcopy(payload)
        with self._write():
            current = self._get(kind, oid) if oid is not None else None
            if current is not None and isinstance(payload, dict):
                payload = merge(self._render(kind, current), payload, SPECS[kind])
            doc = getattr(self, f"_build_{kind}")(payload, current)
            return {kind: self._render(kind, self._put(kind, doc))}

    def _delete(self, kind: str, oid: IdArg) -> None:
        with self._write():
            doc = self._get(kind, oid)
            if users := self._users(kind, doc):
                raise InUse(f"{LABELS[kind]} '{doc['name']}' is in use by: {_users_text(users)}", users)
            self._remove(kind, doc["id"])
            if kind == "route":
                self._remove("routing_rule", doc["routing_rule_id"])

    def _used_by(self, kind: str, oid: IdArg, page: PageArg, page_token: str | None) -> dict[str, Any]:
        with self._lock:
            if kind == "virtual_mta":
                key = _coerce_id(oid)
                hit = self._vmta(key) if key is not None else None
                if hit is None:
                    raise NotFound(f"VirtualMTA with id {oid} not found")
                kind, doc = hit
            else:
                doc = self._get(kind, oid)
            collection = f"{kind}/{doc['id']}/used_by"
            return paginate("used_by", self._users(kind, doc), collection, page, page_token)

    # ---- VirtualMTAs -------------------------------------------------------------------------

    def list_virtual_mtas(self, page: PageArg = None, page_token: str | None = None) -> dict[str, Any]:
        with self._lock:
            items = [_summary(k, d) for k, d in self._vmtas()]
            return paginate("virtual_mtas", items, "virtual_mtas", page, page_token)

    def virtual_mta_used_by(
        self, vid: IdArg, page: PageArg = None, page_token: str | None = None
    ) -> dict[str, Any]:
        return self._used_by("virtual_mta", vid, page, page_token)

    # ---- relay servers -----------------------------------------------------------------------

    def _render_relay_server(self, doc: dict) -> dict[str, Any]:
        out = {k: copy.deepcopy(v) for k, v in doc.items() if k != "redirect_id"}
        out["redirect"] = self._vmta_ref(doc["redirect_id"])
        return out

    def _relay_step(self, vid: int) -> dict | None:
        doc = self._objects["relay_server"].get(vid)
        hit = self._vmta(doc["redirect_id"]) if doc and doc["redirect_id"] is not None else None
        return hit[1] if hit else None

    def _build_relay_server(self, value: Any, current: dict | None) -> dict[str, Any]:
        errors = _Errors()
        self_id = current["id"] if current else None
        data = check_hash(errors, "relay_server", value, RELAY_SERVER_SPEC, ("id",))
        self._check_unique(errors, "relay_server.name", data.get("name"), self._vmtas(), self_id)
        vmtas = [d for _, d in self._vmtas()]
        target = self._resolve(
            errors, "relay_server.redirect", data.pop("redirect", None), vmtas, "VirtualMTA"
        )
        self._check_chain(
            errors, "relay_server.redirect", target, current, "relay_server", self._relay_step, "redirect"
        )
        errors.raise_any()
        oid = self_id if self_id is not None else self._next_id("virtual_mta")
        return {"id": oid, **data, "redirect_id": target["id"] if target else None}

    def list_relay_servers(self, page: PageArg = None, page_token: str | None = None) -> dict[str, Any]:
        return self._list_names("relay_server", "relay_servers", page, page_token)

    def get_relay_server(self, rid: IdArg) -> dict[str, Any]:
        return self._get_one("relay_server", rid)

    def create_relay_server(self, payload: Any) -> dict[str, Any]:
        return self._save("relay_server", None, payload)

    def update_relay_server(self, rid: IdArg, payload: Any) -> dict[str, Any]:
        return self._save("relay_server", rid, payload)

    def delete_relay_server(self, rid: IdArg) -> None:
        self._delete("relay_server", rid)

    # ---- IP addresses ------------------------------------------------------------------------

    def _render_ip_address(self, doc: dict) -> dict[str, Any]:
        template = self._objects["throttling_template"].get(doc["throttling_template_id"])
        out = {k: v for k, v in doc.items() if k != "throttling_template_id"}
        out["throttling_template"] = {"id": template["id"], "name": template["name"]} if template else None
        return out

    def _build_ip_address(self, value: Any, current: dict | None) -> dict[str, Any]:
        errors = _Errors()
        self_id = current["id"] if current else None
        data = check_hash(errors, "ip_address", value, IP_ADDRESS_SPEC, ("id",))
        self._check_unique(errors, "ip_address.name", data.get("name"), self._vmtas(), self_id)
        ref = data.pop("throttling_template", None)
        templates = self._all("throttling_template")
        template = self._resolve(
            errors, "ip_address.throttling_template", ref, templates, "throttling template"
        )
        errors.raise_any()
        oid = self_id if self_id is not None else self._next_id("virtual_mta")
        return {"id": oid, **data, "throttling_template_id": template["id"] if template else None}

    def list_ip_addresses(self, page: PageArg = None, page_token: str | None = None) -> dict[str, Any]:
        return self._list_names("ip_address", "ip_addresses", page, page_token)

    def get_ip_address(self, iid: IdArg) -> dict[str, Any]:
        return self._get_one("ip_address", iid)

    def create_ip_address(self, payload: Any) -> dict[str, Any]:
        return self._save("ip_address", None, payload)

    def update_ip_address(self, iid: IdArg, payload: Any) -> dict[str, Any]:
        return self._save("ip_address", iid, payload)

    def delete_ip_address(self, iid: IdArg) -> None:
        self._delete("ip_address", iid)

    # ---- throttle programs -------------------------------------------------------------------

    def list_throttle_programs(self, page: PageArg = None, page_token: str | None = None) -> dict[str, Any]:
        programs = [dict(p) for p in THROTTLE_PROGRAMS]
        return paginate("throttle_programs", programs, "throttle_programs", page, page_token)

    def get_throttle_program(self, pid: IdArg) -> dict[str, Any]:
        found = self._find(THROTTLE_PROGRAMS, {"id": _coerce_id(pid)})
        if found is None:
            raise NotFound(f"Throttle Program with id {pid} not found")
        return {"throttle_program": dict(found)}

    # ---- throttling templates and rules ------------------------------------------------------

    def _render_throttling_rule(self, rule: dict) -> dict[str, Any]:
        program = self._find(THROTTLE_PROGRAMS, {"id": rule["throttle_program_id"]})
        out = {k: copy.deepcopy(v) for k, v in rule.items() if k != "throttle_program_id"}
        out["throttle_program"] = dict(program) if program else None
        return out

    def _render_throttling_template(self, doc: dict) -> dict[str, Any]:
        rules = [self._render_throttling_rule(r) for r in doc["rules"]]
        return {"id": doc["id"], "name": doc["name"], "rules": rules, "default": dict(doc["default"])}

    def _prepare_rules(
        self, errors: _Errors, path: str, rules: list[dict], existing: list[dict], *, indexed: bool = True
    ) -> list[dict]:
        """Per-template rule checks (throttle program, unique domains, at most MAX_RULES rules)."""
        seen: dict[str, str] = {d.lower(): f"rule id {r['id']}" for r in existing for d in r["domains"]}
        out = []
        for i, rule in enumerate(rules):
            rule_path = f"{path}[{i}]" if indexed else path
            for j, domain in enumerate(rule["domains"] if isinstance(rule.get("domains"), list) else []):
                if not isinstance(domain, str):
                    continue
                if domain.lower() in seen:
                    errors.add(
                        f"{rule_path}.domains[{j}]",
                        f"domain '{domain}' may appear only once per throttling template "
                        f"(already in {seen[domain.lower()]})",
                    )
                seen.setdefault(domain.lower(), rule_path)
            ref = rule.get("throttle_program")
            program = self._resolve(
                errors, f"{rule_path}.throttle_program", ref, THROTTLE_PROGRAMS, "throttle program"
            )
            fields = ("domains", "max_concurrent_connections", "max_messages_per_hour")
            out.append(
                {
                    **{k: rule.get(k) for k in fields},
                    "throttle_program_id": program["id"] if program else None,
                }
            )
        if len(existing) + len(rules) > MAX_RULES:
            errors.add(
                path,
                f"a throttling template may have at most {MAX_RULES} rules "
                f"(this would make {len(existing) + len(rules)})",
            )
        return out

    def _new_rules(self, rules: list[dict]) -> list[dict]:
        return [{"id": self._next_id("throttling_rule"), **r} for r in rules]

    def _save_template(self, tid: IdArg | None, payload: Any) -> dict[str, Any]:
        """Create, or update (``name``, ``default``; ``rules_new`` appended; ``rules`` refused)."""
        payload = copy.deepcopy(payload)
        with self._write():
            current = self._get("throttling_template", tid) if tid is not None else None
            errors = _Errors()
            spec, rules_key, existing = TEMPLATE_SPEC, "rules", []
            if current is not None:
                spec, rules_key, existing = TEMPLATE_UPDATE_SPEC, "rules_new", current["rules"]
                if isinstance(payload, dict):
                    if "rules" in payload:
                        errors.add(
                            "throttling_template.rules",
                            "cannot be changed here; use rules_new or the throttling rule endpoints",
                        )
                    patch = {k: v for k, v in payload.items() if k != "rules"}
                    payload = merge({"name": current["name"], "default": current["default"]}, patch, spec)
            data = check_hash(errors, "throttling_template", payload, spec, ("id",))
            self_id = current["id"] if current else None
            templates = [("throttling_template", d) for d in self._all("throttling_template")]
            self._check_unique(errors, "throttling_template.name", data.get("name"), templates, self_id)
            path = f"throttling_template.{rules_key}"
            rules = self._prepare_rules(errors, path, data.get(rules_key) or [], existing)
            errors.raise_any()
            oid = self_id if self_id is not None else self._next_id("throttling_template")
            doc = {"id": oid, "name": data["name"], "rules": existing + self._new_rules(rules)}
            return {
                "throttling_template": self._render_throttling_template(
                    self._put("throttling_template", {**doc, "default": data["default"]})
                )
            }

    def list_throttling_templates(
        self, page: PageArg = None, page_token: str | None = None
    ) -> dict[str, Any]:
        return self._list_names("throttling_template", "throttling_templates", page, page_token)

    def get_throttling_template(self, tid: IdArg) -> dict[str, Any]:
        return self._get_one("throttling_template", tid)

    def throttling_template_used_by(
        self, tid: IdArg, page: PageArg = None, page_token: str | None = None
    ) -> dict[str, Any]:
        return self._used_by("throttling_template", tid, page, page_token)

    def create_throttling_template(self, payload: Any) -> dict[str, Any]:
        return self._save_template(None, payload)

    def update_throttling_template(self, tid: IdArg, payload: Any) -> dict[str, Any]:
        return self._save_template(tid, payload)

    def delete_throttling_template(self, tid: IdArg) -> None:
        self._delete("throttling_template", tid)

    def _save_rule(self, tid: IdArg, rid: IdArg | None, payload: Any) -> dict[str, Any]:
        """Create (``rid`` None), update (partial) or delete (``payload`` is ``_DELETE``) a rule."""
        payload = payload if payload is _DELETE else copy.deepcopy(payload)
        with self._write():
            template = self._get("throttling_template", tid)
            rules, index = list(template["rules"]), len(template["rules"])
            if rid is not None:
                key = _coerce_id(rid)
                index = next((i for i, r in enumerate(rules) if r["id"] == key), -1)
                if index < 0:
                    raise NotFound(
                        f"Throttling Rule with id {rid} not found in Throttling Template {template['id']}"
                    )
                current = rules.pop(index)
                if payload is _DELETE:
                    self._put("throttling_template", {**template, "rules": rules})
                    return {}
                if isinstance(payload, dict):
                    payload = merge(self._render_throttling_rule(current), payload, RULE_SPEC)
            errors = _Errors()
            data = check_hash(errors, "throttling_rule", payload, RULE_SPEC, ("id",))
            (rule,) = self._prepare_rules(errors, "throttling_rule", [data], rules, indexed=False)
            errors.raise_any()
            (new,) = self._new_rules([rule]) if rid is None else [{"id": current["id"], **rule}]
            rules.insert(index, new)
            self._put("throttling_template", {**template, "rules": rules})
            return {"throttling_rule": self._render_throttling_rule(new)}

    def create_throttling_rule(self, tid: IdArg, payload: Any) -> dict[str, Any]:
        return self._save_rule(tid, None, payload)

    def update_throttling_rule(self, tid: IdArg, rid: IdArg, payload: Any) -> dict[str, Any]:
        return self._save_rule(tid, rid, payload)

    def delete_throttling_rule(self, tid: IdArg, rid: IdArg) -> None:
        self._save_rule(tid, rid, _DELETE)

    # ---- routes ------------------------------------------------------------------------------

    def _render_route(self, doc: dict) -> dict[str, Any]:
        overflow = self._objects["route"].get(doc["overflow_route_id"])
        rule = self._objects["routing_rule"][doc["routing_rule_id"]]
        return {
            "id": doc["id"],
            "name": doc["name"],
            "requested_target_daily_volume": doc["requested_target_daily_volume"],
            "recommended_max_daily_volume": DAILY_VOLUME_PER_IP * doc["ips"],
            "recommended_max_delivery_rate_per_hour": HOURLY_RATE_PER_IP * doc["ips"],
            "overflow_route": {"id": overflow["id"], "name": overflow["name"]} if overflow else None,
            "routing_rule": {"id": rule["id"], "name": rule["name"]},
        }

    def _route_step(self, route_id: int) -> dict | None:
        doc = self._objects["route"].get(route_id)
        return self._objects["route"].get(doc["overflow_route_id"]) if doc else None

    def _build_route(self, value: Any, current: dict | None) -> dict[str, Any]:
        """Validate; then create or rename the route's routing rule (named "<route name> R<route id>")."""
        errors = _Errors()
        route_id = current["id"] if current else self._seq["route"] + 1
        rule_id = current["routing_rule_id"] if current else None
        data = check_hash(errors, "route", value, ROUTE_SPEC, ROUTE_READ_ONLY)
        routes = [("route", d) for d in self._all("route")]
        self._check_unique(errors, "route.name", data.get("name"), routes, route_id if current else None)
        if isinstance(data.get("name"), str):
            rule_name = f"{data['name']} R{route_id}"
            self._check_unique(
                errors, "route.name", rule_name, self._vmtas(), rule_id, "its routing rule name "
            )
        ref = data.pop("overflow_route", None)
        overflow = self._resolve(errors, "route.overflow_route", ref, self._all("route"), "route")
        self._check_chain(
            errors, "route.overflow_route", overflow, current, "route", self._route_step, "overflow"
        )
        errors.raise_any()
        if current is None:
            self._next_id("route")
            rule_id = self._next_id("virtual_mta")
            ips = max(1, math.ceil(data["requested_target_daily_volume"] / IPS_PER_VOLUME))
            current = {"id": route_id, "ips": ips, "routing_rule_id": rule_id}
        self._put(
            "routing_rule", {"id": rule_id, "name": f"{data['name']} R{route_id}", "route_id": route_id}
        )
        return {**current, **data, "overflow_route_id": overflow["id"] if overflow else None}

    def list_routes(
        self, page: PageArg = None, page_token: str | None = None, name: str | None = None
    ) -> dict[str, Any]:
        """Full route records; ``name`` filters by case-insensitive substring (kept in the page token)."""
        with self._lock:
            if page_token is not None:
                name = _decode_token(page_token, "routes").get("n")
            needle = (name or "").lower()
            items = [self._render_route(d) for d in self._all("route") if needle in d["name"].lower()]
            return paginate("routes", items, "routes", page, page_token, {"n": name} if name else None)

    def get_route(self, route_id: IdArg) -> dict[str, Any]:
        return self._get_one("route", route_id)

    def create_route(self, payload: Any) -> dict[str, Any]:
        return self._save("route", None, payload)

    def update_route(self, route_id: IdArg, payload: Any) -> dict[str, Any]:
        return self._save("route", route_id, payload)

    def delete_route(self, route_id: IdArg) -> None:
        self._delete("route", route_id)
