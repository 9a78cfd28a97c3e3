"""The Cleanmail API v3 inputs and computed outputs as pydantic models. Python names in programs and state;
the API's camelCase names as aliases (`Field(alias="wblistPriority")`). Bounds the docs do not give are
our assumptions, listed in docs/assumptions.md. These models are the single source of the generated input
types, resource classes and reference pages."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from ..validation import _EMAIL, EmailAddress, LazyModel, Port, Rule, StrictModel, _whole_int, known_values_error


class CleanmailModel(StrictModel):
    """An optional field left out means "the API's default": not sent, not compared."""

    omit_unset = True

_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})+$")


def _domain_name(value: Any) -> Any:
    if isinstance(value, str) and (len(value) > 253 or not _DOMAIN.fullmatch(value)):
        raise ValueError(f"{value!r} is not a domain name (labels of letters, digits and hyphens, e.g. example.com)")
    return value.lower() if isinstance(value, str) else value  # case-insensitive; the API stores lowercase


DomainName = Annotated[str, BeforeValidator(_domain_name), Rule("a domain name such as `example.com`; unique "
                                                                "case-insensitively across domains and domain aliases")]


def _cidr(value: Any) -> Any:
    if isinstance(value, str):
        try:
            if "/" not in value:
                raise ValueError
            ipaddress.IPv4Network(value, strict=False)
        except ValueError:
            raise ValueError(f"{value!r} is not an IPv4 subnet in a.b.c.d/y notation") from None
    return value


Cidr = Annotated[str, BeforeValidator(_cidr), Rule("an IPv4 subnet, `a.b.c.d/y`")]
Language = Literal["FR", "EN", "DE", "ES", "DA", "NB"]
TransportType = Literal["SMTP", "SMTPS_ENCRYPT", "SMTPS_MAY"]
AuthType = Literal["local", "imap", "ldap", "oidc", "entra"]
ApiType = Literal["IMAP", "EXCHANGE", "O365"]
Text = Annotated[str, Field(max_length=255)]
Id = Annotated[str, Field(min_length=1, max_length=64), Rule("an id of the API (e.g. `Eygdk`)")]


class AuthSettingsModel(CleanmailModel):
    """How users of the platform authenticate; which keys apply depends on `auth_type`."""

    host: Text | None = Field(default=None, description="LDAP or IMAP server host (ldap, imap).")
    port: Port | None = Field(default=None, description="LDAP or IMAP server port (ldap, imap).")
    bind_user: Text | None = Field(default=None, description="The account the LDAP directory is read with (ldap).")
    bind_password: Text | None = Field(default=None, description="Its password (ldap).")
    use_ssl: bool | None = Field(default=None, description="Connect with TLS (ldap, imap).")
    base_dn: Text | None = Field(default=None, description="Where users are searched in the directory (ldap).")
    mail_attribute: Text | None = Field(default=None, description="The attribute holding a user's address (ldap).")
    cert_pem: str | None = Field(default=None, description="The server's certificate, PEM (ldap, imap).")
    username_format: Text | None = Field(default=None, description="How a login is built from an address (ldap).")
    issuer_uri: Text | None = Field(default=None, alias="issuerUri", description="The OpenID issuer (oidc).")
    client_id: Text | None = Field(default=None, alias="clientId", description="The OpenID client id (oidc).")
    client_secret: Text | None = Field(default=None, alias="clientSecret", description="The OpenID client secret "
                                       "(oidc).")
    name_attr: Text | None = Field(default=None, alias="nameAttr", description="The claim naming the user (oidc).")
    scope: Text | None = Field(default=None, description="The scopes requested (oidc).")
    tenant_id: Text | None = Field(default=None, alias="tenantId", description="The Entra ID tenant (entra).")


AUTH_KEYS: dict[str, set[str]] = {
    "local": set(),
    "imap": {"host", "port", "use_ssl", "cert_pem"},
    "ldap": {"host", "port", "bind_user", "bind_password", "use_ssl", "base_dn", "mail_attribute", "cert_pem",
             "username_format"},
    "oidc": {"issuer_uri", "client_id", "client_secret", "name_attr", "scope"},
    "entra": {"tenant_id"},
}


class RemediationApiModel(CleanmailModel):
    """How Cleanmail reaches the mailboxes of the platform to remediate; keys depend on `api_type`."""

    host: Text | None = Field(default=None, description="EWS or IMAP server host (EXCHANGE, IMAP).")
    login: Text | None = Field(default=None, description="The account used (EXCHANGE, IMAP).")
    password: Text | None = Field(default=None, description="Its password (EXCHANGE, IMAP).")
    test_account: Text | None = Field(default=None, alias="testAccount", description="A mailbox to test with "
                                      "(EXCHANGE).")
    port: Port | None = Field(default=None, description="IMAP server port (IMAP).")
    use_ssl: bool | None = Field(default=None, alias="useSsl", description="Connect with TLS (IMAP).")
    client_id: Text | None = Field(default=None, alias="clientId", description="The app's client id (O365).")
    tenant_id: Text | None = Field(default=None, alias="tenantId", description="The Microsoft 365 tenant (O365).")
    client_secret: Text | None = Field(default=None, alias="clientSecret", description="The app's secret (O365).")


API_KEYS: dict[str, set[str]] = {
    "EXCHANGE": {"host", "login", "password", "test_account"},
    "O365": {"client_id", "tenant_id", "client_secret"},
    "IMAP": {"host", "port", "login", "password", "use_ssl"},
}


def _given(data: Any, key: str) -> set[str]:
    value = data.get(key) if isinstance(data, Mapping) else None
    return {k for k, v in value.items() if v is not None} if isinstance(value, Mapping) else set()


class PlatformModel(CleanmailModel):
    """An SMTP relay the domain's mail is delivered to, with its authentication and remediation API."""

    name: Annotated[str, Field(min_length=1, max_length=255)] = Field(description="Name of the platform.")
    transport_dest: Annotated[str, Field(min_length=1, max_length=255)] = Field(
        alias="transportDest", description="IP or hostname of the main SMTP server.")
    transport_type: TransportType = Field(alias="transportType", description="Protocol to the main SMTP server.")
    transport_port: Port = Field(alias="transportPort", description="Port of the main SMTP server.")
    fallback_transport_dest: Text | None = Field(default=None, alias="fallbackTransportDest",
                                                 description="IP or hostname of the secondary SMTP server.")
    fallback_transport_type: TransportType | None = Field(default=None, alias="fallbackTransportType",
                                                          description="Protocol to the secondary SMTP server.")
    fallback_transport_port: Port | None = Field(default=None, alias="fallbackTransportPort",
                                                 description="Port of the secondary SMTP server.")
    auth_type: AuthType = Field(default="local", alias="authType", description="How the platform's users "
                                "authenticate.")
    auth_data: AuthSettingsModel | None = Field(default=None, alias="authData", description="The settings "
                                                "`auth_type` needs (none for `local`).")
    api_type: ApiType | None = Field(default=None, alias="apiType", description="The remediation API.")
    api_data: RemediationApiModel | None = Field(default=None, alias="apiData", description="The settings "
                                                 "`api_type` needs.")
    default: bool = Field(default=False, description="The platform used to relay mail for addresses that have no "
                          "user account.")

    @model_validator(mode="before")
    @classmethod
    def _settings_fit_their_type(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        auth_type = data.get("auth_type", data.get("authType", "local"))
        extra = _given(data, "auth_data") - AUTH_KEYS.get(auth_type, set()) if isinstance(auth_type, str) else set()
        if extra:
            raise ValueError(f"auth_data: {sorted(extra)} do not apply to auth_type {auth_type!r}")
        api_type = data.get("api_type", data.get("apiType"))
        api_keys = _given(data, "api_data")
        if api_keys and api_type is None:
            raise ValueError("api_data needs an api_type")
        extra = api_keys - API_KEYS.get(api_type, set()) if isinstance(api_type, str) else set()
        if extra:
            raise ValueError(f"api_data: {sorted(extra)} do not apply to api_type {api_type!r}")
        return data


# Outputs that gather other objects (a domain's aliases, an account's accesses) change when those change, which
# does not update this resource: said in their descriptions.
SNAPSHOT = " As of this resource's last create, update or refresh: other resources' changes show at the next refresh."


class DomainModel(CleanmailModel):
    name: DomainName = Field(description="Name of the domain.")
    status: Literal["ENABLED", "DISABLED", "PENDING"] = Field(
        default="ENABLED", description="Activation status. `PENDING` is kept or set on a domain that exists (the API "
        "refuses it on create): with `adopt_existing`, or on update.")
    description: Text | None = Field(default=None, description="Description of the domain.")
    wblist_priority: Literal["DOMAIN", "USER"] = Field(
        default="USER", alias="wblistPriority",
        description="Which filtering rules win when the domain's and a mailbox's conflict.")
    incoming: bool = Field(default=True, description="Incoming (relay) service of the default policy.")
    outgoing: bool = Field(default=False, description="Outgoing service of the default policy.")
    quarantine: bool = Field(description="Quarantine service of the default policy.")
    retention: bool = Field(description="Retention service of the default policy.")
    archive: bool = Field(description="Archiving service of the default policy.")
    default_language: Language = Field(alias="defaultLanguage", description="Default language of the accounts.")
    auto_provisioning_on: bool = Field(default=False, alias="autoProvisioningOn",
                                       description="Create users' accounts automatically.")
    sender_verify_on: bool = Field(default=True, alias="senderVerifyOn", description="Verify senders.")
    customer_id: Id | None = Field(default=None, alias="customerId", description="The customer the domain belongs "
                                   "to.")
    external_id: Text | None = Field(default=None, alias="externalId", description="A reference of your choice "
                                     "(e.g. in your billing system).")
    outgoing_subnets: list[Cidr] = Field(default_factory=list, alias="outgoingSubnets",
                                         description="Subnets allowed to send mail (IPv4 `a.b.c.d/y`).")
    outgoing_providers_ids: list[Id] = Field(default_factory=list, alias="outgoingProvidersIds",
                                             description="Outgoing providers enabled for the domain.")
    platforms: list[PlatformModel] = Field(default_factory=list, description="The SMTP relays of the domain.")
    ignore_mx: bool = Field(default=False, description="Send `X-Ignore-MX: true` on create, update and delete: "
                            "the API skips its check of the domain's MX records.")


class DomainOutputs(LazyModel):
    default_policy_id: str = Field(description="The id of the default policy the API created with the domain.")
    active_users_count: int = Field(alias="activeUsersCount", description="Number of active users." + SNAPSHOT)
    policies_count: int = Field(alias="policiesCount", description="Number of policies of the domain." + SNAPSHOT)
    creation_date: int = Field(alias="creationDate", description="When the domain was created (epoch ms).")
    domain_aliases: list[dict[str, Any]] = Field(alias="domainAliases", description="The domain's aliases "
                                                 "(`{id, name}`)." + SNAPSHOT)


def _number(value: Any) -> Any:
    return _whole_int(value) if isinstance(value, float) and value.is_integer() else value


Days = Annotated[int, BeforeValidator(_whole_int), Field(ge=1, le=3650)]
Score = Annotated[float, BeforeValidator(_number), Field(ge=0, le=100)]


class RelayPropsModel(CleanmailModel):
    """What is delivered, and how it is marked."""

    relay_spam: bool | None = Field(default=None, alias="relaySpam", description="Deliver incoming spam.")
    relay_advert: bool | None = Field(default=None, alias="relayAdvert", description="Deliver incoming adverts.")
    advert_prefix: Text | None = Field(default=None, alias="advertPrefix", description="Subject prefix of adverts "
                                       "(empty: none).")
    prefix_spam: Text | None = Field(default=None, alias="prefixSpam", description="Subject prefix of spam "
                                     "(empty: none).")
    relay_bad_headers: bool | None = Field(default=None, alias="relayBadHeaders", description="Deliver mail with "
                                           "bad headers.")
    relay_bad_attachments: bool | None = Field(default=None, alias="relayBadAttachments",
                                               description="Deliver mail with forbidden attachments.")
    spam_score_limit: Score | None = Field(default=None, alias="spamScoreLimit",
                                           description="Score from which spam is not delivered.")


class QuarantinePropsModel(CleanmailModel):
    """What the quarantine keeps, and for how long."""

    duration: Days | None = Field(default=None, description="Days messages stay in quarantine.")
    store_spam: bool | None = Field(default=None, alias="storeSpam", description="Keep spam.")
    store_virus: bool | None = Field(default=None, alias="storeVirus", description="Keep viruses.")
    store_advert: bool | None = Field(default=None, alias="storeAdvert", description="Keep adverts.")
    store_blacklisted: bool | None = Field(default=None, alias="storeBlacklisted", description="Keep blocked "
                                           "senders' mail.")
    store_sender_verify: bool | None = Field(default=None, alias="storeSenderVerify", description="Keep mail that "
                                             "failed sender verification.")
    store_bad_headers: bool | None = Field(default=None, alias="storeBadHeaders", description="Keep bad headers.")
    store_bad_encoding: bool | None = Field(default=None, alias="storeBadEncoding", description="Keep bad "
                                            "encodings.")
    store_bad_attachments: bool | None = Field(default=None, alias="storeBadAttachments",
                                               description="Keep forbidden attachments.")


class RetentionPropsModel(CleanmailModel):
    """What retention keeps, and for how long."""

    duration: Days | None = Field(default=None, description="Days messages are retained.")
    store_mail_out: bool | None = Field(default=None, alias="storeMailOut", description="Keep sent mail.")
    store_clean_mail_in: bool | None = Field(default=None, alias="storeCleanMailIn", description="Keep clean "
                                             "incoming mail.")


class ArchivePropsModel(CleanmailModel):
    """What the archive keeps, and for how many months."""

    duration: Annotated[int, BeforeValidator(_whole_int), Field(ge=1, le=1200)] | None = Field(
        default=None, description="Months messages are archived.")
    archive_by_copy: bool | None = Field(default=None, alias="archiveByCopy", description="Archive every mail, "
                                         "internal ones too, by copy from the mailbox.")
    store_mail_out: bool | None = Field(default=None, alias="storeMailOut", description="Archive sent mail.")
    store_clean_mail_in: bool | None = Field(default=None, alias="storeCleanMailIn", description="Archive clean "
                                             "incoming mail.")
    store_spam: bool | None = Field(default=None, alias="storeSpam", description="Archive spam.")
    store_bad_headers: bool | None = Field(default=None, alias="storeBadHeaders", description="Archive bad "
                                           "headers.")
    store_bad_encoding: bool | None = Field(default=None, alias="storeBadEncoding", description="Archive bad "
                                            "encodings.")
    store_bad_attachments: bool | None = Field(default=None, alias="storeBadAttachments",
                                               description="Archive forbidden attachments.")
    store_advert: bool | None = Field(default=None, alias="storeAdvert", description="Archive adverts.")
    store_blacklisted: bool | None = Field(default=None, alias="storeBlacklisted", description="Archive blocked "
                                           "senders' mail.")
    store_sender_verify: bool | None = Field(default=None, alias="storeSenderVerify", description="Archive mail "
                                             "that failed sender verification.")


class PolicyModel(CleanmailModel):
    domain_id: Id = Field(alias="domainId", description="The domain the policy belongs to.")
    name: Annotated[str, Field(min_length=1, max_length=255)] = Field(
        description="Name of the policy, unique in its domain.")
    quarantine: bool = Field(description="Quarantine service.")
    retention: bool = Field(description="Retention service.")
    archive: bool = Field(default=False, description="Archiving service.")
    incoming: bool = Field(description="Incoming service.")
    outgoing: bool = Field(default=False, description="Outgoing service.")
    mail_size_limit: Annotated[int, BeforeValidator(_whole_int), Field(ge=1, le=1024)] | None = Field(
        default=None, alias="mailSizeLimit", description="Mail size limit in MB (the API defaults it to 21).")
    spam_score: Score | None = Field(default=None, alias="spamScore",
                                     description="Score from which a message is spam (the API defaults it to 5.0).")
    relay_props: RelayPropsModel | None = Field(default=None, alias="relayProps", description="Delivery settings.")
    quarantine_props: QuarantinePropsModel | None = Field(default=None, alias="quarantineProps",
                                                          description="Quarantine settings (needs `quarantine`).")
    retention_props: RetentionPropsModel | None = Field(default=None, alias="retentionProps",
                                                        description="Retention settings (needs `retention`).")
    archive_props: ArchivePropsModel | None = Field(default=None, alias="archiveProps",
                                                    description="Archive settings (needs `archive`).")

    @model_validator(mode="before")
    @classmethod
    def _props_need_their_service(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for service in ("quarantine", "retention", "archive"):
                props = data.get(f"{service}_props", data.get(f"{service}Props"))
                flag = data.get(service, cls.model_fields[service].default)  # a policy's archive defaults to off
                if props is not None and flag is False:
                    raise ValueError(f"{service}_props needs {service}: true (the API keeps no settings for a "
                                     "service that is off)")
        return data


_SELECTOR = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"


class DkimModel(CleanmailModel):
    domain_id: Id = Field(description="The domain the key signs for.")
    domain_name: DomainName | None = Field(
        default=None, description="The domain's name (pass `domain.name`): with it, `dns_record_name` and "
        "`txt_value` follow a rename of the domain in the same `up`; left out, they follow at the next refresh.")
    selector: Annotated[str, Field(pattern=_SELECTOR)] = Field(
        default="protect", description="The DKIM selector: the DNS record is `<selector>._domainkey.<domain>`.")
    public_key: str | None = Field(default=None, alias="publicKey", description="The public key, base64 (DER); "
                                   "omit both keys to let the API generate a pair.")
    private_key: str | None = Field(default=None, alias="privateKey", description="The private key, with "
                                    "`public_key`.")

    @field_validator("public_key", mode="before")
    @classmethod
    def _no_whitespace(cls, value: Any) -> Any:
        # The API stores the base64 without its line breaks: compared as given, a wrapped key would always differ.
        return "".join(value.split()) if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("private_key", data.get("privateKey")) is not None \
                and data.get("public_key", data.get("publicKey")) is None:
            raise ValueError("private_key needs its public_key")
        return data


class DkimOutputs(LazyModel):
    dns_record_name: str = Field(description="The TXT record's name, `<selector>._domainkey.<domain>`.")
    txt_value: str = Field(description="The TXT record's value, `v=DKIM1; p=<public key>`.")
    records: list[str] = Field(description="Every TXT line the API gives (the domain and each of its aliases).")


class DefaultPolicyModel(PolicyModel):
    """The default policy of a domain, taken over: every setting optional (left out: left as it is)."""

    name: Annotated[str, Field(min_length=1, max_length=255)] | None = Field(  # type: ignore[assignment]
        default=None, description="Name of the policy (the API names it `Politique-<domain>`).")
    quarantine: bool | None = Field(  # type: ignore[assignment]
        default=None, description="Refused: the default services are the Domain's own `quarantine` input.")
    retention: bool | None = Field(  # type: ignore[assignment]
        default=None, description="Refused: the default services are the Domain's own `retention` input.")
    archive: bool | None = Field(  # type: ignore[assignment]
        default=None, description="Refused: the default services are the Domain's own `archive` input.")
    incoming: bool | None = Field(  # type: ignore[assignment]
        default=None, description="Refused: the default services are the Domain's own `incoming` input.")
    outgoing: bool | None = Field(  # type: ignore[assignment]
        default=None, description="Refused: the default services are the Domain's own `outgoing` input.")


class DefaultPolicyOutputs(LazyModel):
    original: dict[str, Any] = Field(description="The settings the policy had when taken over; restored on delete.")


class DomainAliasesModel(CleanmailModel):
    domain_id: Id = Field(description="The domain the aliases point to.")
    names: list[DomainName] = Field(description="Every alias of the domain (authoritative: others are removed).")


class DomainAliasesOutputs(LazyModel):
    alias_ids: dict[str, str] = Field(description="The API's id of each alias, by name.")


class DomainAliasModel(CleanmailModel):
    domain_id: Id = Field(description="The domain the alias points to.")
    name: DomainName = Field(description="The alias, a domain name.")


class UserModel(CleanmailModel):
    domain_id: Id = Field(alias="domainId", description="The domain of the account (its email must be in it).")
    email: EmailAddress = Field(description="The account's address, its login.")
    firstname: Text | None = Field(default=None, description="First name.")
    lastname: Text | None = Field(default=None, description="Last name.")
    status: Literal["ENABLED", "DISABLED"] = Field(default="ENABLED", description="Activation status.")
    language: Language | None = Field(default=None, description="Language of the account (the API defaults it "
                                      "to the domain's).")
    password: Annotated[str, Field(max_length=128)] | None = Field(
        default=None, description="The account's password; the API never answers it.")
    policy_id: Id | None = Field(default=None, alias="policyId", description="The account's policy (the API "
                                 "defaults it to the domain's default policy).")
    platform_id: Id | None = Field(default=None, alias="platformId", description="The account's platform (the "
                                   "API defaults it to the domain's default platform).")
    sender_verify_on: bool | None = Field(default=None, alias="senderVerifyOn", description="Verify senders.")
    send_notification: bool = Field(default=False, alias="sendNotification", description="Mail the user about "
                                    "the new account when it is created.")
    send_welcome_mail: bool = Field(default=False, description="Once the account is created, run the API's "
                                    "`send_welcome_mail` task (a description of the service and a link to set the "
                                    "password). Runs once, at creation: changing it later sends nothing.")


class UserOutputs(LazyModel):
    creation_date: int = Field(alias="creationDate", description="When the account was created (epoch ms).")


class UserSignatureModel(CleanmailModel):
    user_id: Id = Field(description="The account.")
    html: Annotated[str, Field(min_length=1, max_length=20000)] = Field(
        description="The HTML signature (sent Base64-encoded, as the API wants it). The account's policy needs a "
        "quarantine, retention or archive service.")


class EmailAliasModel(CleanmailModel):
    domain_id: Id = Field(description="The domain of the alias address.")
    email: EmailAddress = Field(description="The alias address, in the domain.")
    recipients: list[EmailAddress] = Field(default_factory=list, description="The addresses it delivers to: "
                                           "accounts of the domain, other aliases or external addresses (a set).")


class EmailAliasOutputs(LazyModel):
    recipient_ids: dict[str, str] = Field(description="The API's id of each recipient, by address.")


_OPTION_NAME = r"^[A-Z][A-Z0-9_]*$"


class DomainOptionModel(CleanmailModel):
    domain_id: Id = Field(description="The domain.")
    name: Annotated[str, Field(pattern=_OPTION_NAME, max_length=100)] = Field(description="The option's name "
                                                                             "(e.g. `DOMAIN_ADMIN`).")
    value: Annotated[str, Field(max_length=4000)] = Field(description="Its value at domain scope.")


class UserOptionModel(CleanmailModel):
    user_id: Id = Field(description="The account.")
    name: Annotated[str, Field(pattern=_OPTION_NAME, max_length=100)] = Field(description="The option's name.")
    value: Annotated[str, Field(max_length=4000)] = Field(description="Its value at user scope.")


class OptionOutputs(LazyModel):
    parent_value: str | None = Field(alias="parentValue", description="The inherited value, which applies again "
                                     "once this resource is deleted.")


# ----- filtering rules (5.8 attachments, 5.10 URI-BL) ---------------------------------------------------------
def _upper(value: Any) -> Any:
    # The models list lower-case values, the examples send and answer upper-case: accept either, send upper.
    return value.upper() if isinstance(value, str) else value


def _regex(value: Any) -> Any:
    if isinstance(value, str):
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc})") from None
    return value


