"""Write a ready-to-run Pulumi program declaring every object a live server (or the emulator) holds.

Reads GreenArrow (relay servers, throttling templates with their rules, routes) and Cleanmail (domains with
their default and other policies, DKIM, aliases, options, users, email aliases, filters, sender lists) through
the same clients the providers use. References between objects become resource outputs
(`redirect={"id": fallback.id}`), secrets are read from stack config (`config.require_secret(...)`), and every
resource has `adopt_existing=True`, so the first `up` takes the objects over without recreating anything.
Credentials come from the environment (GREENARROW_USERNAME / GREENARROW_PASSWORD, CLEANMAIL_TOKEN).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import keyword
import re
import sys
import textwrap
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WIDTH = 120  # the generated file passes `ruff` at this line length
SERVICES = ("greenarrow", "cleanmail")


@dataclass(frozen=True)
class Ref:
    """An output of another declared resource (`fallback_relay.id`)."""

    var: str
    attr: str = "id"


@dataclass(frozen=True)
class SecretConfig:
    """A secret the program reads from stack config instead of holding it."""

    key: str


@dataclass
class Decl:
    var: str
    module: str
    type_name: str
    logical: str
    inputs: dict[str, Any]
    adopt: bool = True


@dataclass
class Program:
    decls: list[Decl] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)  # config key -> what it is for
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # objects left out, each with the reason
    _vars: set[str] = field(default_factory=set)

    def var(self, prefix: str, name: str) -> str:
        base = re.sub(r"[^0-9a-zA-Z]+", "_", f"{prefix}_{name}").strip("_").lower()[:48].rstrip("_") or prefix
        if base[0].isdigit() or keyword.iskeyword(base):
            base = f"{prefix}_{base}"
        candidate, number = base, 2
        while candidate in self._vars or candidate in ("config", "pulumi", "greenarrow", "cleanmail"):
            candidate, number = f"{base}_{number}", number + 1
        self._vars.add(candidate)
        return candidate

    def secret(self, key: str, purpose: str) -> SecretConfig:
        key = re.sub(r"[^0-9a-zA-Z]+", " ", key).title().replace(" ", "")
        key = key[0].lower() + key[1:]
        self.secrets[key] = purpose
        return SecretConfig(key)

    def add(self, decl: Decl) -> Decl:
        self.decls.append(decl)
        return decl


# ----- Python source of values ---------------------------------------------------------------------------------
def literal(value: Any, indent: int = 0, room: int = WIDTH) -> str:
    """`value` as Python source: on one line when it fits in `room`, else one item per line."""
    flat = _flat(value)
    if isinstance(value, str) and len(flat) > room:
        return _long_string(value, indent)
    if len(flat) <= room or not isinstance(value, (dict, list)) or not value:
        return flat
    pad, inner = " " * indent, " " * (indent + 4)
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {literal(v, indent + 4, WIDTH - indent - 6 - len(json.dumps(k)))},"
                 for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    items = [f"{inner}{literal(v, indent + 4, WIDTH - indent - 5)}," for v in value]
    return "[\n" + "\n".join(items) + f"\n{pad}]"


def _long_string(value: str, indent: int) -> str:
    """A string too long for one line, as parenthesised pieces Python joins (`("abc"\n "def")`)."""
    width = max(20, (WIDTH - indent - 8) // 2)  # a piece's escapes can double its length
    pieces = [json.dumps(value[i:i + width], ensure_ascii=False) for i in range(0, len(value), width)]
    pad = " " * (indent + 4)
    return "(\n" + "\n".join(f"{pad}{piece}" for piece in pieces) + f"\n{' ' * indent})"


def _flat(value: Any) -> str:
    if isinstance(value, Ref):
        return f"{value.var}.{value.attr}"
    if isinstance(value, SecretConfig):
        return f"config.require_secret({json.dumps(value.key)})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_flat(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flat(v) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def render_decl(decl: Decl) -> str:
    head = f"{decl.var} = {decl.module}.{decl.type_name}("
    args = [literal(decl.logical, 4, WIDTH - 5)]
    args += [f"{key}={literal(value, 4, WIDTH - 6 - len(key))}" for key, value in decl.inputs.items()]
    if decl.adopt:
        args.append("adopt_existing=True")
    one_line = head + ", ".join(args) + ")"
    if len(one_line) <= WIDTH and "\n" not in one_line:
        return one_line
    return head + "\n" + "".join(f"    {arg},\n" for arg in args) + ")"


def render_program(program: Program, source: str) -> str:
    modules = sorted({d.module for d in program.decls})
    lines = [f'"""Generated by `mailinfra export` from {source} on {time.strftime("%Y-%m-%d")}.', "",
             "Every object found is declared with `adopt_existing=True`: the first `pulumi up` takes them over "
             "(nothing is", "created or deleted) and the next preview is empty."]
    if program.secrets:
        lines += ["", "Set the secrets first (they are never written here):"]
        for key, purpose in program.secrets.items():
            lines += [f"    pulumi config set --secret {key} <value>", f"        ({purpose})"[:WIDTH]]
    for note in program.notes:
        lines += ["", *textwrap.wrap(note, width=WIDTH - 4)]
    if program.skipped:
        lines += ["", "Not exported:"]
        for reason in program.skipped:
            lines += textwrap.wrap(f"- {reason}", width=WIDTH - 4, subsequent_indent="  ")
    lines[-1] += '"""'
    if not program.decls:
        return "\n".join([*lines, "", "# The servers hold no object yet: declare new ones here."]) + "\n"
    lines += ["", "import pulumi", "", f"from pulumi_mailinfra import {', '.join(modules)}", ""]
    if program.secrets:
        lines += ["config = pulumi.Config()", ""]
    lines += [render_decl(decl) for decl in program.decls]
    lines += ["", *[_export_line(d.var) for d in program.decls]]
    return "\n".join(lines).rstrip() + "\n"


