"""A server filled through the APIs as a person would, for `mailinfra export`'s round-trip test and benchmark:
every type the package manages, awkward names, references between objects, secrets of every kind, an expiring
sender rule, a soft-deleted domain and an API token."""

from __future__ import annotations

import time
from typing import Any

SECRETS = {"relay": "Relay-pw-&-ünï", "ldap": "ldap-bind-pw", "oidc": "oidc-client-secret",
           "imap": "imap-remediation-pw", "o365": "o365-client-secret", "exchange": "ews-pw"}
ENG = "/ga/api/v3/eng"


def awkward_name(unit: int) -> str:
    """Quotes, a backslash, an apostrophe and length (GreenArrow names are printable ASCII)."""
    return f"Team \"A\" \\ B's limits {unit} " + "x" * 60


def fill_greenarrow(ga: Any, unit: int = 0) -> None:
    """A template with two rules, a relay with a password redirecting to another, a route overflowing to another."""
    ga.request("POST", f"{ENG}/throttling_templates", json={"throttling_template": {
        "name": awkward_name(unit), "default": {"max_concurrent_connections": 3, "max_messages_per_hour": 0},
        "rules": [{"domains": [f"example{unit}.org", f"example{unit}.net"], "max_concurrent_connections": 1,
                   "max_messages_per_hour": 60},
                  {"domains": [f"big{unit}.example"], "max_concurrent_connections": 9, "max_messages_per_hour": 0}]}})
    relay = {"source_ip": {"ip": f"192.0.2.{unit % 250 + 1}", "hostname": "out.example"},
             "throttle_limits": {"max_concurrent_connections": 0, "max_messages_per_hour": 0}}
    fallback = ga.request("POST", f"{ENG}/relay_servers", json={"relay_server": {
        **relay, "name": f"fallback {unit}", "destination": {"hostname": "fb.example", "port": 25}}})["relay_server"]
    ga.request("POST", f"{ENG}/relay_servers", json={"relay_server": {
        **relay, "name": f"primary 'edition' ({unit})", "redirect": {"id": fallback["id"]},
        "destination": {"hostname": "smtp.example", "port": 587, "username": "u", "password": SECRETS["relay"]}}})
    overflow = ga.request("POST", f"{ENG}/routes", json={"route": {
        "name": f"overflow {unit}", "requested_target_daily_volume": 100}})["route"]
    ga.request("POST", f"{ENG}/routes", json={"route": {
        "name": f"main route {unit}", "requested_target_daily_volume": 1000, "overflow_route": {"id": overflow["id"]}}})


