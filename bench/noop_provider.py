"""The engine floor: dynamic providers that send nothing and record the same state shapes as the real
resources (the engine's cost grows with the state it checkpoints after every step, so a fair floor stores
what the real resource stores: its inputs and the API's computed outputs)."""

from __future__ import annotations

import itertools
import pickle
from typing import Any, ClassVar

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, ResourceProvider, UpdateResult

_ids = itertools.count(1)


class NoopProvider(ResourceProvider):
    serialize_as_secret_always = False
    computed_outputs: ClassVar[dict[str, Any]] = {}  # what the API would add to the inputs

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = {k: v for k, v in props.items() if k != "__provider"}
        return CreateResult(str(next(_ids)), {**inputs, **self.computed_outputs})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(news)


_ORIGINAL_BATCH_SETITEMS = pickle._Pickler._batch_setitems  # type: ignore[attr-defined]


# The outputs the Cleanmail API computes for each resource the Cleanmail benchmark makes (same keys, same
# value lengths as the emulator's answers). Classes, not instances, carry them: dill pickles an importable
# class by reference, so `__provider` stays as short as the real resources' one.
_DKIM_TXT = "v=DKIM1; p=" + "M" * 392


class NoopDomainProvider(NoopProvider):
    computed_outputs: ClassVar[dict[str, Any]] = {
        "active_users_count": 0, "creation_date": 1795503454223, "default_policy_id": "sQOny",
        "domain_aliases": [], "policies_count": 1, "platforms": [], "outgoing_providers_ids": [],
        "auto_provisioning_on": False, "incoming": True, "outgoing": False, "sender_verify_on": True,
        "wblist_priority": "USER"}


class NoopPolicyProvider(NoopProvider):
    computed_outputs: ClassVar[dict[str, Any]] = {"archive": False, "outgoing": False}


class NoopDkimProvider(NoopProvider):
    computed_outputs: ClassVar[dict[str, Any]] = {
        "dns_record_name": "protect._domainkey.floor0.bench.example", "txt_value": _DKIM_TXT,
        "records": [f"protect._domainkey.floor0.bench.example TXT {_DKIM_TXT}"]}


class NoopUserProvider(NoopProvider):
    computed_outputs: ClassVar[dict[str, Any]] = {"creation_date": 1795503454517, "send_notification": False,
                                                  "status": "ENABLED"}


class NoopResource(pulumi.dynamic.Resource, module="bench", name="Noop"):
    def __init__(self, name: str, props: dict[str, Any], provider: type[NoopProvider] = NoopProvider,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        # The SDK re-wraps this on every serialisation and never restores it (RecursionError past a few
        # hundred resources); reset it so the floor can reach N=500 while paying dill per resource.
        pickle._Pickler._batch_setitems = _ORIGINAL_BATCH_SETITEMS  # type: ignore[attr-defined]
        super().__init__(provider(), name, props, opts)
