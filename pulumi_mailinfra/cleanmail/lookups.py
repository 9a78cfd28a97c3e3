"""Look-ups usable from a Pulumi program (and plain scripts): Cleanmail domains and their policies, with the
stack's `mailinfra:cleanmail*` settings (or CLEANMAIL_URL / CLEANMAIL_TOKEN)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi

from ..config import program_config
from ..diagnostics import program_output
from ..errors import NotFoundError

if TYPE_CHECKING:
    from .client import CleanmailClient


def _client(client: CleanmailClient | None) -> CleanmailClient:
    """The client given, else one built from the stack's (or the environment's) Cleanmail settings."""
    if client is not None:
        return client
    from .client import cleanmail_client  # httpx loads on a program's first look-up, not at import

    return cleanmail_client(program_config())


def find_domains(pattern: str, client: CleanmailClient | None = None) -> list[dict[str, Any]]:
    """Every domain whose name matches `pattern`: exact, or with `*` wildcards (`example*`, `*.net`)."""
    client = _client(client)
    return list(client.list_all("/domains", "domains", name=pattern))


def find_domain(name: str, client: CleanmailClient | None = None) -> dict[str, Any]:
    """The domain named `name` (case-insensitive); NotFoundError if none."""
    client = _client(client)
    found = client.find_by_name("/domains", "domains", name)
    if found is None:
        raise NotFoundError("cleanmail", "GET", "/domains", 404, "not_found", [f"no domain named {name!r}"])
    return dict(found)


def domain_policies(domain_id: str, client: CleanmailClient | None = None) -> list[dict[str, Any]]:
    """Every policy of a domain, following offset / pageSize to the end."""
    client = _client(client)
    return list(client.list_all(f"/domains/{domain_id}/policies", "policies"))


def _listing(path: str, key: str, client: CleanmailClient | None) -> list[dict[str, Any]]:
    return list(_client(client).list_all(path, key))


def domain_users(domain_id: str, client: CleanmailClient | None = None) -> list[dict[str, Any]]:
    """Every account of a domain (passwords are never answered)."""
    return _listing(f"/domains/{domain_id}/users", "users", client)


def domain_options(domain_id: str, client: CleanmailClient | None = None) -> list[dict[str, Any]]:
    """Every option that applies at domain scope, with its value there and its inherited `parentValue`."""
    return _listing(f"/domains/{domain_id}/options", "options", client)


def domain_aliases(domain_id: str, client: CleanmailClient | None = None) -> list[dict[str, Any]]:
    """The domain's aliases (`{id, name}`)."""
    return _listing(f"/domains/{domain_id}/aliases", "aliases", client)


def email_aliases(domain_id: str, client: CleanmailClient | None = None) -> list[dict[str, Any]]:
    """The domain's email aliases with their recipients."""
    return _listing(f"/domains/{domain_id}/groups", "groups", client)


def attachment_filters(domain_id: str, client: CleanmailClient | None = None) -> list[dict[str, Any]]:
    """The domain's attachment filtering rules."""
    return _listing(f"/domains/{domain_id}/filters/attachments", "filters", client)


def uri_bl_filters(domain_id: str, client: CleanmailClient | None = None) -> list[dict[str, Any]]:
    """The domain's URI-BL filtering rules."""
    return _listing(f"/domains/{domain_id}/filters/uris", "filters", client)


def domain_sender_rules(domain_id: str, client: CleanmailClient | None = None) -> list[dict[str, Any]]:
    """The domain's sender white / block list (expired rules included, with their `expireAt`)."""
    return _listing(f"/domains/{domain_id}/wblist", "rules", client)


def mailbox_sender_rules(user_id: str, client: CleanmailClient | None = None) -> list[dict[str, Any]]:
    """The mailbox's sender white / block list."""
    return _listing(f"/users/{user_id}/wblist", "rules", client)


def user_permissions(domain_id: str, client: CleanmailClient | None = None) -> list[dict[str, Any]]:
    """Every permission a domain's end users could have, each with whether they have it (`{name, enabled}`)."""
    client = _client(client)
    return list(client.get(client.path(f"/domains/{domain_id}/access")) or [])


