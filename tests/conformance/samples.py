"""The conformance suite's input: one `Sample` per resource type. A new type is covered by adding its sample here;
`test_samples.py` refuses a type without one and an input field (nested keys included) that no out-of-band change
exercises and no `unseen` entry explains."""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from pulumi_mailinfra.cleanmail import providers as cleanmail_providers
from pulumi_mailinfra.cleanmail.models import DomainModel, PolicyModel, UserModel
from pulumi_mailinfra.elemta import providers as elemta_providers
from pulumi_mailinfra.elemta.models import DeliveryCheckModel
from pulumi_mailinfra.greenarrow.providers import (
    RelayServerProvider,
    RouteProvider,
    ThrottlingRuleProvider,
    ThrottlingTemplateProvider,
)
from pulumi_mailinfra.provider import CrudProvider


@dataclass(frozen=True)
class Ref:
    """Another sample's output (its `id` by default), resolved in the program."""

    sample: str
    output: str = "id"


@dataclass(frozen=True)
class Sample:
    """One resource of the conformance stack and what the suite does to it."""

    name: str  # the logical name; other samples refer to it with Ref(name)
    provider: type[CrudProvider]
    inputs: dict[str, Any]
    # Out-of-band changes made through the API, one change set per round: dotted path -> the value the API gets.
    # Across the sets every input leaf of the type appears (or is listed in `unseen`).
    drift: tuple[dict[str, Any], ...] = ()
    unseen: Mapping[str, str] = field(default_factory=dict)  # leaf path -> why no out-of-band change is checked
    update: dict[str, Any] = field(default_factory=dict)  # inputs changed in place (no replacement)
    replace: dict[str, Any] = field(default_factory=dict)  # inputs whose change replaces the object
    reorder: dict[str, Any] = field(default_factory=dict)  # set-like lists in another order: no change
    # Set-like lists with an item twice or in two cases: refused at preview (naming the field) or no change
    repeats: dict[str, Any] = field(default_factory=dict)
    deletable: bool = True  # deleted through the API in the delete round (its dependents are not)
    # True: a value its owner always has (a whole list): deleted through the API it is emptied, which refresh shows
    # as an update and `up` reverts
    whole_value: bool = False
    volatile: Mapping[str, str] = field(default_factory=dict)  # output -> why it may change between reads
    kept: str = ""  # why destroy leaves the object on the server (a takeover: left as found)
    on_server: bool = True  # False: nothing of it lives on the server (a delivery check), so none to find or delete

    @property
    def type_name(self) -> str:
        return self.provider.spec.type_name

    @property
    def service(self) -> str:
        return self.provider.spec.service


def covered_on(sample: str, *paths: str) -> dict[str, str]:
    """`unseen` entries for fields another sample of the type changes out of band."""
    return {path: f"covered on `{sample}`" for path in paths}