def _export_line(var: str) -> str:
    line = f"pulumi.export({json.dumps(var)}, {var}.id)"
    return line if len(line) <= WIDTH else f"pulumi.export(\n    {json.dumps(var)},\n    {var}.id,\n)"


# ----- reading the servers ----------------------------------------------------------------------------------------
def _inputs(provider: Any, record: Mapping[str, Any], *, drop: Iterable[str] = ()) -> dict[str, Any]:
    """The record's values of the resource's inputs, in the model's order, without nulls."""
    keys = [k for k in provider.spec.input_keys if k not in set(drop)]
    return {k: record[k] for k in keys if record.get(k) is not None}


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value]
    return value


RULE_FORMS = {
    "standalone": "each template's rules are exported as `ThrottlingRule` resources: rules added to a template "
    "later, by another stack or by hand, are left alone",
    "inline": "each template's rules are exported inline (`rules=`), which own the template's whole list: a rule "
    "added to a template later, by another stack or by hand, is deleted by this stack's next `up`",
}


def export_greenarrow(client: Any, program: Program, rules: str = "standalone") -> None:
    from pulumi_mailinfra.greenarrow.providers import RelayServerProvider, RouteProvider, ThrottlingTemplateProvider

    templates = ThrottlingTemplateProvider()
    for item in client.list_all("/throttling_templates", "throttling_templates"):
        record = templates.fetch(client, str(item["id"]), {})
        inputs = _inputs(templates, record, drop=("rules",))
        listed = [_strip_nulls({k: v for k, v in rule.items() if k != "id"}) for rule in record.get("rules") or []]
        if rules == "inline":
            inputs["rules"] = listed
        var = program.var("template", record["name"])
        program.add(Decl(var, "greenarrow", "ThrottlingTemplate", record["name"], _strip_nulls(inputs)))
        if rules == "standalone":
            for rule in listed:
                label = f"{record['name']} {' '.join(rule.get('domains') or [])}"[:200]
                program.add(Decl(program.var("rule", label), "greenarrow", "ThrottlingRule", label,
                                 {"template_id": Ref(var), **rule}))

    relays = RelayServerProvider()
    records = [relays.fetch(client, str(item["id"]), {})
               for item in client.list_all("/relay_servers", "relay_servers")]
    by_id = {str(r["id"]): r for r in records}
    declared: dict[str, str] = {}

    def declare_relay(record: Mapping[str, Any], seen: tuple[str, ...] = ()) -> None:
        rid = str(record["id"])
        if rid in declared:
            return
        redirect = record.get("redirect") or {}
        target = by_id.get(str(redirect.get("id"))) if redirect else None
        if target is not None and str(target["id"]) not in seen:
            declare_relay(target, (*seen, rid))  # the redirect target first: it is referred to by its id
        inputs = _inputs(relays, record)
        destination = dict(inputs.get("destination") or {})
        if destination.get("password") is not None:  # answered by the API: never written, read from config
            destination["password"] = program.secret(f"{record['name']} password",
                                                      f"the destination password of relay {record['name']}")
        inputs["destination"] = destination
        if redirect:
            inputs["redirect"] = ({"id": Ref(declared[str(target["id"])])} if target is not None
                                  and str(target["id"]) in declared else {"name": redirect.get("name")}
                                  if redirect.get("name") else {"id": redirect.get("id")})
        var = program.var("relay", record["name"])
        declared[rid] = var
        program.add(Decl(var, "greenarrow", "RelayServer", record["name"], _strip_nulls(inputs)))

    for record in records:
        declare_relay(record)

    routes = RouteProvider()
    route_records = [routes.fetch(client, str(item["id"]), {}) for item in client.list_all("/routes", "routes")]
    route_ids = {str(r["id"]): r for r in route_records}
    route_vars: dict[str, str] = {}

    def declare_route(record: Mapping[str, Any], seen: tuple[str, ...] = ()) -> None:
        if str(record["id"]) in route_vars:
            return
        overflow = record.get("overflow_route") or {}
        target = route_ids.get(str(overflow.get("id"))) if overflow else None
        if target is not None and str(target["id"]) not in seen:
            declare_route(target, (*seen, str(record["id"])))
        inputs = _inputs(routes, record)
        if overflow:
            inputs["overflow_route"] = ({"id": Ref(route_vars[str(target["id"])])} if target is not None
                                        and str(target["id"]) in route_vars else dict(overflow))
        var = program.var("route", record["name"])
        route_vars[str(record["id"])] = var
        program.add(Decl(var, "greenarrow", "Route", record["name"], _strip_nulls(inputs)))

    for record in route_records:
        declare_route(record)