AttachmentAction = Annotated[Literal["ALLOW", "DENY"], BeforeValidator(_upper)]
AttachmentCheck = Annotated[Literal["FILENAME", "CONTENTTYPE", "ARCHIVE-CONTENTTYPE", "ARCHIVE-FILENAME"],
                            BeforeValidator(_upper)]
UriBlAction = Annotated[Literal["URIDNSBL_SKIP_DOMAIN", "WHITELIST_URI_HOST", "BLACKLIST_URI_HOST"],
                        BeforeValidator(_upper)]
Pattern = Annotated[str, Field(min_length=1, max_length=255), BeforeValidator(_regex),
                    Rule("a valid regular expression")]


class AttachmentFilterModel(CleanmailModel):
    domain_id: Id = Field(description="The domain the rule applies to.")
    action: AttachmentAction = Field(description="What happens to a matching attachment: `ALLOW` or `DENY` (any "
                                     "case; stored upper-case).")
    check_type: AttachmentCheck = Field(
        alias="checkType", description="What the pattern is matched against: the attachment's `FILENAME` or "
        "`CONTENTTYPE`, or those of the files inside an archive (`ARCHIVE-FILENAME`, `ARCHIVE-CONTENTTYPE`).")
    filter: Pattern = Field(description="The pattern the checked value must match (a regular expression, e.g. "
                            "`[.]xlsx$`). One rule per check type and pattern in a domain.")
    description: Text | None = Field(default=None, description="Why the rule exists.")


