"""Cleanmail API v3 resources (typed: see `inputs` and docs/reference/cleanmail/)."""

from .client import CleanmailClient, cleanmail_client
from .inputs import *  # noqa: F403 - the generated input types are part of this package's API
from .inputs import __all__ as _inputs_all
from .lookups import domain_policies, find_domain, find_domains, get_domain, get_domain_policies, get_domains
from .providers import (
    DomainAliasesProvider,
    DomainAliasProvider,
    DomainDefaultPolicyProvider,
    DomainDkimProvider,
    DomainOptionProvider,
    DomainPolicyProvider,
    DomainProvider,
    EmailAliasProvider,
    UserOptionProvider,
    UserProvider,
    UserSignatureProvider,
)
from .resources import (
    Domain,
    DomainAlias,
    DomainAliases,
    DomainDefaultPolicy,
    DomainDkim,
    DomainOption,
    DomainPolicy,
    EmailAlias,
    User,
    UserOption,
    UserSignature,
)

__all__ = [
    *_inputs_all,
    "CleanmailClient",
    "Domain",
    "DomainAlias",
    "DomainAliasProvider",
    "DomainAliases",
    "DomainAliasesProvider",
    "DomainDefaultPolicy",
    "DomainDefaultPolicyProvider",
    "DomainDkim",
    "DomainDkimProvider",
    "DomainOption",
    "DomainOptionProvider",
    "DomainPolicy",
    "DomainPolicyProvider",
    "DomainProvider",
    "EmailAlias",
    "EmailAliasProvider",
    "User",
    "UserOption",
    "UserOptionProvider",
    "UserProvider",
    "UserSignature",
    "UserSignatureProvider",
    "cleanmail_client",
    "domain_policies",
    "find_domain",
    "find_domains",
    "get_domain",
    "get_domain_policies",
    "get_domains",
]