def permissions(scope: str, object_id: str, client: CleanmailClient | None = None) -> list[dict[str, Any]]:
    """The permissions that can be granted on an object (`scope` "domain" or "user"), as far as the token's own
    permissions reach (`{name, editable}`)."""
    client = _client(client)
    return list(client.get(client.path("/security/permissions"), scope=scope, id=object_id) or [])


def domain_admins(domain_id: str, client: CleanmailClient | None = None) -> list[dict[str, Any]]:
    """The administrators of a domain, each with its authorities (passwords are never answered)."""
    return _listing(f"/domains/{domain_id}/admins", "admins", client)


def admins(search: str | None = None, client: CleanmailClient | None = None) -> list[dict[str, Any]]:
    """The administrator accounts the token may manage (GRANT permission), optionally those whose login, email or
    display name contains `search`, each with its authorities."""
    params = {"search": search} if search else {}
    return list(_client(client).list_all("/security/admins", "admins", **params))


def admin(admin_id: str, client: CleanmailClient | None = None) -> dict[str, Any]:
    """One administrator account with all its authorities."""
    client = _client(client)
    return dict(client.get(client.path(f"/security/admins/{admin_id}")))


def find_admin(login: str, client: CleanmailClient | None = None) -> dict[str, Any]:
    """The account whose login is `login` (case-insensitive); NotFoundError if none."""
    wanted = login.casefold()
    for found in admins(login, client):
        if str(found.get("login", "")).casefold() == wanted:
            return found
    raise NotFoundError("cleanmail", "GET", "/security/admins", 404, "not_found", [f"no administrator {login!r}"])


def admin_tokens(admin_id: str, client: CleanmailClient | None = None) -> list[dict[str, Any]]:
    """An administrator's tokens (names and dates: the values are answered only at creation)."""
    client = _client(client)
    return list(client.get(client.path(f"/admins/{admin_id}/tokens")) or [])


def run_domain_diagnostic(domain_id: str, client: CleanmailClient | None = None) -> dict[str, Any]:
    """Run the domain's integrity tests (MX, DKIM) now and return the report (`performedAt`, `report`)."""
    client = _client(client)
    return dict(client.request("POST", client.path(f"/domains/{domain_id}/health")))


def domain_diagnostic(domain_id: str, client: CleanmailClient | None = None) -> dict[str, Any]:
    """The report of the domain's last integrity tests."""
    client = _client(client)
    return dict(client.get(client.path(f"/domains/{domain_id}/health")))


def run_platform_diagnostic(platform_id: str, client: CleanmailClient | None = None) -> dict[str, Any]:
    """Test the SMTP connectivity of a domain's platform now and return the report."""
    client = _client(client)
    return dict(client.request("POST", client.path(f"/platforms/{platform_id}/health")))


def platform_diagnostic(platform_id: str, client: CleanmailClient | None = None) -> dict[str, Any]:
    """The report of the platform's last connectivity test."""
    client = _client(client)
    return dict(client.get(client.path(f"/platforms/{platform_id}/health")))


def health_errors(client: CleanmailClient | None = None) -> list[dict[str, Any]]:
    """Every failing diagnostic of the environment (`{id, name, type, health}`)."""
    client = _client(client)
    return list(client.get(client.path("/health")) or [])


def try_relay(settings: dict[str, Any], client: CleanmailClient | None = None) -> dict[str, Any]:
    """Test a relay configuration before using it (`transportDest`, `transportPort`, `authType`, ... in the
    API's names); returns `{status, entries}`."""
    client = _client(client)
    return dict(client.request("POST", client.path("/health/try-relay"), json=settings, idempotent=True))


def get_domain(name: pulumi.Input[str]) -> pulumi.Output[dict[str, Any]]:
    """The full record of the domain named `name` (case-insensitive); fails the program when there is none."""
    return program_output(find_domain, name)


def get_domains(pattern: pulumi.Input[str]) -> pulumi.Output[list[dict[str, Any]]]:
    """Every domain whose name matches `pattern` (exact, or `*` wildcards)."""
    return program_output(find_domains, pattern)


def get_domain_policies(domain_id: pulumi.Input[str]) -> pulumi.Output[list[dict[str, Any]]]:
    """Every policy of the domain."""
    return program_output(domain_policies, domain_id)