class UriBlFilterModel(CleanmailModel):
    domain_id: Id = Field(description="The domain the rule applies to.")
    action: UriBlAction = Field(
        description="`URIDNSBL_SKIP_DOMAIN`: URIs with this domain are not checked against URI blocklists (no "
        "effect on the spam score); `WHITELIST_URI_HOST`: lowers the spam score of messages with such URIs a lot; "
        "`BLACKLIST_URI_HOST`: raises it a lot. Any case; stored upper-case.")
    filter: Pattern = Field(description="The URI host (or pattern) the rule is about, e.g. `bulist.com`. One rule "
                            "per pattern in a domain.")
    description: Text | None = Field(default=None, description="Why the rule exists.")


class FilterOutputs(LazyModel):
    priority: int | None = Field(default=None, description="The rule's rank among its domain's rules (the API's)."
                                + SNAPSHOT)
    scope: str | None = Field(default=None, description="The name of the rule's domain, as the API answers it."
                                + SNAPSHOT)
    created_date: int | None = Field(default=None, alias="createdDate", description="When the rule was created "
                                     "(epoch ms).")


# ----- sender rules: white / block lists (5.9) ----------------------------------------------------------------
def _expiry(value: Any) -> Any:
    """An RFC 3339 date-time with a zone, normalised to UTC (`2027-01-31T00:00:00Z`); the wire has epoch ms."""
    if not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError("must be an RFC 3339 date-time, e.g. 2027-01-31T00:00:00Z") from None
    if parsed.tzinfo is None:
        raise ValueError("needs a time zone (Z or an offset such as +02:00)")
    return format_expiry(epoch_ms(parsed))


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def format_expiry(ms: int) -> str:
    """Whole seconds: the API answers stored dates cut to the second."""
    return datetime.fromtimestamp(ms // 1000, timezone.utc).isoformat().replace("+00:00", "Z")


def parse_expiry(text: str) -> int:
    return epoch_ms(datetime.fromisoformat(text.replace("Z", "+00:00")))


_SENDER_DOMAIN = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")


def _sender(value: Any) -> Any:
    if isinstance(value, str):
        value = value.lower()
        if not (_EMAIL.fullmatch(value) or _SENDER_DOMAIN.fullmatch(value)):
            raise ValueError(f"{value!r} is neither an email address nor a domain name")
    return value


SenderValue = Annotated[str, BeforeValidator(_sender), Rule("an email address or a domain name (stored lowercase)")]
SenderRuleType = Annotated[Literal["ALLOW", "BLOCK", "PROTECTED"], BeforeValidator(_upper)]
Expiry = Annotated[str, BeforeValidator(_expiry), Rule("an RFC 3339 date-time with a zone (to the second), in the "
                                                       "future when set")]


class SenderRuleModel(CleanmailModel):
    """One rule of a white / block list: a sender (address or domain) and what happens to its mail."""

    value: SenderValue = Field(description="The sender the rule is about: an address or a whole domain.")
    type: SenderRuleType = Field(description="`ALLOW` (allowlist), `BLOCK` (blocklist) or `PROTECTED`.")
    expire_at: Expiry | None = Field(default=None, alias="expireAt", description="When the rule stops applying "
                                     "(RFC 3339, e.g. `2027-01-31T00:00:00Z`); it stays listed afterwards.")
    description: Text | None = Field(default=None, description="Why the rule exists.")
    spf_on: bool | None = Field(default=None, alias="spfOn", description="Check the sender's SPF: required for "
                                "`ALLOW` rules, not allowed on others.")

    @model_validator(mode="after")
    def _spf_for_allow_only(self) -> SenderRuleModel:
        if self.type == "ALLOW" and self.spf_on is None:
            raise ValueError("spf_on is required for an ALLOW rule")
        if self.type != "ALLOW" and self.spf_on is not None:
            raise ValueError(f"spf_on applies to ALLOW rules only, not {self.type}")
        return self


class DomainSenderRuleModel(SenderRuleModel):
    domain_id: Id = Field(description="The domain whose list holds the rule.")


class MailboxSenderRuleModel(SenderRuleModel):
    user_id: Id = Field(description="The mailbox (user) whose list holds the rule.")


def _one_rule_per_sender(rules: Any) -> Any:
    if isinstance(rules, list):
        values = [str(r.get("value", "")).lower() for r in rules if isinstance(r, Mapping)]
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise known_values_error(f"one rule per sender: {', '.join(repeated)} listed more than once")
    return rules


SenderRuleList = Annotated[list[SenderRuleModel], BeforeValidator(_one_rule_per_sender)]


class DomainSenderRulesModel(CleanmailModel):
    domain_id: Id = Field(description="The domain whose whole list this is.")
    rules: SenderRuleList = Field(description="Every rule of the domain's list (authoritative: rules added "
                                  "otherwise are removed on the next update).")


class MailboxSenderRulesModel(CleanmailModel):
    user_id: Id = Field(description="The mailbox (user) whose whole list this is.")
    rules: SenderRuleList = Field(description="Every rule of the mailbox's list (authoritative).")


class SenderRuleOutputs(LazyModel):
    owner: str | None = Field(default=None, description="The rule's owner as the API names it: the domain's name "
                              "or the mailbox's address." + SNAPSHOT)
    created_date: int | None = Field(default=None, alias="createdDate", description="When the rule was created "
                                     "(epoch ms).")


class SenderRulesOutputs(LazyModel):
    rule_ids: dict[str, str] = Field(description="The API's id of each rule, by sender.")


def _owner(value: Any) -> Any:
    if isinstance(value, str):
        value = value.lower()
        if not (_EMAIL.fullmatch(value) or _SENDER_DOMAIN.fullmatch(value)):
            raise ValueError(f"{value!r} is neither a mailbox address nor a domain name")
    return value


class OwnedSenderRuleModel(SenderRuleModel):
    owner: Annotated[str, BeforeValidator(_owner), Rule("a mailbox address or a domain name (stored lowercase)")] = \
        Field(description="Whose list the rule goes in: a domain (its name) or a mailbox (its address).")


def _one_rule_per_owner_and_sender(rules: Any) -> Any:
    if isinstance(rules, list):
        keys = [(str(r.get("owner", "")).lower(), str(r.get("value", "")).lower()) for r in rules
                if isinstance(r, Mapping)]
        repeated = sorted({f"{o}: {v}" for o, v in keys if keys.count((o, v)) > 1})
        if repeated:
            raise known_values_error(f"one rule per owner and sender: {', '.join(repeated)} listed more than once")
    return rules


class SenderRulesModel(CleanmailModel):
    rules: Annotated[list[OwnedSenderRuleModel], BeforeValidator(_one_rule_per_owner_and_sender)] = Field(
        description="Rules for any owners, added together (the API's bulk `POST /wblist`). Only these rules are "
        "managed: other rules of the same owners are left alone.")


class OwnedRulesOutputs(LazyModel):
    rule_ids: dict[str, str] = Field(description="The API's id of each rule, by `<owner>/<sender>`.")
    owner_lists: dict[str, str] = Field(
        default_factory=dict, description="The owner's rule list each rule is in (`/domains/<id>/wblist` or "
        "`/users/<id>/wblist`), by `<owner>/<sender>`: reads, updates and deletes follow an owner through a rename.")


# ----- access (5.5.2, 5.5.12) ---------------------------------------------------------------------------------
Permission = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=64),
                       Rule("a permission name of the platform, e.g. `QUARANTINE_RELEASE`")]


