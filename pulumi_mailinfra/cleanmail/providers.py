"""Cleanmail providers: each resource is a ResourceSpec and, where the API needs it, a hook or two. The
typed resource classes programs use are generated from these (cleanmail/resources.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from ..errors import InUseError, NotFoundError
from ..http import ApiClient
from ..provider import CLIENT_FACTORIES, CrudProvider, ResourceSpec, redacting
from ..reconcile import canonical
from .client import cleanmail_client
from .models import DkimModel, DkimOutputs, DomainModel, DomainOutputs, PolicyModel

CLIENT_FACTORIES["cleanmail"] = cleanmail_client
PLATFORM_SECRETS = ("platforms[].auth_data.bind_password", "platforms[].auth_data.client_secret",
                    "platforms[].api_data.password", "platforms[].api_data.client_secret")
# The default policy's service flags, set through the domain (DomainAdd seeds them; DomainUpdate takes
# quarantine / retention / archive; incoming / outgoing only through the policy itself).
POLICY_FLAGS = ("incoming", "outgoing", "quarantine", "retention", "archive")


class DomainProvider(CrudProvider):
    spec = ResourceSpec(
        type_name="Domain",
        description="A Cleanmail domain with its platforms (SMTP relays, authentication, remediation API). The "
        "API creates its default policy with it (`default_policy_id`; manage its settings with "
        "`DomainDefaultPolicy`). Deleting it is the API's soft delete: the name stays reserved until purged, and "
        "creating the domain again restores it. Platform passwords and client secrets are always secret.",
        title="domain",
        service="cleanmail",
        model=DomainModel,
        collection="/domains",
        wrapper=None,
        items_key="domains",
        secret_paths=PLATFORM_SECRETS,
        outputs_model=DomainOutputs,
        not_sent=frozenset({"ignore_mx"}),
        update_method="PATCH",
        deleted_field="deletionDate",
        header_inputs=(("ignore_mx", "X-Ignore-MX"),),
    )

    def unwrap(self, data: Any) -> dict[str, Any]:
        record = super().unwrap(data)
        policy = record.get("policy") if isinstance(record.get("policy"), Mapping) else {}
        record["default_policy_id"] = policy.get("id")
        # The domain's own flags say "some policy has the service": the inputs are the default policy's.
        record.update({flag: policy[flag] for flag in POLICY_FLAGS if flag in policy})
        return record

    def send_create(self, client: ApiClient, body: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return super().send_create(client, body, inputs)
        except InUseError:
            found = client.find_by_name(self.collection_path(inputs), self.spec.items_key, str(inputs["name"]))
            if found is None or not self.is_gone(found):
                raise
        # The name is a soft-deleted domain's: creating it again restores it (PATCH of its status), with
        # every input applied, keeping its id and users.
        return self.send_update(client, str(found["id"]), {}, inputs, self.validated(inputs))

    def send_update(
        self, client: ApiClient, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], args: BaseModel
    ) -> dict[str, Any]:
        path = client.path(self.object_path(news, id_))
        body = self.payload(args, news)
        changed = self.changed_fields(body, olds)
        on_policy = {flag: changed.pop(flag) for flag in ("incoming", "outgoing") if flag in changed}
        if not olds:
            changed["status"] = body["status"]  # adopting or restoring: always state the status
        if changed:
            client.request("PATCH", path, json=changed, headers=self.headers(news))
        if on_policy:
            policy_id = canonical(olds.get("default_policy_id")) or self.fetch(client, id_, news)["default_policy_id"]
            client.request("PATCH", client.path(f"/policies/{policy_id}"), json=on_policy)
        return self.fetch(client, id_, news)


class DomainPolicyProvider(CrudProvider):
    spec = ResourceSpec(
        type_name="DomainPolicy",
        description="A policy of a domain: which services (quarantine, retention, archive, incoming, outgoing) it "
        "gives the users it is assigned to, and their settings. Deleting one that is still a domain's default or "
        "assigned to users fails with the API's message.",
        title="policy",
        service="cleanmail",
        model=PolicyModel,
        collection="/domains/{domain_id}/policies",
        object_collection="/policies",
        wrapper=None,
        items_key="policies",
        replace_on=frozenset({"domain_id"}),
        update_method="PATCH",
    )


class DomainDkimProvider(CrudProvider):
    """The API answers DKIM calls with TXT lines (`<selector>._domainkey.<name> TXT v=DKIM1; p=...`), one per
    name of the domain, not with an object: the record is built from the domain's own line."""

    spec = ResourceSpec(
        type_name="DomainDkim",
        description="The DKIM key of a domain: generated by the API, or the key pair you give. Outputs the DNS "
        "record to publish (`dns_record_name`, `txt_value`), ready for a DNS resource. The private key is always "
        "secret.",
        title="DKIM",
        service="cleanmail",
        model=DkimModel,
        collection="/domains/{domain_id}/dkim",
        wrapper=None,
        items_key="dkim",
        replace_on=frozenset({"domain_id"}),
        secret_paths=("private_key",),
        outputs_model=DkimOutputs,
        not_sent=frozenset({"domain_id"}),
        name_field=None,
    )

    def path(self, client: ApiClient, inputs: Mapping[str, Any]) -> str:
        return client.path(self.collection_path(inputs))

    def record(self, lines: Any, inputs: Mapping[str, Any]) -> dict[str, Any]:
        lines = [str(line) for line in lines] if isinstance(lines, list) else []
        if not lines:
            raise NotFoundError("cleanmail", "GET", self.collection_path(inputs), 404, "not_found", ["no DKIM values"])
        name, _, value = lines[0].partition(" TXT ")
        return {"id": str(canonical(inputs["domain_id"])), "selector": name.split("._domainkey.", 1)[0],
                "dns_record_name": name, "txt_value": value, "records": lines}

    def payload(self, args: BaseModel, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return args.model_dump(mode="json", by_alias=True, exclude_none=True, exclude=set(self.spec.not_sent))

    def fetch(self, client: ApiClient, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return self.record(client.get(self.path(client, inputs)), inputs)

    def send_create(self, client: ApiClient, body: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        self.record(client.request("POST", self.path(client, inputs), json=body), inputs)
        return self.fetch(client, "", inputs)  # every name of the domain (its aliases too)

    def send_update(
        self, client: ApiClient, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], args: BaseModel
    ) -> dict[str, Any]:
        self.record(client.request("PUT", self.path(client, news), json=self.payload(args, news)), news)
        return self.fetch(client, id_, news)

    def find_existing(self, client: ApiClient, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        try:  # a domain has at most one DKIM entry: after a lost answer, it is ours if it is there
            return self.fetch(client, "", inputs)
        except NotFoundError:
            return None

    @redacting
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = self.client()
        try:
            client.request("DELETE", self.path(client, self.inputs_of(props)))
        except NotFoundError:
            return