def export_cleanmail(client: Any, program: Program) -> None:
    from pulumi_mailinfra.cleanmail import providers as cm

    admins = _export_admins(client, program, cm)
    domains = cm.DomainProvider()
    for item in client.list_all("/domains", "domains"):
        record = domains.unwrap(client.get(client.path(f"/domains/{item['id']}")))
        if domains.is_gone(record) or record.get("status") == "DELETED":
            program.skipped.append(f"domain {record['name']!r}: soft-deleted (creating it again restores it; "
                                   "purged after the API's retention)")
            continue
        _export_domain(client, program, cm, record, admins)


def _export_admins(client: Any, program: Program, cm: Any) -> dict[str, str]:
    """Each administrator account as an `Admin` (its settings taken over; nothing is created and destroy leaves
    the account); its accesses to domains follow as `DomainAdmin`s naming it. Passwords are never answered and
    are left as they are (not declared); tokens are listed as not exportable. Returns account id -> variable."""
    provider = cm.AdminProvider()
    declared: dict[str, str] = {}
    for item in client.list_all("/security/admins", "admins"):
        account = provider.unwrap(client.get(client.path(f"/security/admins/{item['id']}")))
        login = str(account.get("login") or account["id"])
        settings = _inputs(provider, account, drop=("admin_id", "password", "totp"))
        var = program.var("admin", login)
        program.add(Decl(var, "cleanmail", "Admin", f"admin {login}",
                         {"admin_id": str(account["id"]), **_strip_nulls(settings)}, adopt=False))
        declared[str(account["id"])] = var
        for token in client.list_all(f"/admins/{account['id']}/tokens", "tokens"):
            program.skipped.append(
                f"API token {token.get('name')!r} of administrator {login!r}: the API answers a token's value only "
                "when it is made, so a program cannot hand this one out; declare a new `AdminToken` where the "
                "stack should provide one, and revoke this one once its users have moved")
    return declared