def _each_permission_once(names: Any) -> Any:
    if isinstance(names, list):
        repeated = sorted({n for n in names if isinstance(n, str) and names.count(n) > 1})
        if repeated:
            raise known_values_error(f"{', '.join(repeated)} listed more than once")
    return names


class DomainUsersAccessModel(CleanmailModel):
    domain_id: Id = Field(description="The domain whose end users the permissions are for.")
    permissions: Annotated[list[Permission], BeforeValidator(_each_permission_once)] = Field(
        description="Every permission the domain's end users have (authoritative; the others are withdrawn). The "
        "platform's names: `cleanmail.user_permissions(domain_id)` lists them.")


class DomainUsersAccessOutputs(LazyModel):
    available_permissions: list[str] = Field(description="Every permission the domain's end users could be given.")


# ----- personal authentication tokens (5.2) -------------------------------------------------------------------
class AdminTokenModel(CleanmailModel):
    admin_id: Id = Field(description="The administrator the token authenticates as (it has that account's rights).")
    name: Annotated[str, Field(min_length=1, max_length=255)] = Field(
        description="The token's name, e.g. the application that uses it.")
    expiration: Expiry | None = Field(default=None, description="When the token stops working (RFC 3339, e.g. "
                                      "`2027-12-31T00:00:00Z`); left out: never.")


