"""Cleanmail emulator: permissions (5.1.4) and what a domain's end users may do (5.5.2, 5.5.12), mixed into the
backend.

The docs name no permission (docs/assumptions.md, "Cleanmail access"): this catalog stands in for the
platform's, and every grant is checked against it — a name outside it is 422 "not in the permission list"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .common import BadRequest, CleanmailStore, Unprocessable

# name -> (scopes it applies to, whether a domain's end users may be given it)
PERMISSIONS: dict[str, tuple[tuple[str, ...], bool]] = {
    "DOMAIN_READ": (("domain",), False),
    "DOMAIN_WRITE": (("domain",), False),
    "USERS_READ": (("domain",), False),
    "USERS_WRITE": (("domain",), False),
    "FILTERS_WRITE": (("domain",), False),
    "GRANT": (("domain",), False),
    "QUARANTINE_READ": (("domain", "user"), True),
    "QUARANTINE_RELEASE": (("domain", "user"), True),
    "WBLIST_WRITE": (("domain", "user"), True),
    "REPORTS_READ": (("domain", "user"), True),
    "SIGNATURE_WRITE": (("user",), True),
}
USER_PERMISSIONS = tuple(name for name, (_, for_users) in PERMISSIONS.items() if for_users)


class AccessRules(CleanmailStore):
    """The backend's `access` objects: one per domain, the permissions its end users have."""

    def permissions(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """GET /security/permissions?scope=...&id=...: both required."""
        scope, owner_id = params.get("scope"), params.get("id")
        if not scope or not owner_id:
            raise BadRequest("scope and id are required")
        with self._lock:
            if scope == "domain":
                self._domain(owner_id)
            elif scope != "user":
                raise BadRequest("scope: must be domain or user")
            return [{"name": name, "editable": True} for name, (scopes, _) in PERMISSIONS.items() if scope in scopes]

    def checked_permissions(self, body: Any, allowed: tuple[str, ...]) -> list[str]:
        if not isinstance(body, list) or not all(isinstance(p, str) for p in body):
            raise BadRequest("the body must be a list of permission names")
        unknown = sorted({p for p in body if p not in allowed})
        if unknown:
            raise Unprocessable(f"not in the permission list: {', '.join(unknown)} (allowed: {', '.join(allowed)})")
        return sorted(set(body))

    def users_access(self, domain_id: str) -> list[dict[str, Any]]:
        with self._lock:
            self._domain(domain_id)
            granted = set((self._objects["access"].get(domain_id) or {}).get("permissions") or [])
            return [{"name": name, "enabled": name in granted} for name in USER_PERMISSIONS]

    def set_users_access(self, domain_id: str, body: Any) -> dict[str, Any]:
        with self._write():
            domain = self._domain(domain_id)
            granted = self.checked_permissions(body, USER_PERMISSIONS)
            self._put("access", {"id": domain_id, "permissions": granted})
            return {"id": domain_id, "username": f"users@{domain['name']}",
                    "permissions": [{"name": name, "enabled": name in granted} for name in USER_PERMISSIONS]}