def fill_cleanmail(cm: Any, unit: int = 0, expire_at: int | None = None) -> str:
    """A domain with three platforms (LDAP + IMAP, OpenID + O365, Exchange), policies, an account with its own
    options, signature and sender list, DKIM, aliases, an option, an email alias, filters, a domain sender list
    (with a rule expiring at `expire_at`, epoch ms), users access, an administrator with a token; a domain in
    the PENDING status (which the API refuses on create) and a soft-deleted domain. Returns the domain's id."""
    name = f"hand{unit}.example"
    smtp = {"transportDest": f"mx.{name}", "transportType": "SMTP", "transportPort": 25}
    domain = cm.request("POST", "/domains", json={
        "name": name, "status": "ENABLED", "quarantine": True, "retention": True, "archive": False,
        "defaultLanguage": "FR", "platforms": [
            {**smtp, "name": "ldap platform", "default": True, "authType": "ldap",
             "authData": {"host": "ldap.example", "port": 636, "bind_user": "cn=reader",
                          "bind_password": SECRETS["ldap"]},
             "apiType": "IMAP", "apiData": {"host": "imap.example", "port": 993, "login": "rem",
                                            "password": SECRETS["imap"]}},
            {**smtp, "name": "oidc platform", "authType": "oidc",
             "authData": {"issuerUri": "https://id.example", "clientId": "cm", "clientSecret": SECRETS["oidc"]},
             "apiType": "O365", "apiData": {"clientId": "app", "tenantId": "t1", "clientSecret": SECRETS["o365"]}},
            {**smtp, "name": "exchange platform", "apiType": "EXCHANGE",
             "apiData": {"host": "ews.example", "login": "rem", "password": SECRETS["exchange"]}}]})
    d = domain["id"]
    gone = cm.request("POST", "/domains", json={"name": f"gone{unit}.example", "status": "ENABLED",
                                                "quarantine": True, "retention": False, "archive": False,
                                                "defaultLanguage": "EN"})
    cm.request("DELETE", f"/domains/{gone['id']}")
    pending = cm.request("POST", "/domains", json={"name": f"pending{unit}.example", "status": "DISABLED",
                                                   "quarantine": False, "retention": False, "archive": False,
                                                   "defaultLanguage": "EN"})
    cm.request("PATCH", f"/domains/{pending['id']}", json={"status": "PENDING"})  # settable only once it exists
    policy = cm.request("POST", f"/domains/{d}/policies", json={
        "name": 'Exec\'s "policy"', "quarantine": True, "retention": True, "incoming": True})
    jane = cm.request("POST", "/users", json={"email": f"jane@{name}", "domainId": d, "firstname": "Jäne",
                                              "lastname": "O'Doe", "status": "ENABLED", "policyId": policy["id"],
                                              "password": "jane-account-pw"})
    cm.request("POST", f"/users/{jane['id']}/options", json={"name": "REPORT_FREQUENCY", "value": "WEEKLY"})
    cm.request("PUT", f"/users/{jane['id']}/sign", json={"sign": "PHA+SsOkbmU8L3A+"})
    cm.request("POST", f"/domains/{d}/dkim", json={"selector": "hand"})
    cm.request("PUT", f"/domains/{d}/aliases", json=[f"alias{unit}.example"])
    cm.request("POST", f"/domains/{d}/options", json={"name": "DOMAIN_ADMIN", "value": f"admin@{name}"})
    group = cm.request("POST", f"/domains/{d}/groups", json={"email": f"team@{name}"})
    cm.request("POST", f"/domains/{d}/groups/{group['id']}/addresses", json=[f"jane@{name}", "x@else.example"])
    cm.request("POST", f"/domains/{d}/filters/attachments", json={"action": "DENY", "checkType": "FILENAME",
                                                                   "filter": r"\.exe$"})
    cm.request("POST", f"/domains/{d}/filters/uris", json={"action": "URIDNSBL_SKIP_DOMAIN", "filter": "ok.example"})
    rules: list[dict[str, Any]] = [{"value": "spam.example", "type": "BLOCK", "description": 'ünï "block"'}]
    if expire_at is not None:
        rules.append({"value": "old@partner.example", "type": "ALLOW", "spfOn": True, "expireAt": expire_at})
    cm.request("POST", f"/domains/{d}/wblist", json=rules)
    cm.request("POST", f"/users/{jane['id']}/wblist", json=[{"value": "news.example", "type": "BLOCK"}])
    cm.request("PUT", f"/domains/{d}/access", json=["QUARANTINE_RELEASE", "WBLIST_WRITE"])
    admin = cm.request("POST", f"/domains/{d}/admins", json={
        "login": f"ops-admin-{unit}", "displayName": 'Ops "Admin"', "email": f"ops@{name}",
        "password": "admin-account-pw", "enabled": True, "language": "DE", "permissions": ["DOMAIN_READ"]})
    cm.request("POST", f"/admins/{admin['id']}/tokens", json={"name": "ci token"})
    return str(d)


def fill(ga: Any, cm: Any, units: int = 1) -> None:
    """`units` copies of everything; the expiring rules have expired when this returns."""
    expire_at = int(time.time() * 1000) + 1500
    for unit in range(units):
        fill_greenarrow(ga, unit)
        fill_cleanmail(cm, unit, expire_at)
    time.sleep(max(0.0, (expire_at - time.time() * 1000) / 1000) + 0.5)
