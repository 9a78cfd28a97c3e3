"""What a program needs to know of a resource type, without its provider.

The provider (pydantic models, the httpx client) runs in the dynamic provider's own process; a program only
declares resources. Each service's generated `resources.py` holds one `ProgramSpec` per type, written by
`python -m pulumi_mailinfra.codegen` from the provider's `ResourceSpec` (a unit test keeps them equal), so a
program imports neither pydantic nor httpx: ~0.25 s less before its first resource registers.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

# Inputs that steer the provider and are never sent to the API. The autoname candidate is the program's
# `<logical name>-<7 hex>` for a resource given no name; `check` turns it into the name once. (Not a `__`
# key: the SDK drops those on the way to the provider.)
ADOPT_KEY = "adopt_existing"
AUTONAME_KEY = "autoname_candidate"
# Which resource of which stack declares the object (`org/project/stack: Type 'name'`): on a create that finds the
# object already there, the provider's proof that this resource made it (pulumi_mailinfra.ownership).
OWNER_KEY = "declared_by"
# The hash of the program that registered the resource (pulumi_mailinfra.program_hash): `mailinfra promote` reads
# it from the source stack's state to tell whether it ran the program being promoted.
PROGRAM_KEY = "program_hash"
# Which resource each replace-forcing parent input (`domain_id`) is the id of, by URN, for parents whose id outlives
# their own replacement (a domain restored from its soft delete): when that parent is replaced the input is unknown
# at preview, yet the same resource keeps the same id, so its children are not replaced with it.
PARENTS_KEY = "parent_resources"


@dataclass(frozen=True)
class ProgramSpec:
    """One resource type as the program sees it (every field mirrors the provider's `ResourceSpec`)."""

    provider: str  # the provider class, "package.module:Class"; built in the provider process only
    type_name: str  # "RelayServer"
    input_keys: tuple[str, ...]  # every input the type takes
    computed: tuple[str, ...] = ()  # outputs the API computes (attributes of the resource)
    name_field: str | None = None  # the unique name input, None for a type without one
    autoname: bool = False  # the name may be left out: `<logical name>-<7 hex>` is proposed
    # What makes an object unique (inputs compared case-insensitively; a list input: each item), under the
    # parents in `scope`; () one object per parent; None nothing the program can compare.
    identity: tuple[str, ...] | None = None
    scope: tuple[str, ...] = ()  # the parent inputs of the object's path (`domain_id`)
    secret_paths: tuple[str, ...] = ()  # dotted input paths wrapped as secrets
    secret_outputs: tuple[str, ...] = ()  # computed outputs marked secret by name
    delete_before_replace: bool = False
    replace_on: tuple[str, ...] = ()  # inputs whose change forces replacement
    # The id survives a replacement of the object (`pulumi up --replace`): children naming it keep their object.
    keeps_id_when_replaced: bool = False
    # One form per owner (a whole list or single items): the family (a key of FORM_ADVICE) and the owner input.
    form_family: str | None = None
    form_owner: str | None = None
    # The input that makes a resource the whole-list form of its own family (a template's inline `rules`): items
    # naming its id in `form_owner` are then refused.
    form_self: str | None = None
    # Names unique across types (a domain's and its aliases'): claimed in this namespace, scoped or not, and so
    # are the items of the list inputs named in `namespace_lists` (DomainAliases' `names`).
    name_namespace: str | None = None
    namespace_lists: tuple[str, ...] = ()

    def provider_ref(self) -> ProviderRef:
        return ProviderRef(self.provider)


class ProviderRef:
    """What a resource's `__provider` pickles: a call that builds the provider in the provider process. The
    pickle names the class and nothing else (no settings, no client), and making it imports nothing here."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return load_provider, (self.target,)


def load_provider(target: str) -> Any:
    """The provider a `ProviderRef` names, built in the process that unpickles it. Every resource's state
    holds this function's module and name (in `__provider`): moving or renaming it breaks existing stacks."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)()


# What to do instead, per family of resources managed either as a whole list or item by item.
FORM_ADVICE = {
    "aliases": "use one form per domain (DomainAliases for the whole list, DomainAlias for aliases added one by one)",
    "sender rules": "use one form per owner (DomainSenderRules / MailboxSenderRules for the whole list, "
    "DomainSenderRule / MailboxSenderRule for rules added one by one)",
    "rules": "use one form per template (ThrottlingTemplate(rules=...) for the whole list, ThrottlingRule resources "
    "for rules added one by one)",
}
OWNER_KINDS = {"domain_id": "domain", "user_id": "mailbox", "template_id": "template", "admin_id": "administrator"}


def form_conflict(spec_type: str, family: str, owner_key: str, owner: str, form: str) -> str:
    """Why a `spec_type` resource cannot manage `owner`'s `family` that a `form` resource manages already."""
    kind = OWNER_KINDS[owner_key]
    return (f"{kind} {owner} already has its {family} managed by a {form} resource; a {spec_type} on the same "
            f"{kind} would undo it on every update: {FORM_ADVICE[family]}")