def _export_domain(
    client: Any, program: Program, cm: Any, record: Mapping[str, Any], admins: Mapping[str, str]
) -> None:
    name = str(record["name"])
    domain_id = str(record["id"])
    inputs = _inputs(cm.DomainProvider(), record, drop=("ignore_mx",))
    platforms = [_platform_with_secrets(program, name, {k: v for k, v in platform.items() if k != "id"})
                 for platform in inputs.get("platforms") or []]
    if platforms:
        inputs["platforms"] = platforms
    domain_var = program.var("domain", name)
    program.add(Decl(domain_var, "cleanmail", "Domain", name, _strip_nulls(inputs)))
    domain_ref = Ref(domain_var)

    policies = list(client.list_all(f"/domains/{domain_id}/policies", "policies"))
    policy_vars: dict[str, Any] = {}
    default_provider, policy_provider = cm.DomainDefaultPolicyProvider(), cm.DomainPolicyProvider()
    for policy in policies:
        unwrapped = policy_provider.unwrap(policy)
        if str(policy["id"]) == str(record.get("default_policy_id")):
            # The service flags are the Domain's inputs (the default policy refuses them).
            settings = _inputs(default_provider, unwrapped, drop=("domain_id", *cm.POLICY_FLAGS))
            var = program.var("default_policy", name)
            program.add(Decl(var, "cleanmail", "DomainDefaultPolicy", f"{name} default policy",
                             {"domain_id": domain_ref, **_strip_nulls(settings)}, adopt=False))
            policy_vars[str(policy["id"])] = Ref(domain_var, "default_policy_id")
            continue
        settings = _inputs(policy_provider, unwrapped, drop=("domain_id",))
        var = program.var("policy", f"{name} {unwrapped.get('name')}")
        program.add(Decl(var, "cleanmail", "DomainPolicy", f"{name} {unwrapped.get('name')}",
                         {"domain_id": domain_ref, **_strip_nulls(settings)}))
        policy_vars[str(policy["id"])] = Ref(var)

    from pulumi_mailinfra.errors import NotFoundError

    try:
        lines = client.get(client.path(f"/domains/{domain_id}/dkim"))
    except NotFoundError:  # no DKIM entry: nothing to declare
        lines = None
    if lines:
        dkim = cm.DomainDkimProvider().record(lines, {"domain_id": domain_id})
        program.add(Decl(program.var("dkim", name), "cleanmail", "DomainDkim", f"{name} dkim",
                         {"domain_id": domain_ref, "domain_name": Ref(domain_var, "name"),
                          "selector": dkim["selector"]}))

    aliases = sorted(str(a["name"]) for a in client.list_all(f"/domains/{domain_id}/aliases", "aliases"))
    if aliases:
        program.add(Decl(program.var("aliases", name), "cleanmail", "DomainAliases", f"{name} aliases",
                         {"domain_id": domain_ref, "names": aliases}))

    for option in client.list_all(f"/domains/{domain_id}/options", "options"):
        option_name = str((option.get("option") or {}).get("name") or option.get("name"))
        if option.get("value") is not None and option.get("value") != option.get("parentValue"):
            program.add(Decl(program.var("option", f"{name} {option_name}"), "cleanmail", "DomainOption",
                             f"{name} {option_name}",
                             {"domain_id": domain_ref, "name": option_name, "value": option["value"]}))

    users = cm.UserProvider()
    user_vars: dict[str, str] = {}
    for item in client.list_all(f"/domains/{domain_id}/users", "users"):
        user = users.unwrap(client.get(client.path(f"/users/{item['id']}")))
        inputs = _inputs(users, user, drop=("domain_id", "password", "send_notification", "send_welcome_mail",
                                            "policy_id", "platform_id"))
        if user.get("policy_id") is not None and str(user["policy_id"]) != str(record.get("default_policy_id")):
            inputs["policy_id"] = policy_vars.get(str(user["policy_id"]), user["policy_id"])
        var = program.var("user", str(user["email"]))
        user_vars[str(user["id"])] = var
        program.add(Decl(var, "cleanmail", "User", str(user["email"]), {"domain_id": domain_ref, **inputs}))

    for group in client.list_all(f"/domains/{domain_id}/groups", "groups"):
        members = group.get("recipients") or group.get("addresses") or []
        recipients = sorted(str(m.get("email") if isinstance(m, Mapping) else m) for m in members if m)
        program.add(Decl(program.var("email_alias", str(group["email"])), "cleanmail", "EmailAlias",
                         str(group["email"]), {"domain_id": domain_ref, "email": group["email"],
                                               "recipients": recipients}))

    for kind, segment in (("AttachmentFilter", "attachments"), ("UriBlFilter", "uris")):
        provider = getattr(cm, f"{kind}Provider")()
        for found in client.list_all(f"/domains/{domain_id}/filters/{segment}", "filters"):
            settings = _inputs(provider, provider.unwrap(found), drop=("domain_id",))
            label = f"{name} {segment} {found['filter']}"
            program.add(Decl(program.var(segment.rstrip("s") + "_filter", label), "cleanmail", kind, label,
                             {"domain_id": domain_ref, **_strip_nulls(settings)}))

    access = cm.DomainUsersAccessProvider().fetch(client, domain_id, {"domain_id": domain_id})
    if access.get("permissions"):
        program.add(Decl(program.var("users_access", name), "cleanmail", "DomainUsersAccess", f"{name} users access",
                         {"domain_id": domain_ref, "permissions": sorted(access["permissions"])}))

    domain_admins = cm.DomainAdminProvider()
    for item in client.list_all(f"/domains/{domain_id}/admins", "admins"):
        admin_var = admins.get(str(item["id"]))
        inputs = {"domain_id": domain_ref, "admin_id": Ref(admin_var) if admin_var else str(item["id"])}
        access_record = domain_admins.fetch(client, str(item["id"]), inputs | {"domain_id": domain_id})
        login = str(access_record.get("account_login") or item["id"])
        program.add(Decl(program.var("domain_admin", f"{name} {login}"), "cleanmail", "DomainAdmin",
                         f"{name} admin {login}", {**inputs, "permissions": access_record["permissions"]}))

    rules = list(client.list_all(f"/domains/{domain_id}/wblist", "rules"))
    if rules:
        program.add(Decl(program.var("sender_rules", name), "cleanmail", "DomainSenderRules", f"{name} sender rules",
                         {"domain_id": domain_ref, "rules": _sender_rules(cm, rules)}))
    for user_id, user_var in user_vars.items():
        _export_account_settings(client, program, cm, user_id, user_var)
        rules = list(client.list_all(f"/users/{user_id}/wblist", "rules"))
        if rules:
            program.add(Decl(program.var("sender_rules", user_var), "cleanmail", "MailboxSenderRules",
                             f"{user_var} sender rules", {"user_id": Ref(user_var), "rules": _sender_rules(cm, rules)}))


