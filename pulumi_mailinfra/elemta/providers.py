"""Elemta providers. `DeliveryCheck` is an action, not an API object: create and update run the check,
read and delete send nothing. The typed resource class is generated from this (elemta/resources.py)."""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CreateResult, ReadResult, UpdateResult

from ..provider import CrudProvider, ResourceSpec, redacting
from .models import DeliveryCheckModel, DeliveryCheckOutputs


class DeliveryCheckProvider(CrudProvider):
    spec = ResourceSpec(
        type_name="DeliveryCheck",
        description="A post-deployment proof of the mail path: on create, and whenever an input (such as "
        "`triggers`) changes, sends a test message through Elemta's `/api/send-test` and follows it through the "
        "queue and the message logs until it is delivered (or queued, with `wait_for: queued`). The `up` fails, "
        "saying what happened, when the server is unhealthy, rejects the message, fails or holds it, or keeps it "
        "past the timeout. Preview, refresh and destroy send nothing.",
        title="delivery check",
        service="elemta",
        model=DeliveryCheckModel,
        collection="/send-test",
        wrapper=None,
        items_key="",
        outputs_model=DeliveryCheckOutputs,
        name_field=None,
        autoname=False,
        delete_before_replace=False,
    )

    def run(self, inputs: dict[str, Any]) -> dict[str, Any]:
        from .client import ElemtaClient  # with httpx, only in the provider
        from .delivery import run_delivery_check

        args, client = self.validated(inputs), self.client()
        assert isinstance(args, DeliveryCheckModel) and isinstance(client, ElemtaClient)
        outcome = run_delivery_check(
            client, args.sender, args.recipient, args.subject, args.body, wait_for=args.wait_for,
            timeout_seconds=args.timeout_seconds, poll_interval_seconds=args.poll_interval_seconds)
        record = {"message_id": outcome.message_id, "state": outcome.state,
                  "duration_seconds": outcome.duration_seconds, "checked_at": outcome.checked_at}
        return self.outputs(inputs, record)

    @redacting
    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = self.run(self.inputs_of(props))
        return CreateResult(outs["message_id"], outs)

    @redacting
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(self.run(self.inputs_of(news)))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, props)  # a past check has nothing to refresh: no request

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        return None  # the test message is the server's; nothing to remove
