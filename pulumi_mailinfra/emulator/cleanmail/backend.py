"""Cleanmail API v3 emulator: state and rules, without HTTP.

Public methods take and return JSON-able data shaped as the documented responses (camelCase keys, string
ids such as ``Eygdk``, dates as epoch milliseconds) and raise :class:`CleanmailError` with the status the
docs give (400 bad format, 404, 409 duplicate name, 422 unmet condition).

Model (docs/assumptions.md has the reasoning):

* Domain and domain-alias names share one namespace, unique case-insensitively, soft-deleted domains
  included (their name stays reserved until purged).
* Creating a domain creates its default policy ``Politique-<name>`` from the domain's service flags, with
  the defaults the docs' examples show; ``*Props`` of a service that is off are null.
* ``DELETE /domains/{id}`` is a soft delete: status ``DELETED``, ``deletionDate`` now, ``purgeDate`` now +
  ``PURGE_DAYS``; the domain stays readable and listed. ``PATCH`` with status ENABLED / DISABLED restores it.
* Platform credentials (``bind_password``, ``clientSecret``, ``password``) are stored but answered as null.
* DKIM: a generated key (random bytes standing in for an RSA key: nothing here signs mail) or the given
  public key; one TXT line per name (the domain and its aliases), selector ``protect`` by default.

Persistence and locking come from :class:`~pulumi_mailinfra.emulator.store.ObjectStore` (rows ``cleanmail/``).
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import os
import re
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from .admins import AdminRules
from .common import (
    BadRequest,
    CleanmailError,
    CleanmailStore,
    Conflict,
    NotFound,
    Unprocessable,
    _bool,
    _enum,
    _int,
    _now_ms,
    _number,
    _text,
    hashid,
)
from .filters import FilterRules
from .mailbox import MailboxRules
from .senders import SenderRules
from .tasks import TaskRules

__all__ = ["BadRequest", "CleanmailBackend", "CleanmailError", "Conflict", "NotFound", "Unprocessable", "hashid"]

NAMESPACE = "cleanmail"
KINDS = ("domain", "policy", "alias", "dkim", "user", "group", "option", "health", "attachment_filter",
         "uri_filter", "sender_rule", "access", "admin", "token", "task", "mail", "upload")
SEQUENCES = ("domain", "policy", "alias", "platform", "user", "group", "address", "attachment_filter", "uri_filter",
             "sender_rule", "admin", "token", "task", "mail", "upload")
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
# The options catalog (GET /options is not documented): name -> (type, scopes, platform default).
OPTIONS: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "DOMAIN_ADMIN": ("EMAIL", ("ptf", "domain"), "noreply@cleanmail.example"),
    "DOMAIN_OPTION_EXAMPLE": ("STRING", ("ptf", "domain"), "value_by_default"),
    "APP_URL": ("HOST", ("ptf", "domain"), "protect.cleanmail.example"),
    "USER_OPTION_EXAMPLE": ("STRING", ("ptf", "domain", "user"), "0"),
    "REPORT_FREQUENCY": ("LIST", ("ptf", "domain", "user"), "DAILY"),
}
REPORT_FREQUENCIES = ("NEVER", "DAILY", "WEEKLY")
PURGE_DAYS = 30
LANGUAGES = ("FR", "EN", "DE", "ES", "DA", "NB")
TRANSPORTS = ("SMTP", "SMTPS_ENCRYPT", "SMTPS_MAY")
AUTH_KEYS = {
    "local": set(),
    "imap": {"host", "port", "use_ssl", "cert_pem"},
    "ldap": {"host", "port", "bind_user", "bind_password", "use_ssl", "base_dn", "mail_attribute", "cert_pem",
             "username_format"},
    "oidc": {"issuerUri", "clientId", "clientSecret", "nameAttr", "scope"},
    "entra": {"tenantId"},
}
API_KEYS = {
    "EXCHANGE": {"host", "login", "password", "testAccount"},
    "O365": {"clientId", "tenantId", "clientSecret"},
    "IMAP": {"host", "port", "login", "password", "useSsl"},
}
SECRET_KEYS = {"bind_password", "clientSecret", "password"}
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})+")
_SELECTOR = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _domain_name(path: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) > 253 or not _DOMAIN.fullmatch(value):
        raise BadRequest(f"{path}: the domain name does not match the required format")
    return value.lower()


def _subnets(path: str, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise BadRequest(f"{path}: must be a list of subnets (a.b.c.d/y)")
    for index, subnet in enumerate(value):
        try:
            if not isinstance(subnet, str) or "/" not in subnet:
                raise ValueError
            ipaddress.IPv4Network(subnet, strict=False)
        except ValueError:
            raise BadRequest(f"{path}[{index}]: must be an IPv4 subnet in a.b.c.d/y format") from None
    return list(dict.fromkeys(value))


def _settings(path: str, value: Any, kind: str | None, allowed: Mapping[str, set[str]], name: str) -> dict | None:
    if value in (None, ""):
        return None
    if not isinstance(value, Mapping):
        raise BadRequest(f"{path}: must be an object")
    if kind is None:
        raise BadRequest(f"{path}: needs {name}")
    extra = {k for k, v in value.items() if v is not None} - allowed[kind]
    if extra:
        raise BadRequest(f"{path}: {sorted(extra)} do not apply to {name} {kind}")
    if "port" in value and value["port"] is not None:
        _int(f"{path}.port", value["port"], 1, 65535)
    return {k: v for k, v in value.items() if v is not None}


def _platform(path: str, raw: Any, existing_id: str | None, next_id: Callable[[], str]) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise BadRequest(f"{path}: must be an object")
    known = {"id", "name", "transportDest", "transportType", "transportPort", "fallbackTransportDest",
             "fallbackTransportType", "fallbackTransportPort", "apiType", "apiData", "authType", "authData",
             "default"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise BadRequest(f"{path}: unknown fields {unknown}")
    auth_type = raw.get("authType") or "local"
    api_type = raw.get("apiType")
    fallback_type = raw.get("fallbackTransportType")
    fallback_port = raw.get("fallbackTransportPort")
    return {
        "id": existing_id or next_id(),
        "name": _text(f"{path}.name", raw.get("name"), required=True),
        "transportDest": _text(f"{path}.transportDest", raw.get("transportDest"), required=True),
        "transportType": _enum(f"{path}.transportType", raw.get("transportType"), TRANSPORTS),
        "transportPort": _int(f"{path}.transportPort", raw.get("transportPort"), 1, 65535),
        "fallbackTransportDest": _text(f"{path}.fallbackTransportDest", raw.get("fallbackTransportDest")),
        "fallbackTransportType": None if fallback_type is None else _enum(f"{path}.fallbackTransportType",
                                                                          fallback_type, TRANSPORTS),
        "fallbackTransportPort": None if fallback_port is None else _int(f"{path}.fallbackTransportPort",
                                                                         fallback_port, 1, 65535),
        "apiType": None if api_type is None else _enum(f"{path}.apiType", api_type, tuple(API_KEYS)),
        "apiData": _settings(f"{path}.apiData", raw.get("apiData"), api_type, API_KEYS, "apiType"),
        "authType": _enum(f"{path}.authType", auth_type, tuple(AUTH_KEYS)),
        "authData": _settings(f"{path}.authData", raw.get("authData"), auth_type, AUTH_KEYS, "authType"),
        "default": _bool(f"{path}.default", raw.get("default", False)),
    }


def _hide_secrets(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: None if k in SECRET_KEYS else _hide_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide_secrets(v) for v in value]
    return value


# ----- policy defaults (as the docs' examples show them) -------------------------------------------------
def _quarantine_props() -> dict[str, Any]:
    return {"duration": 31, "storeSpam": True, "storeVirus": False, "storeAdvert": False, "storeBlacklisted": False,
            "storeSenderVerify": False, "storeBadHeaders": True, "storeBadEncoding": True,
            "storeBadAttachments": True}


def _retention_props() -> dict[str, Any]:
    return {"duration": 5, "storeMailOut": True, "storeCleanMailIn": True}


def _archive_props() -> dict[str, Any]:
    return {"duration": 48, "archiveByCopy": False, "storeMailOut": True, "storeCleanMailIn": True,
            "storeSpam": True, "storeBadHeaders": True, "storeBadEncoding": True, "storeBadAttachments": True,
            "storeAdvert": False, "storeBlacklisted": False, "storeSenderVerify": False}


def _relay_props(quarantine: bool) -> dict[str, Any]:
    return {"relaySpam": not quarantine, "relayAdvert": True, "advertPrefix": "", "prefixSpam": None,
            "relayBadHeaders": not quarantine, "relayBadAttachments": not quarantine,
            "spamScoreLimit": 5.0 if quarantine else 10.0}


PROPS: dict[str, tuple[Callable[[], dict[str, Any]], dict[str, tuple[int, int]]]] = {
    "quarantine": (_quarantine_props, {"duration": (1, 3650)}),
    "retention": (_retention_props, {"duration": (1, 3650)}),
    "archive": (_archive_props, {"duration": (1, 1200)}),
}


class CleanmailBackend(MailboxRules, TaskRules, FilterRules, SenderRules, AdminRules, CleanmailStore):
    """Thread-safe Cleanmail state with optional SQLite persistence (shared file, `cleanmail/` rows)."""

    def __init__(self, state_path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(NAMESPACE, KINDS, SEQUENCES, state_path)

    # ---- helpers -----------------------------------------------------------------------------------
    def _name_owner(self, name: str) -> str | None:
        wanted = name.lower()
        for domain in self._objects["domain"].values():
            if domain["name"].lower() == wanted:
                return f"domain {domain['name']!r}"
        for alias in self._objects["alias"].values():
            if alias["name"].lower() == wanted:
                return f"alias {alias['name']!r} of domain {self._objects['domain'][alias['domainId']]['name']!r}"
        return None

    def _claim_names(self, names: list[str]) -> None:
        for name in names:
            owner = self._name_owner(name)
            if owner:
                raise Conflict(f"An alias or a domain may already exists with the given name: {name} ({owner})")

    # ---- domains -----------------------------------------------------------------------------------
    def render_domain(self, domain: Mapping[str, Any]) -> dict[str, Any]:
        policies = [p for p in self._objects["policy"].values() if p["domainId"] == domain["id"]]
        aliases = sorted((a for a in self._objects["alias"].values() if a["domainId"] == domain["id"]),
                         key=lambda a: a["name"])
        out = copy.deepcopy(dict(domain))
        out["policy"] = copy.deepcopy(self._objects["policy"].get(domain["policyId"]))
        out.pop("policyId", None)
        out["domainAliases"] = [{"id": a["id"], "name": a["name"]} for a in aliases]
        out["policiesCount"] = len(policies)
        for service in ("quarantine", "retention", "archive", "incoming"):
            out[service] = any(p[service] for p in policies)
        out["platforms"] = _hide_secrets(out["platforms"])
        return out

    def create_domain(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, Mapping):
            raise BadRequest("the body must be a DomainAdd object")
        with self._write():
            name = _domain_name("name", body.get("name"))
            self._claim_names([name])
            for flag in ("quarantine", "retention", "archive"):
                if flag not in body:
                    raise BadRequest(f"{flag}: is required")
            domain_id = self._new_id("domain")
            domain = {"id": domain_id, "name": name, "customer": None, "activeUsersCount": 0,
                      "creationDate": _now_ms(), "deletionDate": None, "purgeDate": None, "outgoingProviders": [],
                      "platforms": [], "status": "ENABLED", "description": None, "wblistPriority": "USER",
                      "defaultLanguage": None, "autoProvisioningOn": False, "senderVerifyOn": True,
                      "externalId": None, "outgoingSubnets": []}
            self._apply_domain(domain, body, creating=True)
            policy = self._default_policy(domain_id, name, body)
            domain["policyId"] = policy["id"]
            self._put("policy", policy)
            self._put("domain", domain)
            return self.render_domain(domain)

    def _default_policy(self, domain_id: str, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        flags = {k: _bool(k, body.get(k, default)) for k, default in
                 (("quarantine", False), ("retention", False), ("archive", False), ("incoming", True),
                  ("outgoing", False))}
        return {"id": self._new_id("policy"), "name": f"Politique-{name}", "domainId": domain_id, **flags,
                "mailSizeLimit": 21, "spamScore": 5.0, "relayProps": _relay_props(flags["quarantine"]),
                **{f"{s}Props": PROPS[s][0]() if flags[s] else None for s in PROPS}}

    def _apply_domain(self, domain: dict[str, Any], body: Mapping[str, Any], *, creating: bool) -> None:
        known = {"name", "description", "status", "wblistPriority", "quarantine", "retention", "archive",
                 "defaultLanguage", "autoProvisioningOn", "senderVerifyOn", "customerId", "externalId",
                 "outgoingSubnets", "outgoingProvidersIds", "platforms"}
        known |= {"incoming", "outgoing"} if creating else {"policyId"}  # DomainAdd vs DomainUpdate
        unknown = sorted(set(body) - known)
        if unknown:
            raise BadRequest(f"unknown fields {unknown}")
        statuses = ("ENABLED", "DISABLED") if creating else ("ENABLED", "DISABLED", "PENDING")
        if creating or "status" in body:
            status = _enum("status", body.get("status"), statuses)
            if domain.get("status") == "DELETED":  # a PATCH of the status reverts a soft delete
                domain["deletionDate"] = domain["purgeDate"] = None
            domain["status"] = status
        if creating or "defaultLanguage" in body:
            domain["defaultLanguage"] = _enum("defaultLanguage", body.get("defaultLanguage"), LANGUAGES)
        if "description" in body:
            domain["description"] = _text("description", body["description"], max_length=1000)
        if "wblistPriority" in body:
            domain["wblistPriority"] = _enum("wblistPriority", body["wblistPriority"], ("DOMAIN", "USER"))
        for flag in ("autoProvisioningOn", "senderVerifyOn"):
            if flag in body:
                domain[flag] = _bool(flag, body[flag])
        if "externalId" in body:
            domain["externalId"] = _text("externalId", body["externalId"])
        if "customerId" in body:
            customer = _text("customerId", body["customerId"])
            domain["customer"] = None if customer is None else {
                "id": customer, "brokerId": customer, "name": f"customer {customer}", "description": None,
                "externalId": None, "createdAt": domain["creationDate"]}
        if "outgoingSubnets" in body:
            domain["outgoingSubnets"] = _subnets("outgoingSubnets", body["outgoingSubnets"])
        if "outgoingProvidersIds" in body:
            ids = body["outgoingProvidersIds"]
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise BadRequest("outgoingProvidersIds: must be a list of ids")
            domain["outgoingProviders"] = [{"id": i, "name": f"provider {i}", "spfProvider": f"spf.{i.lower()}.example",
                                            "active": True} for i in ids]
        if "platforms" in body:
            raw = body["platforms"]
            if not isinstance(raw, list):
                raise BadRequest("platforms: must be a list")
            old = domain.get("platforms") or []
            domain["platforms"] = [
                _platform(f"platforms[{i}]", p, old[i]["id"] if i < len(old) else None,
                          lambda: self._new_id("platform"))
                for i, p in enumerate(raw)]

    def get_domain(self, domain_id: str) -> dict[str, Any]:
        with self._lock:
            return self.render_domain(self._domain(domain_id))

    def list_domains(self, params: Mapping[str, str]) -> tuple[list[dict[str, Any]], int]:
        with self._lock:
            rendered = [self.render_domain(d) for d in self._objects["domain"].values()]
            return self.page(rendered, params, "name", ("name", "status", "externalId"))

    def patch_domain(self, domain_id: str, body: Any) -> None:
        if not isinstance(body, Mapping):
            raise BadRequest("the body must be a DomainUpdate object")
        with self._write():
            domain = copy.deepcopy(self._domain(domain_id))
            if domain["status"] == "DELETED" and "status" not in body:
                raise Unprocessable("the domain is deleted: restore it first (PATCH its status)")
            if "name" in body:
                name = _domain_name("name", body["name"])
                if name != domain["name"]:
                    self._claim_names([name])
                domain["name"] = name
            self._apply_domain(domain, body, creating=False)
            policy = copy.deepcopy(self._objects["policy"][domain["policyId"]])
            if "policyId" in body:
                chosen = self._objects["policy"].get(body["policyId"])
                if chosen is None or chosen["domainId"] != domain_id:
                    raise Unprocessable("policyId: not a policy of this domain")
                domain["policyId"] = chosen["id"]
                policy = copy.deepcopy(chosen)
            changed = False
            for service in ("quarantine", "retention", "archive"):  # the default policy's service flags
                if service in body and _bool(service, body[service]) != policy[service]:
                    policy[service] = body[service]
                    policy[f"{service}Props"] = PROPS[service][0]() if body[service] else None
                    changed = True
            if changed:
                self._put("policy", policy)
            self._put("domain", domain)

    def delete_domain(self, domain_id: str) -> None:
        with self._write():
            domain = copy.deepcopy(self._domain(domain_id))
            if domain["status"] == "DELETED":
                raise Unprocessable("the domain is already deleted")
            now = _now_ms()
            domain.update(status="DELETED", deletionDate=now, purgeDate=now + PURGE_DAYS * 86_400_000)
            self._put("domain", domain)

    # ---- policies ----------------------------------------------------------------------------------
    def _policy(self, policy_id: str) -> dict[str, Any]:
        found = self._objects["policy"].get(policy_id)
        if found is None:
            raise NotFound("Policy not found with given id")
        return found

    def _apply_policy(self, policy: dict[str, Any], body: Mapping[str, Any], *, creating: bool) -> None:
        known = {"id", "name", "domainId", "quarantine", "retention", "archive", "mailSizeLimit", "spamScore",
                 "incoming", "relayProps", "quarantineProps", "retentionProps", "archiveProps", "outgoing"}
        unknown = sorted(set(body) - known)
        if unknown:
            raise BadRequest(f"unknown fields {unknown}")
        if creating:
            for required in ("name", "quarantine", "retention", "incoming"):
                if required not in body:
                    raise BadRequest(f"{required}: is required")
        if "name" in body:
            name = _text("name", body["name"], required=True)
            taken = [p for p in self._objects["policy"].values() if p["domainId"] == policy["domainId"]
                     and p["id"] != policy.get("id") and p["name"].lower() == str(name).lower()]
            if taken:
                raise Conflict(f"A policy may already exists with the given name: {name}")
            policy["name"] = name
        for flag in ("quarantine", "retention", "archive", "incoming", "outgoing"):
            if flag in body:
                policy[flag] = _bool(flag, body[flag])
        if "mailSizeLimit" in body:
            policy["mailSizeLimit"] = _int("mailSizeLimit", body["mailSizeLimit"], 1, 1024)
        if "spamScore" in body:
            policy["spamScore"] = _number("spamScore", body["spamScore"], 0, 100)
        relay = body.get("relayProps")
        if relay is not None:
            if not isinstance(relay, Mapping):
                raise BadRequest("relayProps: must be an object")
            merged = {**(policy.get("relayProps") or _relay_props(policy["quarantine"])), **relay}
            if "spamScoreLimit" in relay:
                _number("relayProps.spamScoreLimit", relay["spamScoreLimit"], 0, 100)
            policy["relayProps"] = merged
        for service, (defaults, bounds) in PROPS.items():
            props = body.get(f"{service}Props")
            if not policy[service]:
                policy[f"{service}Props"] = None
                continue
            merged = {**(policy.get(f"{service}Props") or defaults())}
            if isinstance(props, Mapping):
                for key, value in props.items():
                    if key not in merged:
                        raise BadRequest(f"{service}Props.{key}: unknown field")
                    if key in bounds:
                        _int(f"{service}Props.{key}", value, *bounds[key])
                    elif value is not None:
                        _bool(f"{service}Props.{key}", value)
                    merged[key] = value
            elif props is not None:
                raise BadRequest(f"{service}Props: must be an object")
            policy[f"{service}Props"] = merged

    def create_policy(self, domain_id: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, Mapping):
            raise BadRequest("the body must be a Policy object")
        with self._write():
            domain = self._domain(domain_id)
            if domain["status"] == "DELETED":
                raise Unprocessable("the domain is deleted")
            policy: dict[str, Any] = {"domainId": domain_id, "archive": False, "outgoing": False, "mailSizeLimit": 21,
                                      "spamScore": 5.0, "relayProps": None}
            self._apply_policy(policy, {k: v for k, v in body.items() if k != "domainId"}, creating=True)
            policy["relayProps"] = policy["relayProps"] or _relay_props(policy["quarantine"])
            policy["id"] = self._new_id("policy")
            self._put("policy", policy)
            return copy.deepcopy(policy)

    def get_policy(self, policy_id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._policy(policy_id))

    def list_policies(self, domain_id: str, params: Mapping[str, str]) -> tuple[list[dict[str, Any]], int]:
        with self._lock:
            self._domain(domain_id)
            policies = [copy.deepcopy(p) for p in self._objects["policy"].values() if p["domainId"] == domain_id]
            return self.page(policies, params, "name", ())

    def patch_policy(self, policy_id: str, body: Any) -> None:
        if not isinstance(body, Mapping):
            raise BadRequest("the body must be a Policy object")
        with self._write():
            policy = copy.deepcopy(self._policy(policy_id))
            if "domainId" in body and body["domainId"] != policy["domainId"]:
                raise Unprocessable("domainId: a policy cannot move to another domain")
            self._apply_policy(policy, {k: v for k, v in body.items() if k != "domainId"}, creating=False)
            self._put("policy", policy)

    def delete_policy(self, policy_id: str) -> None:
        with self._write():
            self._policy(policy_id)
            domains = sorted(d["name"] for d in self._objects["domain"].values() if d["policyId"] == policy_id)
            users = sorted(u["email"] for u in self._objects["user"].values() if u.get("policyId") == policy_id)
            if domains or users:
                held = [f"the default policy of {', '.join(domains)}"] if domains else []
                held += [f"the policy of {', '.join(users)}"] if users else []
                raise BadRequest(f"A problem occured. Possible cause: the policy is affected to a domain or a user "
                                 f"(it is {' and '.join(held)})")
            self._remove("policy", policy_id)

    # ---- domain aliases ----------------------------------------------------------------------------
    def _alias_names(self, body: Any) -> list[str]:
        if not isinstance(body, list):
            raise BadRequest("the body must be a list of domain names")
        names = [_domain_name(f"[{i}]", name) for i, name in enumerate(body)]
        if len(set(names)) != len(names):
            raise BadRequest("a name appears twice in the list")
        return names

    def list_aliases(self, domain_id: str, params: Mapping[str, str]) -> tuple[list[dict[str, Any]], int]:
        with self._lock:
            self._domain(domain_id)
            aliases = [{"id": a["id"], "name": a["name"]} for a in self._objects["alias"].values()
                       if a["domainId"] == domain_id]
            return self.page(aliases, params, "name", ())

    def add_aliases(self, domain_id: str, body: Any) -> list[dict[str, Any]]:
        with self._write():
            self._domain(domain_id)
            names = self._alias_names(body)
            self._claim_names(names)
            added = [self._put("alias", {"id": self._new_id("alias"), "name": n, "domainId": domain_id}) for n in names]
            return [{"id": a["id"], "name": a["name"]} for a in added]

    def replace_aliases(self, domain_id: str, body: Any) -> None:
        with self._write():
            self._domain(domain_id)
            names = self._alias_names(body)
            current = {a["name"]: a["id"] for a in self._objects["alias"].values() if a["domainId"] == domain_id}
            self._claim_names([n for n in names if n not in current])
            for name, alias_id in current.items():
                if name not in names:
                    self._remove("alias", alias_id)
            for name in names:
                if name not in current:
                    self._put("alias", {"id": self._new_id("alias"), "name": name, "domainId": domain_id})

    def delete_alias(self, domain_id: str, alias_id: str) -> None:
        with self._write():
            self._domain(domain_id)
            alias = self._objects["alias"].get(alias_id)
            if alias is None or alias["domainId"] != domain_id:
                raise NotFound("A problem occured. The domain and/or the alias may not exist")
            self._remove("alias", alias_id)

    # ---- DKIM --------------------------------------------------------------------------------------
    def _dkim_lines(self, domain_id: str, *, aliases: bool) -> list[str]:
        dkim = self._objects["dkim"].get(domain_id)
        if dkim is None:
            raise NotFound("No DKIM values found. Or the domain may not exist")
        names = [self._domain(domain_id)["name"]]
        if aliases:
            names += sorted(a["name"] for a in self._objects["alias"].values() if a["domainId"] == domain_id)
        return [f"{dkim['selector']}._domainkey.{name} TXT v=DKIM1; p={dkim['publicKey']}" for name in names]

    def _dkim_from(self, domain_id: str, body: Any) -> dict[str, Any]:
        body = body or {}
        if not isinstance(body, Mapping):
            raise BadRequest("the body must be a DkimDTO object")
        unknown = sorted(set(body) - {"privateKey", "publicKey", "selector"})
        if unknown:
            raise BadRequest(f"unknown fields {unknown}")
        selector = body.get("selector") or "protect"
        if not isinstance(selector, str) or not _SELECTOR.fullmatch(selector):
            raise BadRequest("selector: must be a DNS label")
        private, public = body.get("privateKey"), body.get("publicKey")
        if private and not public:
            raise Unprocessable("publicKey: is required with a privateKey")
        if public is None:
            public = base64.b64encode(b"\x30\x82\x01\x22" + secrets.token_bytes(290)).decode()
        elif not isinstance(public, str) or not re.fullmatch(r"[A-Za-z0-9+/=\s]+", public):
            raise BadRequest("publicKey: must be base64")
        return {"id": domain_id, "selector": selector, "publicKey": "".join(public.split()),
                "privateKey": private or "generated"}

    def add_dkim(self, domain_id: str, body: Any) -> list[str]:
        with self._write():
            self._domain(domain_id)
            if domain_id in self._objects["dkim"]:
                raise Conflict("the domain already has DKIM values: update them with PUT")
            self._put("dkim", self._dkim_from(domain_id, body))
            return self._dkim_lines(domain_id, aliases=False)

    def put_dkim(self, domain_id: str, body: Any) -> list[str]:
        with self._write():
            self._domain(domain_id)
            self._put("dkim", self._dkim_from(domain_id, body))
            return self._dkim_lines(domain_id, aliases=False)

    def get_dkim(self, domain_id: str) -> list[str]:
        with self._lock:
            if domain_id not in self._objects["domain"]:
                raise NotFound("No DKIM values found. Or the domain may not exist")
            return self._dkim_lines(domain_id, aliases=True)

    def delete_dkim(self, domain_id: str) -> None:
        with self._write():
            self._domain(domain_id)
            if domain_id not in self._objects["dkim"]:
                raise NotFound("No DKIM values found")
            self._remove("dkim", domain_id)

    # ---- users -------------------------------------------------------------------------------------
    def _user(self, user_id: str) -> dict[str, Any]:
        found = self._objects["user"].get(user_id)
        if found is None:
            raise NotFound("User not found with given id")
        return found

    def render_user(self, user: Mapping[str, Any]) -> dict[str, Any]:
        domain = self._objects["domain"].get(user["domainId"]) or {}
        platforms = {p["id"]: p for p in domain.get("platforms") or []}
        default_platform = next((p for p in platforms.values() if p["default"]), None)
        platform = platforms.get(user.get("platformId")) or default_platform
        out = {k: copy.deepcopy(v) for k, v in user.items() if k not in {"password", "sign", "policyId", "platformId",
                                                                           "sendNotification"}}
        out["policy"] = copy.deepcopy(self._objects["policy"].get(user.get("policyId") or domain.get("policyId")))
        out.update(domainPolicyId=domain.get("policyId"), domainStatus=domain.get("status"),
                   domainPlatformId=default_platform["id"] if default_platform else None,
                   platform=_hide_secrets(copy.deepcopy(platform)), mfaType=None, lastConnectionDate=None)
        return out

    def _apply_user(self, user: dict[str, Any], body: Mapping[str, Any], *, creating: bool) -> None:
        known = {"email", "firstname", "lastname", "status", "language", "password", "domainId", "policyId",
                 "platformId", "authId", "senderVerifyOn", "sendNotification", "sign"} | (set() if creating else
                                                                                         {"mfaType"})
        unknown = sorted(set(body) - known)
        if unknown:
            raise BadRequest(f"unknown fields {unknown}")
        if creating and not body.get("domainId"):
            raise BadRequest("domainId: is required")
        domain_id = body.get("domainId", user.get("domainId"))
        domain = self._objects["domain"].get(domain_id) if isinstance(domain_id, str) else None
        if domain is None:
            raise BadRequest("the account email does not match email format or domain not found")
        if "domainId" in body and not creating and body["domainId"] != user["domainId"]:
            raise Unprocessable("domainId: an account cannot move to another domain")
        if creating or "email" in body:
            email = body.get("email")
            if not isinstance(email, str) or not _EMAIL.fullmatch(email):
                raise BadRequest("email: the account email does not match email format")
            if email.split("@", 1)[1].lower() != domain["name"]:
                raise BadRequest(f"email: {email} is not in the domain {domain['name']}")
            taken = [u for u in self._objects["user"].values() if u["email"].lower() == email.lower()
                     and u["id"] != user.get("id")]
            if taken or any(g["email"].lower() == email.lower() for g in self._objects["group"].values()):
                raise Conflict(f"A user may already exists with the given name: {email}")
            user["email"] = email.lower()
        statuses = ("ENABLED", "DISABLED")
        if creating or "status" in body:
            user["status"] = _enum("status", body.get("status"), statuses)
        if "language" in body or creating:
            language = body.get("language") or domain.get("defaultLanguage")
            user["language"] = _enum("language", language, LANGUAGES)
        for field in ("firstname", "lastname"):
            if field in body:
                user[field] = _text(field, body[field])
        if "password" in body:
            user["password"] = _text("password", body["password"], max_length=128)
        if "policyId" in body:
            policy = self._objects["policy"].get(body["policyId"]) if body["policyId"] else None
            if body["policyId"] and (policy is None or policy["domainId"] != domain["id"]):
                raise Unprocessable("policyId: not a policy of the account's domain")
            user["policyId"] = body["policyId"]
        if "platformId" in body:
            if body["platformId"] and body["platformId"] not in {p["id"] for p in domain["platforms"]}:
                raise Unprocessable("platformId: not a platform of the account's domain")
            user["platformId"] = body["platformId"]
        for flag in ("senderVerifyOn", "sendNotification"):
            if flag in body:
                user[flag] = _bool(flag, body[flag])
        if "mfaType" in body and body["mfaType"] not in (None, "NONE"):
            raise BadRequest("mfaType: may only be set to NONE")
        user["domainId"] = domain["id"]

    def create_user(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, Mapping):
            raise BadRequest("the body must be a NewUser object")
        with self._write():
            user: dict[str, Any] = {"firstname": None, "lastname": None, "senderVerifyOn": True, "policyId": None,
                                    "platformId": None, "creationDate": _now_ms()}
            self._apply_user(user, body, creating=True)
            if self._objects["domain"][user["domainId"]]["status"] == "DELETED":
                raise Unprocessable("the domain is deleted")
            user["id"] = self._new_id("user")
            self._put("user", user)
            return self.render_user(user)

    def get_user(self, user_id: str) -> dict[str, Any]:
        with self._lock:
            return self.render_user(self._user(user_id))

    def patch_user(self, user_id: str, body: Any) -> None:
        if not isinstance(body, Mapping):
            raise BadRequest("the body must be an UpdateUser object")
        with self._write():
            user = copy.deepcopy(self._user(user_id))
            self._apply_user(user, body, creating=False)
            self._put("user", user)

    def delete_user(self, user_id: str) -> None:
        with self._write():
            self._user(user_id)
            self._remove("user", user_id)
            for option in [o for o in self._objects["option"].values() if o["owner"] == f"user/{user_id}"]:
                self._remove("option", option["id"])
            for mail in [m for m in self._objects["mail"].values() if m["userId"] == user_id]:
                self._remove("mail", mail["id"])  # the mailbox goes with the account

    def list_users(self, domain_id: str | None, params: Mapping[str, str]) -> tuple[list[dict[str, Any]], int]:
        with self._lock:
            if domain_id is not None:
                self._domain(domain_id)
            users = [self.render_user(u) for u in self._objects["user"].values()
                     if domain_id is None or u["domainId"] == domain_id]
            for user in users:
                user["platformName"] = (user.get("platform") or {}).get("name")
            page, total = self.page(users, params, "email", ("email", "platformName"))
            return [{k: v for k, v in u.items() if k not in {"platformName", "mfaType", "lastConnectionDate"}}
                    for u in page], total

    # ---- signatures --------------------------------------------------------------------------------
    def _signable(self, user_id: str) -> dict[str, Any]:
        user = self._user(user_id)
        domain = self._objects["domain"][user["domainId"]]
        policy = self._objects["policy"].get(user.get("policyId") or domain["policyId"]) or {}
        if not (policy.get("quarantine") or policy.get("retention") or policy.get("archive")):
            raise BadRequest("the account does not have quarantine or retention or archive service")
        return user

    def get_sign(self, user_id: str) -> dict[str, Any]:
        with self._lock:
            return {"sign": self._signable(user_id).get("sign")}

    def put_sign(self, user_id: str, body: Any) -> dict[str, Any]:
        with self._write():
            user = copy.deepcopy(self._signable(user_id))
            sign = body.get("sign") if isinstance(body, Mapping) else None
            try:
                base64.b64decode(str(sign), validate=True)
            except ValueError:
                raise BadRequest("sign: must be the HTML signature encoded in Base64") from None
            user["sign"] = sign
            self._put("user", user)
            return {"sign": sign}

    def delete_sign(self, user_id: str) -> None:
        with self._write():
            user = copy.deepcopy(self._signable(user_id))
            user["sign"] = None
            self._put("user", user)

    # ---- email aliases ("groups") ------------------------------------------------------------------
    def _group(self, domain_id: str | None, group_id: str) -> dict[str, Any]:
        found = self._objects["group"].get(group_id)
        if found is None or (domain_id is not None and found["domainId"] != domain_id):
            raise NotFound("A problem occured. The domain and/or the alias may not exist")
        return found

    def render_group(self, group: Mapping[str, Any]) -> dict[str, Any]:
        return {"id": group["id"], "email": group["email"], "recipients": copy.deepcopy(group["recipients"])}

    def _recipient(self, path: str, address: Any, domain_id: str) -> dict[str, Any]:
        if not isinstance(address, str) or not _EMAIL.fullmatch(address):
            raise BadRequest(f"{path}: must be an email address")
        address = address.lower()
        user = next((u for u in self._objects["user"].values() if u["email"] == address), None)
        if user is not None and user["domainId"] == domain_id:
            return {"id": user["id"], "email": address, "firstname": user.get("firstname"),
                    "lastname": user.get("lastname"), "type": "USER"}
        group = next((g for g in self._objects["group"].values() if g["email"] == address), None)
        if group is not None:
            return {"id": group["id"], "email": address, "firstname": None, "lastname": None, "type": "ALIAS"}
        return {"id": self._new_id("address"), "email": address, "firstname": None, "lastname": None,
                "type": "EXTERNAL_ADDRESS"}

    def _group_email(self, domain: Mapping[str, Any], email: Any, group_id: str | None) -> str:
        if not isinstance(email, str) or not _EMAIL.fullmatch(email):
            raise BadRequest("email: must be an email address")
        email = email.lower()
        if email.split("@", 1)[1] != domain["name"]:
            raise BadRequest(f"the email's domain may not match the domain: {email} is not in {domain['name']}")
        taken = any(g["email"] == email and g["id"] != group_id for g in self._objects["group"].values())
        if taken or any(u["email"] == email for u in self._objects["user"].values()):
            raise Conflict(f"A email alias may already exists with the given name: {email}")
        return email

    def _recipients(self, body: Any, domain_id: str) -> list[dict[str, Any]]:
        if not isinstance(body, list):
            raise BadRequest("recipients: must be a list of email addresses")
        out: dict[str, dict[str, Any]] = {}
        for index, address in enumerate(body):
            recipient = self._recipient(f"recipients[{index}]", address, domain_id)
            out.setdefault(recipient["email"], recipient)
        return list(out.values())

    def create_group(self, domain_id: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, Mapping):
            raise BadRequest("the body must be a NewEmailAlias object")
        with self._write():
            domain = self._domain(domain_id)
            unknown = sorted(set(body) - {"email", "recipients"})
            if unknown:
                raise BadRequest(f"unknown fields {unknown}")
            email = self._group_email(domain, body.get("email"), None)
            group = {"id": self._new_id("group"), "domainId": domain_id, "email": email,
                     "recipients": self._recipients(body.get("recipients") or [], domain_id)}
            self._put("group", group)
            return self.render_group(group)

    def get_group(self, domain_id: str, group_id: str) -> dict[str, Any]:
        with self._lock:
            self._domain(domain_id)
            return self.render_group(self._group(domain_id, group_id))

    def list_groups(self, domain_id: str, params: Mapping[str, str]) -> tuple[list[dict[str, Any]], int]:
        with self._lock:
            self._domain(domain_id)
            groups = [self.render_group(g) for g in self._objects["group"].values() if g["domainId"] == domain_id]
            recipient = params.get("recipient")
            if recipient and not params.get("email"):
                groups = [g for g in groups if any(r["email"] == recipient.lower() for r in g["recipients"])]
                params = {k: v for k, v in params.items() if k != "recipient"}
            return self.page(groups, params, "email", ("email",))

    def patch_group(self, domain_id: str, group_id: str, body: Any) -> None:
        if not isinstance(body, Mapping):
            raise BadRequest("the body must be a NewEmailAlias object")
        with self._write():
            domain = self._domain(domain_id)
            group = copy.deepcopy(self._group(domain_id, group_id))
            if "email" in body:
                group["email"] = self._group_email(domain, body["email"], group_id)
            if "recipients" in body:  # replaces the list
                group["recipients"] = self._recipients(body["recipients"], domain_id)
            self._put("group", group)

    def delete_group(self, group_id: str) -> None:
        with self._write():
            self._group(None, group_id)
            self._remove("group", group_id)

    def add_group_addresses(self, domain_id: str, group_id: str, body: Any) -> dict[str, Any]:
        with self._write():
            self._domain(domain_id)
            group = copy.deepcopy(self._group(domain_id, group_id))
            present = {r["email"] for r in group["recipients"]}
            group["recipients"] += [r for r in self._recipients(body, domain_id) if r["email"] not in present]
            self._put("group", group)
            return self.render_group(group)

    def delete_group_address(self, domain_id: str, group_id: str, address_id: str) -> None:
        with self._write():
            self._domain(domain_id)
            group = copy.deepcopy(self._group(domain_id, group_id))
            kept = [r for r in group["recipients"] if r["id"] != address_id]
            if len(kept) == len(group["recipients"]):
                raise NotFound("The domain and/or the user and/or the alias may not exist")
            group["recipients"] = kept
            self._put("group", group)

    # ---- options -----------------------------------------------------------------------------------
    def _option_value(self, scope: str, owner_id: str, name: str) -> str | None:
        found = self._objects["option"].get(f"{scope}/{owner_id}/{name}")
        return found["value"] if found else None

    def _render_option(self, name: str, value: str | None, parent: str | None) -> dict[str, Any]:
        kind, scopes, _ = OPTIONS[name]
        return {"value": value, "parentValue": parent, "option": {
            "ptfScope": "ptf" in scopes, "urlScope": False, "customerScope": False, "domainScope": "domain" in scopes,
            "userScope": "user" in scopes, "restricted": name == "APP_URL", "group": None, "name": name,
            "type": kind, "values": list(REPORT_FREQUENCIES) if kind == "LIST" else None, "description": None}}

    def _owner(self, scope: str, owner_id: str) -> tuple[str | None, str]:
        """(the parent's value source: the user's domain id or None, the owner key)."""
        if scope == "domain":
            self._domain(owner_id)
            return None, owner_id
        return self._user(owner_id)["domainId"], owner_id

    def _parent(self, scope: str, owner_id: str, name: str) -> str | None:
        platform_default = OPTIONS[name][2]
        if scope == "user":
            domain_id = self._user(owner_id)["domainId"]
            return self._option_value("domain", domain_id, name) or platform_default
        return platform_default

    def list_options(self, scope: str, owner_id: str) -> tuple[list[dict[str, Any]], int]:
        with self._lock:
            self._owner(scope, owner_id)
            items = [self._render_option(name, self._option_value(scope, owner_id, name),
                                         self._parent(scope, owner_id, name))
                     for name, (_, scopes, _) in OPTIONS.items() if scope in scopes]
            return items, len(items)

    def set_option(self, scope: str, owner_id: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, Mapping) or set(body) - {"name", "value"}:
            raise BadRequest("the body must be an OptionAdd object {name, value}")
        with self._write():
            self._owner(scope, owner_id)
            name, value = body.get("name"), body.get("value")
            if name not in OPTIONS:
                raise BadRequest(f"name: unknown option {name!r}")
            kind, scopes, _ = OPTIONS[name]
            if scope not in scopes:
                raise Unprocessable(f"the option {name} cannot be set at {scope} scope")
            if not isinstance(value, str):
                raise BadRequest("value: must be a string")
            if kind == "EMAIL" and not _EMAIL.fullmatch(value):
                raise BadRequest(f"value: {value!r} is not an email address")
            if kind == "LIST" and value not in REPORT_FREQUENCIES:
                raise BadRequest(f"value: must be one of {', '.join(REPORT_FREQUENCIES)}")
            key = f"{scope}/{owner_id}/{name}"
            self._put("option", {"id": key, "owner": f"{scope}/{owner_id}", "name": name, "value": value})
            return self._render_option(name, value, self._parent(scope, owner_id, name))

    def delete_option(self, scope: str, owner_id: str, name: str) -> None:
        with self._write():
            self._owner(scope, owner_id)
            key = f"{scope}/{owner_id}/{name}"
            if key in self._objects["option"]:
                self._remove("option", key)
            elif name not in OPTIONS:
                raise NotFound(f"unknown option {name}")

    # ---- health -------------------------------------------------------------------------------------
    # The emulator has no DNS and no network: MX is taken as present unless the domain's name ends in
    # `.invalid` (RFC 2606), DKIM as published when the domain has DKIM values, and a relay as reachable
    # unless its host ends in `.invalid`.
    @staticmethod
    def _report(entries: list[dict[str, Any]]) -> dict[str, Any]:
        return {"performedAt": int(time.time()), "report": {
            "status": all(e["result"] == "OK" for e in entries), "entries": entries}}

    def run_domain_health(self, domain_id: str) -> dict[str, Any]:
        with self._write():
            domain = self._objects["domain"].get(domain_id)
            if domain is None:
                raise NotFound("Domain does not exist.")
            name = domain["name"]
            mx_ok = not name.endswith(".invalid")
            dkim = self._objects["dkim"].get(domain_id)
            entries = [
                {"type": "MX", "result": "OK" if mx_ok else "ERROR_MX_MISSING_ENTRY",
                 "output": ["Passed"] if mx_ok else [f"Lookup for MX entry in DNS for {name}",
                                                     "Fail: No MX entry found"]},
                {"type": "DKIM", "result": "OK" if dkim else "ERROR_DKIM_MISSING_ENTRY",
                 "output": ["Passed"] if dkim else [f"Lookup for dkim entry in DNS for {name}",
                                                     f'Fail: DKIM DNS entry not found for domain "{name}" and '
                                                     'selector "protect"']},
            ]
            health = self._report(entries)
            self._put("health", {"id": f"domain/{domain_id}", "name": name, "type": "DOMAIN", "health": health})
            return copy.deepcopy(health)

    def _relay_entries(self, dest: Any, port: Any) -> list[dict[str, Any]]:
        reachable = isinstance(dest, str) and not dest.endswith(".invalid") and isinstance(port, int) and port > 0
        return [{"type": "SMTP", "result": "OK" if reachable else "ERROR",
                 "output": ["Passed"] if reachable else [f"Fail: cannot connect to {dest}:{port}"]}]

    def _platform(self, platform_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        for domain in self._objects["domain"].values():
            for platform in domain["platforms"]:
                if platform["id"] == platform_id:
                    return domain, platform
        raise NotFound("Platform does not exist.")

    def run_platform_health(self, platform_id: str) -> dict[str, Any]:
        with self._write():
            _, platform = self._platform(platform_id)
            health = self._report(self._relay_entries(platform["transportDest"], platform["transportPort"]))
            self._put("health", {"id": f"platform/{platform_id}", "name": platform["name"], "type": "PLATFORM",
                                 "health": health})
            return copy.deepcopy(health)

    def get_health(self, kind: str, entity_id: str) -> dict[str, Any]:
        with self._lock:
            if kind == "domain":
                if entity_id not in self._objects["domain"]:
                    raise NotFound("Domain does not exist.")
            else:
                self._platform(entity_id)
            found = self._objects["health"].get(f"{kind}/{entity_id}")
            if found is None:
                raise NotFound("No diagnostic was run yet")
            return copy.deepcopy(found["health"])

    def health_errors(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{"id": h["id"].split("/", 1)[1], "name": h["name"], "type": h["type"], "health": h["health"]}
                    for h in self._objects["health"].values() if not h["health"]["report"]["status"]]

    def try_relay(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, Mapping):
            raise BadRequest("the body must be a RelayCheckHealthDTO object")
        for required in ("transportDest", "transportPort", "authType"):
            if body.get(required) in (None, ""):
                raise BadRequest(f"{required}: is required")
        _int("transportPort", body["transportPort"], 1, 65535)
        entries = self._relay_entries(body["transportDest"], body["transportPort"])
        if body.get("fallbackTransportDest"):
            entries += self._relay_entries(body["fallbackTransportDest"], body.get("fallbackTransportPort"))
        return {"status": all(e["result"] == "OK" for e in entries), "entries": entries}