def _export_account_settings(client: Any, program: Program, cm: Any, user_id: str, user_var: str) -> None:
    """An account's own options (those set at its scope) and its signature."""
    from pulumi_mailinfra.errors import NotFoundError

    for option in client.list_all(f"/users/{user_id}/options", "options"):
        option_name = str((option.get("option") or {}).get("name") or option.get("name"))
        if option.get("value") is not None and option.get("value") != option.get("parentValue"):
            program.add(Decl(program.var("user_option", f"{user_var} {option_name}"), "cleanmail", "UserOption",
                             f"{user_var} {option_name}",
                             {"user_id": Ref(user_var), "name": option_name, "value": option["value"]}))
    try:
        signature = cm.UserSignatureProvider().fetch(client, user_id, {"user_id": user_id})
    except NotFoundError:  # none, or none applies (the account's policy has no service)
        return
    program.add(Decl(program.var("signature", user_var), "cleanmail", "UserSignature", f"{user_var} signature",
                     {"user_id": Ref(user_var), "html": signature["html"]}))


def _platform_with_secrets(program: Program, domain: str, platform: dict[str, Any]) -> dict[str, Any]:
    """Every secret the platform's authentication and remediation API take (the API never answers them, and a
    platform written without one loses the one the server holds) read from stack config, one key each."""
    from pulumi_mailinfra.cleanmail.models import API_KEYS, AUTH_KEYS

    label = f"{domain} {platform.get('name')}"
    for settings, kind, applicable, secrets in (
        ("auth_data", platform.get("auth_type"), AUTH_KEYS, {"bind_password": "LDAP bind password",
                                                              "client_secret": "OpenID client secret"}),
        ("api_data", platform.get("api_type"), API_KEYS, {"password": "remediation API password",
                                                          "client_secret": "remediation API client secret"}),
    ):
        for key, what in secrets.items():
            if isinstance(kind, str) and key in applicable.get(kind, set()):
                values = dict(platform.get(settings) or {})
                values[key] = program.secret(f"{label} {settings} {key}",
                                             f"the {what} of platform {platform.get('name')!r} of {domain} ({kind})")
                platform[settings] = values
    return platform


