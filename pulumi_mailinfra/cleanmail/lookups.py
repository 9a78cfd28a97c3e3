"""Look-ups usable from a Pulumi program (and plain scripts): Cleanmail domains and their policies, with the
stack's `mailinfra:cleanmail*` settings (or CLEANMAIL_URL / CLEANMAIL_TOKEN)."""

from __future__ import annotations

from typing import Any

import pulumi

from ..config import program_config
from ..diagnostics import install_engine_logging
from ..errors import NotFoundError
from .client import CleanmailClient, cleanmail_client


def find_domains(pattern: str, client: CleanmailClient | None = None) -> list[dict[str, Any]]:
    """Every domain whose name matches `pattern`: exact, or with `*` wildcards (`example*`, `*.net`)."""
    client = client or cleanmail_client(program_config())
    return list(client.list_all("/domains", "domains", name=pattern))


def find_domain(name: str, client: CleanmailClient | None = None) -> dict[str, Any]:
    """The domain named `name` (case-insensitive); NotFoundError if none."""
    client = client or cleanmail_client(program_config())
    found = client.find_by_name("/domains", "domains", name)
    if found is None:
        raise NotFoundError("cleanmail", "GET", "/domains", 404, "not_found", [f"no domain named {name!r}"])
    return dict(found)


def domain_policies(domain_id: str, client: CleanmailClient | None = None) -> list[dict[str, Any]]:
    """Every policy of a domain, following offset / pageSize to the end."""
    client = client or cleanmail_client(program_config())
    return list(client.list_all(f"/domains/{domain_id}/policies", "policies"))


def _output(fn: Any, *args: Any) -> pulumi.Output[Any]:
    install_engine_logging()
    return pulumi.Output.all(*args).apply(lambda values: fn(*values))


def get_domain(name: pulumi.Input[str]) -> pulumi.Output[dict[str, Any]]:
    """The full record of the domain named `name` (case-insensitive); fails the program when there is none."""
    return _output(find_domain, name)


def get_domains(pattern: pulumi.Input[str]) -> pulumi.Output[list[dict[str, Any]]]:
    """Every domain whose name matches `pattern` (exact, or `*` wildcards)."""
    return _output(find_domains, pattern)


def get_domain_policies(domain_id: pulumi.Input[str]) -> pulumi.Output[list[dict[str, Any]]]:
    """Every policy of the domain."""
    return _output(domain_policies, domain_id)


RESOURCE_LOOKUPS = {
    "Domain": [get_domain, get_domains],
    "DomainPolicy": [get_domain_policies],
}