def leaf_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every input leaf of a model, nested models walked (`rules[].domains`)."""
    paths: list[str] = []
    for name, info in model.model_fields.items():
        nested, is_list = _nested(info.annotation)
        path = f"{prefix}{name}{'[]' if is_list and nested else ''}"
        paths += leaf_paths(nested, f"{path}.") if nested else [path]
    return paths


def _nested(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = typing.get_origin(annotation)
    for arg in typing.get_args(annotation):
        found, is_list = _nested(arg)
        if found is not None:
            return found, is_list or origin is list
    return None, False


def bare(path: str) -> str:
    """`rules[0].domains` -> `rules[].domains`."""
    return re.sub(r"\[\d+\]", "[]", path)


SNAPSHOT = "a snapshot of other resources' objects as of this resource's last read (documented so)"
DOMAIN_SNAPSHOTS = {"domain_aliases": SNAPSHOT, "policies_count": SNAPSHOT, "active_users_count": SNAPSHOT}


GREENARROW: tuple[Sample, ...] = (
    Sample("relay-spare", RelayServerProvider,  # what `fallback` is redirected to out of band
           {"name": "conf-relay-spare", "source_ip": {"ip": "192.0.2.30", "hostname": "spare.example.com"},
            "destination": {"hostname": "smtp-spare.example.net", "port": 25}},
           unseen=covered_on("fallback", "name", "source_ip.ip", "source_ip.hostname", "destination.hostname",
                             "destination.port", "destination.username", "destination.password",
                             "throttle_limits.max_concurrent_connections", "throttle_limits.max_messages_per_hour",
                             "redirect.id", "redirect.name")),
    Sample(
        "fallback", RelayServerProvider,
        {"name": "conf-fallback", "source_ip": {"ip": "192.0.2.20", "hostname": "fallback.example.com"},
         "destination": {"hostname": "smtp-fallback.example.net", "port": 25}},
        drift=(
            {"name": "conf-fallback-oob", "source_ip.ip": "192.0.2.21", "source_ip.hostname": "oob.example.com",
             "destination.hostname": "oob.example.net", "destination.port": 2525,
             "throttle_limits.max_concurrent_connections": 3, "throttle_limits.max_messages_per_hour": 99},
            {"destination.username": "planted", "destination.password": "planted-pw",
             "redirect.name": "conf-relay-spare"},
        ),

           unseen={"redirect.id": "covered on `primary`, which redirects by id"},
        update={"destination": {"hostname": "smtp-fallback.example.net", "port": 587}},
        deletable=False,  # `primary` redirects to it: the API refuses its delete
    ),
    Sample(
        "primary", RelayServerProvider,
        {"name": "conf-primary", "source_ip": {"ip": "192.0.2.10", "hostname": "mail.example.com"},
         "destination": {"hostname": "smtp.example.net", "port": 587, "username": "relay", "password": "pw-Conf1"},
         "throttle_limits": {"max_concurrent_connections": 4, "max_messages_per_hour": 500},
         "redirect": {"id": Ref("fallback")}},
        drift=({"destination.username": "other", "destination.password": "other-pw"},),
        unseen={"name": "covered on `fallback`", "source_ip.ip": "covered on `fallback`",
                "source_ip.hostname": "covered on `fallback`", "destination.hostname": "covered on `fallback`",
                "destination.port": "covered on `fallback`",
                "throttle_limits.max_concurrent_connections": "covered on `fallback`",
                "throttle_limits.max_messages_per_hour": "covered on `fallback`",
                "redirect.id": "a reference by id or by name is one object: covered by `fallback`'s redirect.name",
                "redirect.name": "covered on `fallback`"},
        update={"throttle_limits": {"max_concurrent_connections": 5, "max_messages_per_hour": 600}},
    ),
    Sample(
        "template", ThrottlingTemplateProvider,
        {"name": "conf-template", "default": {"max_concurrent_connections": 10, "max_messages_per_hour": 0},
         "rules": [{"domains": ["gmail.com", "[*.]googlemail.com"], "max_concurrent_connections": 20,
                    "max_messages_per_hour": 36000},
                   {"domains": ["*.yahoo.com"], "max_concurrent_connections": 5, "max_messages_per_hour": 0,
                    "throttle_program": {"name": "Automatic Backoff"}}]},
        drift=(
            {"name": "conf-template-oob", "default.max_concurrent_connections": 11,
             "default.max_messages_per_hour": 7, "rules[0].domains": ["gmail.com"],
             "rules[0].max_concurrent_connections": 21, "rules[0].max_messages_per_hour": 1,
             "rules[0].throttle_program.name": "Automatic Backoff"},
        ),
        repeats={"rules": [{"domains": ["gmail.com", "GMail.com"], "max_concurrent_connections": 20,
                            "max_messages_per_hour": 0}]},
           unseen={"rules[].throttle_program.id": "a program by id is the same object as by name: the name covers it"},
        update={"default": {"max_concurrent_connections": 12, "max_messages_per_hour": 0}},
        reorder={"rules": [{"domains": ["*.yahoo.com"], "max_concurrent_connections": 5, "max_messages_per_hour": 0,
                            "throttle_program": {"name": "Automatic Backoff"}},
                           {"domains": ["[*.]googlemail.com", "gmail.com"], "max_concurrent_connections": 20,
                            "max_messages_per_hour": 36000}]},
    ),
    Sample("pool", ThrottlingTemplateProvider,
           {"name": "conf-pool", "default": {"max_concurrent_connections": 4, "max_messages_per_hour": 0}},
           unseen=covered_on("template", "name", "default.max_concurrent_connections",
                             "default.max_messages_per_hour", "rules[].domains", "rules[].max_concurrent_connections",
                             "rules[].max_messages_per_hour", "rules[].throttle_program.id",
                             "rules[].throttle_program.name"),
           deletable=False),  # `outlook` is in it: deleted out of band, it takes the rule along
    Sample("pool2", ThrottlingTemplateProvider,  # where `outlook` moves in the replace round
           {"name": "conf-pool2", "default": {"max_concurrent_connections": 2, "max_messages_per_hour": 0}},
           unseen=covered_on("template", *leaf_paths(ThrottlingTemplateProvider.spec.model))),
    Sample(
        "outlook", ThrottlingRuleProvider,
        {"template_id": Ref("pool"), "domains": ["outlook.com", "hotmail.com"], "max_concurrent_connections": 8,
         "max_messages_per_hour": 1200},
        drift=({"domains": ["outlook.com"], "max_concurrent_connections": 9, "max_messages_per_hour": 1300,
                "throttle_program.name": "Automatic Backoff"},),
        repeats={"domains": ["outlook.com", "Outlook.com", "hotmail.com"]},
           unseen={"template_id": "a rule cannot move to another template through the API (replace field)",
                "throttle_program.id": "covered by the name (the API answers both)"},
        update={"max_messages_per_hour": 1400},
        replace={"template_id": Ref("pool2")},
        reorder={"domains": ["hotmail.com", "outlook.com"]},
    ),
    Sample("spare", RouteProvider, {"name": "conf-spare", "requested_target_daily_volume": 1000},
           unseen={"name": "covered on `main`", "requested_target_daily_volume": "covered on `main`",
                   "overflow_route.id": "covered on `main`", "overflow_route.name": "covered on `overflow`"}),
    Sample("overflow", RouteProvider, {"name": "conf-overflow", "requested_target_daily_volume": 25000},
           drift=({"name": "conf-overflow-oob", "requested_target_daily_volume": 26000,
                   "overflow_route.name": "conf-spare"},),
           unseen={"overflow_route.id": "covered on `main`"},
           deletable=False),  # `main` overflows into it
    Sample("main", RouteProvider,
           {"name": "conf-main", "requested_target_daily_volume": 50000, "overflow_route": {"id": Ref("overflow")}},
           drift=({"name": "conf-main-oob", "requested_target_daily_volume": 51000,
                   "overflow_route.id": Ref("spare")},),
           unseen={"overflow_route.name": "covered on `overflow`"},
           update={"requested_target_daily_volume": 60000}),
)

CM_DOMAIN = "conformance.example"
PLATFORMS = [
    {"name": "ldap-imap", "transport_dest": "192.0.2.40", "transport_type": "SMTP", "transport_port": 25,
     "fallback_transport_dest": "192.0.2.41", "fallback_transport_type": "SMTPS_MAY", "fallback_transport_port": 465,
     "auth_type": "ldap", "default": True,
     "auth_data": {"host": "ldap.example.com", "port": 636, "bind_user": "cn=reader", "bind_password": "bind-pw-1",
                   "use_ssl": True, "base_dn": "ou=people,dc=example", "mail_attribute": "mail",
                   "cert_pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
                   "username_format": "%u"},
     "api_type": "IMAP",
     "api_data": {"host": "imap.example.com", "login": "remediation", "password": "imap-pw-1", "port": 993,
                  "use_ssl": True}},
    {"name": "oidc-o365", "transport_dest": "conformance.mail.protection.outlook.com",
     "transport_type": "SMTPS_ENCRYPT", "transport_port": 25, "auth_type": "oidc",
     "auth_data": {"issuer_uri": "https://id.example.com", "client_id": "oidc-client",
                   "client_secret": "oidc-secret-1", "name_attr": "preferred_username", "scope": "openid email"},
     "api_type": "O365",
     "api_data": {"client_id": "graph-client", "tenant_id": "tenant-1", "client_secret": "graph-secret-1"}},
    {"name": "entra-exchange", "transport_dest": "192.0.2.42", "transport_type": "SMTP", "transport_port": 25,
     "auth_type": "entra", "auth_data": {"tenant_id": "tenant-2"},
     "api_type": "EXCHANGE",
     "api_data": {"host": "ews.example.com", "login": "ews-user", "password": "ews-pw-1",
                  "test_account": "probe2@conformance.example"}},
]
CLEANMAIL: tuple[Sample, ...] = (
    Sample(
        "domain", cleanmail_providers.DomainProvider,
        {"name": CM_DOMAIN, "description": "conformance", "default_language": "DE", "quarantine": True,
         "retention": True, "archive": False, "external_id": "ext-1", "outgoing_subnets": ["192.0.2.0/28"],
         "platforms": PLATFORMS},
        drift=(
            {"description": "changed", "status": "DISABLED", "wblist_priority": "USER", "incoming": False,
             "outgoing": True, "quarantine": False, "retention": False, "archive": True, "default_language": "FR",
             "auto_provisioning_on": True, "sender_verify_on": False, "external_id": "ext-2",
             "outgoing_subnets": ["198.51.100.0/24"],
             "platforms[0].name": "ldap-imap-2", "platforms[0].transport_dest": "192.0.2.50",
             "platforms[0].transport_type": "SMTPS_MAY", "platforms[0].transport_port": 2525,
             "platforms[0].fallback_transport_dest": "192.0.2.51", "platforms[0].fallback_transport_type": "SMTP",
             "platforms[0].fallback_transport_port": 25, "platforms[0].default": False,
             "platforms[1].default": True,
             "platforms[0].auth_data.host": "ldap2.example.com", "platforms[0].auth_data.port": 389,
             "platforms[0].auth_data.bind_user": "cn=other", "platforms[0].auth_data.bind_password": "bind-pw-2",
             "platforms[0].auth_data.use_ssl": False, "platforms[0].auth_data.base_dn": "dc=other",
             "platforms[0].auth_data.mail_attribute": "email",
             "platforms[0].auth_data.cert_pem": "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----",
             "platforms[0].auth_data.username_format": "%e",
             "platforms[0].api_data.host": "imap2.example.com", "platforms[0].api_data.login": "other",
             "platforms[0].api_data.password": "imap-pw-2", "platforms[2].api_data.test_account": "p@x.example",
             "platforms[0].api_data.port": 143, "platforms[0].api_data.use_ssl": False,
             "platforms[1].auth_data.issuer_uri": "https://id2.example.com",
             "platforms[1].auth_data.client_id": "oidc-client-2",
             "platforms[1].auth_data.client_secret": "oidc-secret-2", "platforms[1].auth_data.name_attr": "sub",
             "platforms[1].auth_data.scope": "openid", "platforms[1].api_data.client_id": "graph-client-2",
             "platforms[1].api_data.tenant_id": "tenant-3", "platforms[1].api_data.client_secret": "graph-secret-2",
             "platforms[2].auth_data.tenant_id": "tenant-4", "platforms[2].api_data.host": "ews2.example.com",
             "platforms[2].api_data.login": "ews-user-2", "platforms[2].api_data.password": "ews-pw-2"},
            {"platforms[2].auth_type": "local", "platforms[2].auth_data": None, "platforms[2].api_type": "IMAP",
             "platforms[2].api_data": {"host": "imap3.example.com", "login": "l", "password": "imap-pw-3"}},
            {"name": "renamed-conformance.example"},
        ),
        repeats={"outgoing_subnets": ["192.0.2.0/28", "192.0.2.0/28"]},
           unseen={"customer_id": "needs a customer object, which no resource type makes",
                "outgoing_providers_ids": "needs outgoing provider objects, which no resource type makes",
                "ignore_mx": "a request header (X-Ignore-MX), not something the API stores"},
        update={"description": "updated in place"},
        volatile=DOMAIN_SNAPSHOTS,
        deletable=False,  # soft-deleting it takes its users, policies and rules along: see the dependents round
    ),
    Sample(
        "policy", cleanmail_providers.DomainPolicyProvider,
        {"domain_id": Ref("domain"), "name": "executives", "quarantine": True, "retention": True, "archive": True,
         "incoming": True, "outgoing": False, "mail_size_limit": 50, "spam_score": 3.5,
         "relay_props": {"relay_spam": False, "relay_advert": True, "advert_prefix": "[AD]", "prefix_spam": "[SPAM]",
                         "relay_bad_headers": True, "relay_bad_attachments": False, "spam_score_limit": 8.0},
         "quarantine_props": {"duration": 60, "store_spam": True, "store_virus": True, "store_advert": False,
                              "store_blacklisted": True, "store_sender_verify": False, "store_bad_headers": True,
                              "store_bad_encoding": False, "store_bad_attachments": True},
         "retention_props": {"duration": 30, "store_mail_out": True, "store_clean_mail_in": False},
         "archive_props": {"duration": 365, "archive_by_copy": True, "store_mail_out": True,
                           "store_clean_mail_in": True, "store_spam": False, "store_bad_headers": False,
                           "store_bad_encoding": False, "store_bad_attachments": False, "store_advert": False,
                           "store_blacklisted": False, "store_sender_verify": False}},
        drift=({"name": "executives-2", "incoming": False, "outgoing": True, "mail_size_limit": 20, "spam_score": 5.0,
                "relay_props.relay_spam": True, "relay_props.relay_advert": False, "relay_props.advert_prefix": "[A]",
                "relay_props.prefix_spam": "[S]", "relay_props.relay_bad_headers": False,
                "relay_props.relay_bad_attachments": True, "relay_props.spam_score_limit": 9.5,
                "quarantine_props.duration": 61, "quarantine_props.store_spam": False,
                "quarantine_props.store_virus": False, "quarantine_props.store_advert": True,
                "quarantine_props.store_blacklisted": False, "quarantine_props.store_sender_verify": True,
                "quarantine_props.store_bad_headers": False, "quarantine_props.store_bad_encoding": True,
                "quarantine_props.store_bad_attachments": False, "retention_props.duration": 31,
                "retention_props.store_mail_out": False, "retention_props.store_clean_mail_in": True,
                "archive_props.duration": 366, "archive_props.archive_by_copy": False,
                "archive_props.store_mail_out": False, "archive_props.store_clean_mail_in": False,
                "archive_props.store_spam": True, "archive_props.store_bad_headers": True,
                "archive_props.store_bad_encoding": True, "archive_props.store_bad_attachments": True,
                "archive_props.store_advert": True, "archive_props.store_blacklisted": True,
                "archive_props.store_sender_verify": True},
               # a service turned off takes its settings along (the API keeps none for it)
               {"quarantine": False, "quarantine_props": None, "retention": False, "retention_props": None,
                "archive": False, "archive_props": None}),
        unseen={"domain_id": "a policy cannot move to another domain through the API (replace field)"},
        update={"spam_score": 4.0},
        deletable=False,  # `user` has it: the API refuses its delete (400 "affected to a domain or a user")
    ),
    Sample(
        "user", cleanmail_providers.UserProvider,
        {"domain_id": Ref("domain"), "email": f"jane@{CM_DOMAIN}", "firstname": "Jane", "lastname": "Doe",
         "language": "DE", "password": "jane-pw-1", "policy_id": Ref("policy"), "sender_verify_on": True},
        drift=({"firstname": "Janet", "lastname": "Roe", "status": "DISABLED", "language": "FR",
                "policy_id": Ref("domain", "default_policy_id"), "sender_verify_on": False},),
        unseen={"domain_id": "an account cannot move to another domain (replace field)",
                "email": "renaming an account out of band is covered by the domain's rename round",
                "password": "write-only: the API never answers it, so a change made out of band cannot be seen "
                            "(README: secrets)",
                "platform_id": "the domain's platforms have no ids of their own in its answer to refer to",
                "send_notification": "a one-off instruction of the create request, not something the API stores",
                "send_welcome_mail": "a one-off task run after the create, not something the API stores"},
        update={"lastname": "Smith"},
        deletable=True,
    ),
    Sample(
        "alias", cleanmail_providers.EmailAliasProvider,
        {"domain_id": Ref("domain"), "email": f"support@{CM_DOMAIN}",
         "recipients": [f"jane@{CM_DOMAIN}", "oncall@partner.example.net"]},
        drift=({"email": f"help@{CM_DOMAIN}", "recipients": ["oncall@partner.example.net"]},),
        repeats={"recipients": [f"jane@{CM_DOMAIN}", f"Jane@{CM_DOMAIN}", "oncall@partner.example.net"]},
           unseen={"domain_id": "an alias cannot move to another domain (replace field)"},
        update={"recipients": [f"jane@{CM_DOMAIN}"]},
        reorder={"recipients": ["oncall@partner.example.net", f"jane@{CM_DOMAIN}"]},
    ),
    Sample(
        "option", cleanmail_providers.DomainOptionProvider,
        {"domain_id": Ref("domain"), "name": "DOMAIN_ADMIN", "value": f"postmaster@{CM_DOMAIN}"},
        drift=({"value": f"hostmaster@{CM_DOMAIN}"},),
        unseen={"domain_id": "replace field: an option lives on its domain",
                "name": "replace field: the option's name is its identity"},
        update={"value": f"admin@{CM_DOMAIN}"},
    ),
    Sample(
        "attachments", cleanmail_providers.AttachmentFilterProvider,
        {"domain_id": Ref("domain"), "action": "DENY", "check_type": "FILENAME", "filter": "[.]xlsm$",
         "description": "macro-enabled spreadsheets"},
        drift=({"action": "ALLOW", "check_type": "CONTENTTYPE", "filter": "application/x-msdownload",
                "description": "changed"},),
        unseen={"domain_id": "a rule cannot move to another domain (replace field)"},
        volatile={"scope": SNAPSHOT, "priority": SNAPSHOT},
        update={"description": "updated"},
    ),
    Sample(
        "uris", cleanmail_providers.UriBlFilterProvider,
        {"domain_id": Ref("domain"), "action": "BLACKLIST_URI_HOST", "filter": "bulist.example",
         "description": "phishing"},
        drift=({"action": "WHITELIST_URI_HOST", "filter": "other.example", "description": "changed"},),
        unseen={"domain_id": "a rule cannot move to another domain (replace field)"},
        volatile={"scope": SNAPSHOT, "priority": SNAPSHOT},
        update={"description": "updated"},
    ),
    Sample(
        "sender", cleanmail_providers.DomainSenderRuleProvider,
        {"domain_id": Ref("domain"), "value": "spam.example", "type": "BLOCK", "expire_at": "2031-12-31T23:59:59Z",
         "description": "bulk sender"},
        drift=({"type": "ALLOW", "expire_at": "2032-06-30T00:00:00Z", "description": "changed", "spf_on": True},),
        unseen={"domain_id": "a rule cannot move to another domain (replace field)",
                "value": "replace field: the sender is the rule's identity"},
        volatile={"owner": SNAPSHOT},
           update={"description": "updated"},
        replace={"value": "spam2.example"},
    ),
)

# Second and third domains: a domain takes one form of aliases and of sender rules (a whole list or single items),
# and the rename round of `domain` would move what lives on it.
CM_DOMAIN2, CM_DOMAIN3 = "conformance2.example", "conformance3.example"
MINIMAL_DOMAIN = {"quarantine": True, "retention": False, "archive": False, "default_language": "EN"}
DKIM_PUBLIC = ("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAconf1", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAconf2")


def _domain_fields(*except_: str) -> tuple[str, ...]:
    return tuple(path for path in leaf_paths(DomainModel) if path not in except_)


CLEANMAIL_MORE: tuple[Sample, ...] = (
    Sample("domain2", cleanmail_providers.DomainProvider, {"name": CM_DOMAIN2, **MINIMAL_DOMAIN},
           volatile=DOMAIN_SNAPSHOTS,
           unseen=covered_on("domain", *_domain_fields()), deletable=False),
    Sample("domain3", cleanmail_providers.DomainProvider, {"name": CM_DOMAIN3, **MINIMAL_DOMAIN},
           volatile=DOMAIN_SNAPSHOTS,
           unseen=covered_on("domain", *_domain_fields()), deletable=False),
    Sample(
        "default-policy", cleanmail_providers.DomainDefaultPolicyProvider,
        {"domain_id": Ref("domain2"), "name": "conformance2-default", "mail_size_limit": 30, "spam_score": 4.5,
         "relay_props": {"relay_spam": False, "relay_advert": True, "advert_prefix": "[AD]", "prefix_spam": "[SPAM]",
                         "relay_bad_headers": True, "relay_bad_attachments": False, "spam_score_limit": 7.0},
         "quarantine_props": {"duration": 20, "store_spam": True}},
        drift=({"name": "changed-default", "mail_size_limit": 31, "spam_score": 4.0,
                "relay_props.relay_spam": True, "relay_props.relay_advert": False, "relay_props.advert_prefix": "[A]",
                "relay_props.prefix_spam": "[S]", "relay_props.relay_bad_headers": False,
                "relay_props.relay_bad_attachments": True, "relay_props.spam_score_limit": 7.5,
                "quarantine_props.duration": 21, "quarantine_props.store_spam": False},),
        unseen={"domain_id": "replace field: the default policy is its domain's",
                **{flag: "owned by the Domain (its service flags are the default policy's): refused here at "
                         "preview, drift covered on `domain`"
                   for flag in ("quarantine", "retention", "archive", "incoming", "outgoing")},
                **covered_on("policy", *(path for path in leaf_paths(PolicyModel)
                                         if path.startswith(("quarantine_props.", "retention_props.",
                                                             "archive_props."))
                                         and path not in ("quarantine_props.duration",
                                                          "quarantine_props.store_spam")))},
        update={"spam_score": 5.5},
        deletable=False,  # the API creates it with the domain and deletes it with the domain only
        kept="taken over from its domain, which the API creates it with: destroy resets what it set",
    ),
    Sample(
        "dkim", cleanmail_providers.DomainDkimProvider,
        {"domain_id": Ref("domain3"), "domain_name": Ref("domain3", "name"), "selector": "conf",
         "public_key": DKIM_PUBLIC[0], "private_key": "private-key-1"},
        drift=({"selector": "conf-oob", "public_key": DKIM_PUBLIC[1]},),
        unseen={"domain_id": "replace field: the key is its domain's",
                "domain_name": "the domain's name: changed through the Domain (see the rename round of `domain` "
                               "and tests/e2e/test_mirrored_outputs.py)",
                "private_key": "write-only: the API never answers it, so a change made out of band cannot be seen "
                               "(README: secrets)"},
        update={"selector": "conf-new"},
    ),
    Sample("aliases", cleanmail_providers.DomainAliasesProvider,
           {"domain_id": Ref("domain2"), "names": ["alias-a.example", "alias-b.example"]},
           drift=({"names": ["alias-a.example", "alias-c.example"]},),
           whole_value=True, repeats={"names": ["alias-a.example", "ALIAS-A.example", "alias-b.example"]},
           unseen={"domain_id": "replace field: the list is its domain's"},
           update={"names": ["alias-a.example", "alias-b.example", "alias-d.example"]},
           reorder={"names": ["alias-b.example", "alias-a.example"]}),
    Sample("domain-alias", cleanmail_providers.DomainAliasProvider,
           {"domain_id": Ref("domain"), "name": "conformance-alias.example"},
           unseen={"domain_id": "replace field: an alias cannot move (the API has no update of an alias)",
                   "name": "replace field: the API has no update of an alias (a rename out of band is a delete "
                           "and an add: see the delete round)"},
           replace={"name": "conformance-alias2.example"}),
    Sample("john", cleanmail_providers.UserProvider,
           {"domain_id": Ref("domain2"), "email": f"john@{CM_DOMAIN2}", "firstname": "John"},
           unseen=covered_on("user", *leaf_paths(UserModel)), deletable=False),
    Sample("kim", cleanmail_providers.UserProvider,
           {"domain_id": Ref("domain3"), "email": f"kim@{CM_DOMAIN3}", "firstname": "Kim"},
           unseen=covered_on("user", *leaf_paths(UserModel)), deletable=False),
    Sample("signature", cleanmail_providers.UserSignatureProvider,
           {"user_id": Ref("kim"), "html": "<p>Kim</p>"},
           drift=({"html": "<p>changed</p>"},),
           unseen={"user_id": "replace field: a signature is its account's"},
           update={"html": "<p>Kim Lee</p>"}),
    Sample("user-option", cleanmail_providers.UserOptionProvider,
           {"user_id": Ref("kim"), "name": "REPORT_FREQUENCY", "value": "WEEKLY"},
           drift=({"value": "NEVER"},),
           unseen={"user_id": "replace field: the option is its account's",
                   "name": "replace field: the option's name is its identity"},
           update={"value": "DAILY"}),
    Sample("mailbox-rule", cleanmail_providers.MailboxSenderRuleProvider,
           {"user_id": Ref("user"), "value": "news@vendor.example", "type": "ALLOW", "spf_on": True,
            "description": "vendor news"},
           drift=({"type": "BLOCK", "spf_on": None, "expire_at": "2032-01-01T00:00:00Z", "description": "changed"},),
           unseen={"user_id": "replace field: the rule is its mailbox's",
                   "value": "replace field: the sender is the rule's identity"},
           volatile={"owner": SNAPSHOT},
           update={"description": "updated"},
           replace={"value": "offers@vendor.example"}),
    Sample("domain-rules", cleanmail_providers.DomainSenderRulesProvider,
           {"domain_id": Ref("domain2"),
            "rules": [{"value": "partner.example", "type": "ALLOW", "spf_on": True},
                      {"value": "spam.example", "type": "BLOCK", "expire_at": "2031-01-01T00:00:00Z"}]},
           drift=({"rules[0].type": "PROTECTED", "rules[0].spf_on": None, "rules[0].description": "changed",
                   "rules[1].expire_at": "2033-01-01T00:00:00Z", "rules[1].value": "other.example"},),
           whole_value=True, repeats={"rules": [{"value": "partner.example", "type": "ALLOW", "spf_on": True},
                                                {"value": "Partner.example", "type": "BLOCK"}]},
           unseen={"domain_id": "replace field: the list is its domain's"},
           update={"rules": [{"value": "partner.example", "type": "ALLOW", "spf_on": True, "description": "p"},
                             {"value": "spam.example", "type": "BLOCK", "expire_at": "2031-01-01T00:00:00Z"}]},
           reorder={"rules": [{"value": "spam.example", "type": "BLOCK", "expire_at": "2031-01-01T00:00:00Z"},
                              {"value": "partner.example", "type": "ALLOW", "spf_on": True}]}),
    Sample("mailbox-rules", cleanmail_providers.MailboxSenderRulesProvider,
           {"user_id": Ref("john"), "rules": [{"value": "friend@example.org", "type": "ALLOW", "spf_on": False}]},
           drift=({"rules[0].type": "BLOCK", "rules[0].spf_on": None, "rules[0].description": "changed",
                   "rules[0].expire_at": "2033-01-01T00:00:00Z", "rules[0].value": "foe@example.org"},),
           whole_value=True, unseen={"user_id": "replace field: the list is its mailbox's"},
           update={"rules": [{"value": "friend@example.org", "type": "ALLOW", "spf_on": True}]}),
    Sample("rules", cleanmail_providers.SenderRulesProvider,
           {"rules": [{"owner": Ref("domain3", "name"), "value": "bulk.example", "type": "BLOCK"},
                      {"owner": Ref("kim", "email"), "value": "boss@example.org", "type": "ALLOW", "spf_on": True}]},
           drift=({"rules[0].type": "PROTECTED", "rules[0].description": "changed",
                   "rules[0].expire_at": "2033-01-01T00:00:00Z", "rules[1].spf_on": False},),
           whole_value=True,
           repeats={"rules": [{"owner": Ref("domain3", "name"), "value": "bulk.example", "type": "BLOCK"},
                              {"owner": Ref("domain3", "name"), "value": "BULK.example", "type": "BLOCK"}]},
           unseen={"rules[].owner": "a rule cannot move to another owner through the API (it is a delete and an "
                                    "add: see the delete round)",
                   "rules[].value": "a rule's sender is its identity (a change is a delete and an add)"},
           update={"rules": [{"owner": Ref("domain3", "name"), "value": "bulk.example", "type": "BLOCK",
                              "description": "u"},
                             {"owner": Ref("kim", "email"), "value": "boss@example.org", "type": "ALLOW",
                              "spf_on": True}]},
           reorder={"rules": [{"owner": Ref("kim", "email"), "value": "boss@example.org", "type": "ALLOW",
                               "spf_on": True},
                              {"owner": Ref("domain3", "name"), "value": "bulk.example", "type": "BLOCK"}]}),
    Sample("users-access", cleanmail_providers.DomainUsersAccessProvider,
           {"domain_id": Ref("domain2"), "permissions": ["QUARANTINE_READ", "WBLIST_WRITE"]},
           drift=({"permissions": ["REPORTS_READ"]},),
           whole_value=True, repeats={"permissions": ["QUARANTINE_READ", "QUARANTINE_READ", "WBLIST_WRITE"]},
           unseen={"domain_id": "replace field: the permissions are its domain's users'"},
           update={"permissions": ["QUARANTINE_READ", "QUARANTINE_RELEASE", "WBLIST_WRITE"]},
           reorder={"permissions": ["WBLIST_WRITE", "QUARANTINE_READ"]}),
    Sample("domain-admin", cleanmail_providers.DomainAdminProvider,
           {"domain_id": Ref("domain"), "permissions": ["DOMAIN_READ", "USERS_READ"], "login": "conf-admin",
            "display_name": "Conformance Admin", "email": "conf-admin@example.org", "password": "admin-pw-1"},
           drift=({"permissions": ["DOMAIN_READ"], "display_name": "Changed", "email": "changed@example.org",
                   "enabled": False, "language": "FR"},),
           repeats={"permissions": ["DOMAIN_READ", "USERS_READ", "USERS_READ"]},
           unseen={"domain_id": "replace field: an access is to one domain",
                   "admin_id": "replace field: covered by `domain-admin-2`, which gives an existing account access",
                   "login": "replace field: the API cannot rename an account",
                   "password": "write-only: the API never answers it, so a change made out of band cannot be seen "
                               "(README: secrets)"},
           update={"permissions": ["DOMAIN_READ", "USERS_READ", "USERS_WRITE"]},
           deletable=False),  # revoking its only access deletes the account, and `admin`'s and `token`'s with it
    Sample("domain-admin-2", cleanmail_providers.DomainAdminProvider,
           {"domain_id": Ref("domain2"), "permissions": ["DOMAIN_READ"], "admin_id": Ref("domain-admin")},
           drift=({"permissions": ["DOMAIN_READ", "FILTERS_WRITE"]},),
           unseen=covered_on("domain-admin", "domain_id", "admin_id", "login", "display_name", "email", "password",
                             "enabled", "language"),
           update={"permissions": ["DOMAIN_READ", "GRANT"]}),
    Sample("admin", cleanmail_providers.AdminProvider,
           {"admin_id": Ref("domain-admin"), "language": "DE", "totp": False},
           drift=({"language": "ES"},),
           unseen={"admin_id": "replace field: the account taken over",
                   "display_name": "an account setting `domain-admin` owns here; covered on `domain-admin`",
                   "email": "an account setting `domain-admin` owns here; covered on `domain-admin`",
                   "enabled": "an account setting `domain-admin` owns here; covered on `domain-admin`",
                   "password": "write-only: the API never answers it (README: secrets)",
                   "totp": "the API can only turn the second factor off (turning it on is the user's own flow)"},
           update={"language": "NB"},
           volatile={"authorities": SNAPSHOT},
           kept="taken over, not made here: destroy leaves the account (`domain-admin`'s revocation deletes it)",
           deletable=False),  # deleting the account takes the accesses and tokens with it
    Sample("token", cleanmail_providers.AdminTokenProvider,
           {"admin_id": Ref("domain-admin"), "name": "conformance-ci", "expiration": "2031-06-30T00:00:00Z"},
           unseen={"admin_id": "a token is never changed: every input replaces it",
                   "name": "a token is never changed: every input replaces it",
                   "expiration": "a token is never changed: every input replaces it"},
           replace={"name": "conformance-ci-2"}),
)

ELEMTA: tuple[Sample, ...] = (
    Sample("delivery", elemta_providers.DeliveryCheckProvider,
           {"sender": "probe@conformance.example", "recipient": "sink@example.net", "triggers": ["v1"],
            "wait_for": "queued", "timeout_seconds": 30, "poll_interval_seconds": 0.1},
           unseen={path: "a past check: nothing of it is kept on the server to change"
                   for path in leaf_paths(DeliveryCheckModel)},
           update={"triggers": ["v2"]},
           deletable=False, on_server=False),
)

SAMPLES: tuple[Sample, ...] = GREENARROW + CLEANMAIL + CLEANMAIL_MORE + ELEMTA

# Types whose sample is still to be written (issue 22 is open until this is empty).
PENDING: frozenset[type[CrudProvider]] = frozenset()