def _sender_rules(cm: Any, rules: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    from pulumi_mailinfra.cleanmail.models import SenderRuleModel
    from pulumi_mailinfra.wire import from_api

    keys = SenderRuleModel.model_fields
    out = []
    for rule in rules:
        plain = from_api(SenderRuleModel, cm._rule_from_wire(rule))
        out.append(_strip_nulls({k: plain[k] for k in keys if k in plain}))
    return sorted(out, key=lambda r: str(r.get("value", "")).lower())




def clients(args: argparse.Namespace) -> dict[str, Any]:
    """One client per service asked for: `--url` is the service's URL (or, with `all`, the emulator's base URL,
    Cleanmail under `/cleanmail`); without it, GREENARROW_URL / CLEANMAIL_URL. Credentials from the environment."""
    from pulumi_mailinfra.cleanmail.client import cleanmail_client
    from pulumi_mailinfra.greenarrow.client import greenarrow_client

    wanted = SERVICES if args.service == "all" else (args.service,)
    raw: dict[str, Any] = {}
    if args.url:
        if args.service == "all":
            raw = {"mailinfra:greenarrowUrl": args.url, "mailinfra:cleanmailUrl": f"{args.url.rstrip('/')}/cleanmail"}
        else:
            raw = {f"mailinfra:{args.service}Url": args.url}
    factories = {"greenarrow": greenarrow_client, "cleanmail": cleanmail_client}
    return {service: factories[service](raw or None) for service in wanted}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--service", choices=(*SERVICES, "all"), default="all", help="what to read (default: all)")
    parser.add_argument("--url", help="the service's URL (with `all`: the emulator's base URL)")
    parser.add_argument("--out", type=Path, default=Path("mailinfra-export"), help="the project folder to write")
    parser.add_argument("--project-name", default=None, help="the Pulumi project's name (default: the folder's)")
    parser.add_argument("--rules", choices=tuple(RULE_FORMS), default="standalone",
                        help="how throttling templates' rules are declared: standalone ThrottlingRule resources "
                        "(default: rules others add are left alone) or inline `rules=` (the template owns its whole "
                        "list: rules others add are deleted)")


def requirement() -> str:
    """The package line of the exported project's requirements.txt: where this installation came from when that
    was a folder or a file (a clone, a built wheel: PEP 610's direct_url.json), else this version or a compatible
    later one from the package index."""
    from importlib.metadata import distributions

    found = list(distributions(name="pulumi-mailinfra"))  # a source folder's egg-info may come first
    if not found:
        return "pulumi-mailinfra"
    for installed in found:
        with contextlib.suppress(TypeError, ValueError):
            origin = json.loads(installed.read_text("direct_url.json") or "null")
            if isinstance(origin, dict) and str(origin.get("url", "")).startswith("file://"):
                return f"pulumi-mailinfra @ {origin['url']}"
    major_minor = ".".join(found[0].version.split(".")[:2])
    return f"pulumi-mailinfra>={found[0].version},=={major_minor}.*"


def project_readme(program: Program, project: str) -> str:
    lines = [f"# {project}", "", "Exported by `mailinfra export`. Every object is declared with `adopt_existing=True`: "
             "the first `pulumi up` of a new stack takes them over (nothing created or deleted) and the next "
             "preview is empty.", "", "## Set-up", "", "```sh",
             "pulumi install                 # makes ./venv from requirements.txt (Pulumi.yaml names it)",
             "pulumi stack init <stack>",
             "pulumi config set mailinfra:greenarrowUrl <url>      # and greenarrowUsername, cleanmailUrl",
             "pulumi config set --secret mailinfra:greenarrowPassword <password>",
             "pulumi config set --secret mailinfra:cleanmailToken <token>"]
    lines += [f"pulumi config set --secret {key} <value>    # {purpose}" for key, purpose in program.secrets.items()]
    lines += ["pulumi up", "```"]
    if program.skipped:
        lines += ["", "## Not exported", ""] + [f"- {reason}" for reason in program.skipped]
    if program.notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in program.notes]
    return "\n".join(lines) + "\n"


