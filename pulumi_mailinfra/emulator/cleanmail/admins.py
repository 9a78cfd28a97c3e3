"""Cleanmail emulator: administrators (5.1, 5.5.3 to 5.5.13) and their personal tokens (5.2), mixed into the
backend.

An admin's access to a domain is an authority `{objectType: "domain", objectId, objectName, permissions}`;
permissions are checked against the catalog (`access.PERMISSIONS`, domain scope). Revoking an admin's last
access deletes the account (5.5.5). A token's `value` is answered once, at creation; until it is revoked or
expires it works as a Bearer token on the emulator itself (with its admin's rights: all of them here)."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Mapping
from typing import Any

from .access import PERMISSIONS, AccessRules
from .common import BadRequest, Conflict, NotFound, Unprocessable, _bool, _enum, _now_ms, _text

LANGUAGES = ("FR", "EN", "DE", "ES", "DA", "NB")
DOMAIN_PERMISSIONS = tuple(name for name, (scopes, _) in PERMISSIONS.items() if "domain" in scopes)


class AdminRules(AccessRules):
    """The backend's `admin` and `token` objects."""

    def _admin(self, admin_id: str) -> dict[str, Any]:
        found = self._objects["admin"].get(admin_id)
        if found is None:
            raise NotFound("Resource does not exist.")
        return found

    @staticmethod
    def _render_admin(admin: Mapping[str, Any]) -> dict[str, Any]:
        public = {k: v for k, v in admin.items() if k != "password"}
        public["authoritiesCount"] = len(admin["authorities"])
        return copy.deepcopy(public)

    def _authority(self, admin: Mapping[str, Any], domain_id: str) -> dict[str, Any] | None:
        return next((a for a in admin["authorities"] if a["objectType"] == "domain" and a["objectId"] == domain_id),
                    None)

    def create_domain_admin(self, domain_id: str, body: Any) -> dict[str, Any]:
        """POST /domains/{id}/admins (AdminAdd): an existing account by `id`, else a new one."""
        if not isinstance(body, Mapping):
            raise BadRequest("the body must be an AdminAdd object")
        with self._write():
            domain = self._domain(domain_id)
            permissions = self.checked_permissions(body.get("permissions"), DOMAIN_PERMISSIONS)
            if body.get("id") is not None:
                admin = copy.deepcopy(self._admin(str(body["id"])))
                if self._authority(admin, domain_id):
                    raise Conflict("this administrator already has an access on the domain")
            else:
                for key in ("login", "displayName", "email", "password", "enabled", "language"):
                    if body.get(key) is None:
                        raise BadRequest(f"{key}: required to create an account")
                login = _text("login", body["login"], required=True)
                if any(a["login"].lower() == str(login).lower() for a in self._objects["admin"].values()):
                    raise Conflict(f"an account with login {login} already exists")
                admin = {"id": self._new_id("admin"), "login": login,
                         "displayName": _text("displayName", body["displayName"], required=True),
                         "email": _text("email", body["email"], required=True),
                         "password": _text("password", body["password"], required=True, max_length=128),
                         "enabled": _bool("enabled", body["enabled"]),
                         "language": _enum("language", body["language"], LANGUAGES), "totp": False,
                         "sysAdmin": False, "authorities": [], "lastConnectionDate": None, "createdAt": _now_ms()}
            admin["authorities"].append({"objectType": "domain", "objectId": domain_id, "objectName": domain["name"],
                                         "permissions": permissions, "securedObjectName": domain["name"],
                                         "securedObjectClass": "Domain"})
            self._put("admin", admin)
            return self._render_admin(admin)

    def list_domain_admins(self, domain_id: str, params: Mapping[str, str]) -> tuple[list[dict[str, Any]], int]:
        with self._lock:
            self._domain(domain_id)
            admins = [self._render_admin(a) for a in self._objects["admin"].values() if self._authority(a, domain_id)]
            return self._admins_page(admins, params)

    def _admins_page(self, admins: list[dict[str, Any]], params: Mapping[str, str]) -> tuple[list[dict[str, Any]], int]:
        search = (params.get("search") or "").lower()
        if search:
            admins = [a for a in admins if any(search in str(a.get(k) or "").lower()
                                               for k in ("login", "email", "displayName"))]
        return self.page(admins, {k: v for k, v in params.items() if k != "search"}, "login", ())

    def get_domain_admin(self, domain_id: str, admin_id: str) -> dict[str, Any]:
        with self._lock:
            self._domain(domain_id)
            admin = self._admin(admin_id)
            if not self._authority(admin, domain_id):
                raise NotFound("Resource does not exist.")
            return self._render_admin(admin)

    def set_domain_authorities(self, domain_id: str, admin_id: str, body: Any) -> list[str]:
        """PUT /domains/{id}/admins/{adminId}/authorities: the admin's permissions on the domain, replaced."""
        with self._write():
            self._domain(domain_id)
            admin = copy.deepcopy(self._admin(admin_id))
            authority = self._authority(admin, domain_id)
            if authority is None:
                raise NotFound("Resource does not exist.")
            authority["permissions"] = self.checked_permissions(body, DOMAIN_PERMISSIONS)
            self._put("admin", admin)
            return list(authority["permissions"])

    def revoke_domain_admin(self, domain_id: str, admin_id: str) -> None:
        """DELETE /domains/{id}/admins/{adminId}: an admin left with no access is deleted, tokens included."""
        with self._write():
            self._domain(domain_id)
            admin = copy.deepcopy(self._admin(admin_id))
            if not self._authority(admin, domain_id):
                raise NotFound("Resource does not exist.")
            admin["authorities"] = [a for a in admin["authorities"] if a["objectId"] != domain_id]
            if admin["authorities"]:
                self._put("admin", admin)
            else:
                self._delete_admin(admin_id)

    def _delete_admin(self, admin_id: str) -> None:
        for token in [t for t in self._objects["token"].values() if t["adminId"] == admin_id]:
            self._remove("token", token["id"])
        self._remove("admin", admin_id)

    # ----- /security/admins (5.1) -------------------------------------------------------------------------
    def list_admins(self, params: Mapping[str, str]) -> tuple[list[dict[str, Any]], int]:
        with self._lock:
            return self._admins_page([self._render_admin(a) for a in self._objects["admin"].values()], params)

    def get_admin(self, admin_id: str) -> dict[str, Any]:
        with self._lock:
            return self._render_admin(self._admin(admin_id))

    def patch_admin(self, admin_id: str, body: Any) -> dict[str, Any]:
        """PATCH /security/admins/{id} (AdminUpdate): only the fields given change; TOTP can only be disabled."""
        if not isinstance(body, Mapping):
            raise BadRequest("the body must be an AdminUpdate object")
        unknown = sorted(set(body) - {"email", "displayName", "password", "enabled", "totp", "language"})
        if unknown:
            raise BadRequest(f"unknown field(s): {', '.join(unknown)}")
        with self._write():
            admin = copy.deepcopy(self._admin(admin_id))
            for key, check in (("email", lambda v: _text("email", v, required=True)),
                               ("displayName", lambda v: _text("displayName", v, required=True)),
                               ("password", lambda v: _text("password", v, required=True, max_length=128)),
                               ("enabled", lambda v: _bool("enabled", v)),
                               ("language", lambda v: _enum("language", v, LANGUAGES))):
                if key in body:
                    admin[key] = check(body[key])
            if "totp" in body:
                if _bool("totp", body["totp"]) and not admin["totp"]:
                    raise Unprocessable("totp: can only be disabled here; enabling it needs the QR code flow")
                admin["totp"] = bool(body["totp"])
            self._put("admin", admin)
            return self._render_admin(admin)

    def delete_admin(self, admin_id: str) -> None:
        with self._write():
            self._admin(admin_id)
            self._delete_admin(admin_id)

    # ----- personal tokens (5.2) ---------------------------------------------------------------------------
    def create_token(self, admin_id: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, Mapping) or set(body) - {"name", "expiration"}:
            raise BadRequest("the body must be a PersonalTokenAdd object {name, expiration}")
        with self._write():
            self._admin(admin_id)
            expiration = body.get("expiration")
            if expiration is not None:
                if not isinstance(expiration, int) or isinstance(expiration, bool):
                    raise BadRequest("expiration: must be a date (epoch milliseconds)")
                if expiration <= _now_ms():
                    raise Unprocessable("expiration: must be in the future")
                expiration -= expiration % 1000
            token = {"id": self._new_id("token"), "adminId": admin_id,
                     "name": _text("name", body.get("name"), required=True), "expiration": expiration,
                     "createdAt": _now_ms() // 1000 * 1000, "value": secrets.token_hex(16)}
            self._put("token", token)
            return {k: v for k, v in token.items() if k != "adminId"}

    def list_tokens(self, admin_id: str) -> list[dict[str, Any]]:
        with self._lock:
            self._admin(admin_id)
            return [{k: v for k, v in t.items() if k not in ("adminId", "value") and v is not None}
                    for t in self._objects["token"].values() if t["adminId"] == admin_id]

    def delete_token(self, admin_id: str, token_id: str) -> None:
        with self._write():
            self._admin(admin_id)
            token = self._objects["token"].get(token_id)
            if token is None or token["adminId"] != admin_id:
                raise NotFound("Resource does not exist.")
            self._remove("token", token_id)

    def token_is_valid(self, value: str) -> bool:
        """Whether `value` is a live personal token (not revoked, not expired, its admin enabled)."""
        with self._lock:
            for token in self._objects["token"].values():
                if secrets.compare_digest(token["value"], value):
                    admin = self._objects["admin"].get(token["adminId"])
                    expired = token["expiration"] is not None and token["expiration"] <= _now_ms()
                    return bool(admin and admin["enabled"] and not expired)
            return False