def get_domain_users(domain_id: pulumi.Input[str]) -> pulumi.Output[list[dict[str, Any]]]:
    """Every account of the domain."""
    return program_output(domain_users, domain_id)


def get_domain_options(domain_id: pulumi.Input[str]) -> pulumi.Output[list[dict[str, Any]]]:
    """Every option at the domain's scope, with `value` and inherited `parentValue`."""
    return program_output(domain_options, domain_id)


def get_domain_aliases(domain_id: pulumi.Input[str]) -> pulumi.Output[list[dict[str, Any]]]:
    """The domain's aliases."""
    return program_output(domain_aliases, domain_id)


def get_email_aliases(domain_id: pulumi.Input[str]) -> pulumi.Output[list[dict[str, Any]]]:
    """The domain's email aliases and their recipients."""
    return program_output(email_aliases, domain_id)


def get_attachment_filters(domain_id: pulumi.Input[str]) -> pulumi.Output[list[dict[str, Any]]]:
    """The domain's attachment filtering rules."""
    return program_output(attachment_filters, domain_id)


def get_uri_bl_filters(domain_id: pulumi.Input[str]) -> pulumi.Output[list[dict[str, Any]]]:
    """The domain's URI-BL filtering rules."""
    return program_output(uri_bl_filters, domain_id)


def get_domain_sender_rules(domain_id: pulumi.Input[str]) -> pulumi.Output[list[dict[str, Any]]]:
    """The domain's sender white / block list."""
    return program_output(domain_sender_rules, domain_id)


def get_mailbox_sender_rules(user_id: pulumi.Input[str]) -> pulumi.Output[list[dict[str, Any]]]:
    """The mailbox's sender white / block list."""
    return program_output(mailbox_sender_rules, user_id)


def get_user_permissions(domain_id: pulumi.Input[str]) -> pulumi.Output[list[dict[str, Any]]]:
    """Every permission the domain's end users could have, with whether they have it."""
    return program_output(user_permissions, domain_id)


def get_domain_admins(domain_id: pulumi.Input[str]) -> pulumi.Output[list[dict[str, Any]]]:
    """The administrators of the domain."""
    return program_output(domain_admins, domain_id)


def get_admins(search: pulumi.Input[str] | None = None) -> pulumi.Output[list[dict[str, Any]]]:
    """The administrator accounts (optionally those matching `search`)."""
    return program_output(admins, search)


def get_admin(login: pulumi.Input[str]) -> pulumi.Output[dict[str, Any]]:
    """The administrator account whose login is `login`; fails the program when there is none."""
    return program_output(find_admin, login)


def get_admin_tokens(admin_id: pulumi.Input[str]) -> pulumi.Output[list[dict[str, Any]]]:
    """The administrator's tokens, without their values."""
    return program_output(admin_tokens, admin_id)


def get_domain_diagnostic(domain_id: pulumi.Input[str]) -> pulumi.Output[dict[str, Any] | None]:
    """Runs the domain's integrity tests during `up` (never during preview: None then) and gives the report."""
    return program_output(lambda d: None if pulumi.runtime.is_dry_run() else run_domain_diagnostic(d), domain_id)


RESOURCE_LOOKUPS = {
    "AdminToken": [get_admin_tokens, get_domain_admins],
    "DomainAdmin": [get_domain_admins, get_admin],
    "Admin": [get_admin, get_admins],
    "DomainUsersAccess": [get_user_permissions],
    "DomainSenderRule": [get_domain_sender_rules],
    "DomainSenderRules": [get_domain_sender_rules],
    "MailboxSenderRule": [get_mailbox_sender_rules],
    "MailboxSenderRules": [get_mailbox_sender_rules],
    "SenderRules": [get_domain_sender_rules, get_mailbox_sender_rules],
    "AttachmentFilter": [get_attachment_filters],
    "UriBlFilter": [get_uri_bl_filters],
    "Domain": [get_domain, get_domains, get_domain_diagnostic],
    "DomainAliases": [get_domain_aliases],
    "DomainAlias": [get_domain_aliases],
    "DomainOption": [get_domain_options],
    "User": [get_domain_users],
    "EmailAlias": [get_email_aliases],
    "DomainPolicy": [get_domain_policies],
}