def write_project(program: Program, out: Path, project: str, source: str) -> list[Path]:
    """The project runs as written: Pulumi.yaml names the virtualenv `requirements.txt` fills."""
    out.mkdir(parents=True, exist_ok=True)
    main = out / "__main__.py"
    main.write_text(render_program(program, source))
    written = [main]
    spec = out / "Pulumi.yaml"
    if not spec.exists():  # a project the user has already set up keeps its own
        spec.write_text(f"name: {project}\ndescription: Mail infrastructure exported by mailinfra export\n"
                        "runtime:\n  name: python\n  options:\n    toolchain: pip\n    virtualenv: venv\n")
        written.append(spec)
    requirements = out / "requirements.txt"
    if not requirements.exists():
        requirements.write_text(f"{requirement()}\n")
        written.append(requirements)
    readme = out / "README.md"
    readme.write_text(project_readme(program, project))
    written.append(readme)
    return written


def run(args: argparse.Namespace) -> int:
    from pulumi_mailinfra.errors import MailinfraError

    started = time.monotonic()
    program = Program()
    try:
        for service, client in clients(args).items():
            if service == "greenarrow":
                export_greenarrow(client, program, args.rules)
                program.notes.append(RULE_FORMS[args.rules] + " (`--rules` chooses)")
            else:
                export_cleanmail(client, program)
                if any(d.type_name in ("User", "Admin") for d in program.decls):
                    program.notes.append("account passwords (users, administrators) are not declared: the API never "
                                         "answers them, so each account keeps its own; add "
                                         "`password=config.require_secret(...)` to manage one")
        if args.service == "all":
            program.notes.append("Elemta: nothing to export (a `DeliveryCheck` sends a test message when deployed; "
                                 "it is no state the server holds)")
    except MailinfraError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    project = args.project_name or re.sub(r"[^A-Za-z0-9_.-]+", "-", args.out.resolve().name) or "mailinfra-export"
    written = write_project(program, args.out, project, args.url or "the configured servers")
    print(f"exported {len(program.decls)} resources in {time.monotonic() - started:.1f}s to "
          f"{', '.join(str(p) for p in written)}")
    for key, purpose in program.secrets.items():
        print(f"  set {purpose}: pulumi config set --secret {key} ...")
    for reason in program.skipped:
        print(f"  not exported: {reason}")
    for note in program.notes:
        print(f"  note: {note}")
    return 0