class AdminTokenOutputs(LazyModel):
    value: str | None = Field(default=None, description="The token to send as `Authorization: Bearer`, e.g. as "
                              "another stack's `mailinfra:cleanmailToken`. The API answers it once, at creation.")
    created_at: int | None = Field(default=None, alias="createdAt", description="When the token was created "
                                   "(epoch ms).")
    last_use: int | None = Field(default=None, alias="lastUse", description="When the token was last used "
                                 "(epoch ms), if ever.")


# ----- administrators (5.1, 5.5.3 to 5.5.13) --------------------------------------------------------------------
Password = Annotated[str, Field(min_length=1, max_length=128)]
ACCOUNT_FIELDS = ("display_name", "email", "password", "enabled", "language")


class DomainAdminModel(CleanmailModel):
    """Either an existing account (`admin_id`) or a new one (`login` with its account fields)."""

    domain_id: Id = Field(description="The domain the administrator gets access to. Changing it replaces the "
                          "access.")
    permissions: Annotated[list[Permission], BeforeValidator(_each_permission_once)] = Field(
        description="The administrator's permissions on this domain (authoritative; the API's `PUT .../authorities`"
        "). The platform's names: `cleanmail.permissions(\"domain\", domain_id)` lists them.")
    admin_id: Id | None = Field(default=None, description="An existing account to give access (e.g. an `Admin`'s or "
                                "another `DomainAdmin`'s id); its account settings are then not managed here. "
                                "Changing it replaces the access. Give this or `login`.")
    login: Annotated[str, Field(min_length=1, max_length=255)] | None = Field(
        default=None, description="The login of a new account made with the access (the API cannot rename an "
        "account: changing it replaces the account). Give this or `admin_id`.")
    display_name: Text | None = Field(default=None, alias="displayName", description="The new account's display "
                                      "name (required with `login`).")
    email: EmailAddress | None = Field(default=None, description="The new account's address, used for password "
                                       "recovery (required with `login`).")
    password: Password | None = Field(default=None, description="The new account's password (required with "
                                      "`login`); the API never answers it, so a change made out of band cannot be "
                                      "seen.")
    enabled: bool | None = Field(default=None, description="Whether the new account can sign in (created enabled "
                                 "when left out).")
    language: Language | None = Field(default=None, description="The new account's language (`EN` when left out).")

    @model_validator(mode="before")
    @classmethod
    def _one_account(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        given = {key for key, value in data.items() if value is not None}
        if ("admin_id" in given) == ("login" in given):
            raise known_values_error("give admin_id (an existing account) or login (a new account), not both")
        account = sorted(given & {*ACCOUNT_FIELDS, "displayName"})
        if "admin_id" in given and account:
            raise known_values_error(f"{', '.join(account)}: an existing account's settings are not managed by a "
                                     "DomainAdmin (use an Admin resource for them)")
        missing = [key for key in ("display_name", "email", "password")
                   if "login" in given and key not in given and not (key == "display_name" and "displayName" in given)]
        if missing:
            raise known_values_error(f"{', '.join(missing)}: required to create the account {data.get('login')!r}")
        return data


class DomainAdminOutputs(LazyModel):
    account_login: str | None = Field(default=None, description="The account's login (also when given by "
                                      "`admin_id`).")
    totp: bool | None = Field(default=None, description="Whether the account signs in with a second factor.")
    sys_admin: bool | None = Field(default=None, alias="sysAdmin", description="Whether the account is a system "
                                   "administrator.")
    created_at: int | None = Field(default=None, alias="createdAt", description="When the account was created "
                                   "(epoch ms).")


class AdminModel(CleanmailModel):
    """The settings of an account the API lets you change (5.1.5 AdminUpdate); the login never changes."""

    admin_id: Id = Field(description="The account (e.g. a `DomainAdmin`'s id, or one found with "
                         "`cleanmail.admins(search=...)`). Changing it replaces the resource.")
    display_name: Text | None = Field(default=None, alias="displayName", description="Display name.")
    email: EmailAddress | None = Field(default=None, description="Address used for password recovery.")
    password: Password | None = Field(default=None, description="The account's password; the API never answers "
                                      "it, so a change made out of band cannot be seen.")
    enabled: bool | None = Field(default=None, description="Whether the account can sign in (a disabled account's "
                                 "tokens stop working).")
    language: Language | None = Field(default=None, description="Language of the account.")
    totp: Literal[False] | None = Field(default=None, description="`False` turns the second factor (TOTP) off; the "
                                        "API cannot turn it on (that is the user's own QR-code flow).")


class AdminOutputs(LazyModel):
    login: str | None = Field(default=None, description="The account's login.")
    sys_admin: bool | None = Field(default=None, alias="sysAdmin", description="Whether the account is a system "
                                   "administrator.")
    authorities: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Its accesses: `{objectType, objectId, objectName, permissions}` per domain (or customer)."
        + SNAPSHOT)
    created_at: int | None = Field(default=None, alias="createdAt", description="When the account was created "
                                   "(epoch ms).")
