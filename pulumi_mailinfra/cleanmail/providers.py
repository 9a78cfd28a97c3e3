"""Cleanmail providers: each resource is a ResourceSpec and, where the API needs it, a hook or two. The
typed resource classes programs use are generated from these (cleanmail/resources.py)."""

from __future__ import annotations

import base64
import contextlib
import functools
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pulumi.dynamic import CheckFailure, CheckResult
from pydantic import BaseModel

from ..errors import InUseError, MailinfraError, NotFoundError, ValidationError
from ..program_spec import ADOPT_KEY, form_conflict
from ..provider import CrudProvider, ResourceSpec, redacting
from ..reconcile import canonical, is_unknown
from ..wire import from_api
from .models import (
    ACCOUNT_FIELDS,
    AdminModel,
    AdminOutputs,
    AdminTokenModel,
    AdminTokenOutputs,
    AttachmentFilterModel,
    DefaultPolicyModel,
    DefaultPolicyOutputs,
    DkimModel,
    DkimOutputs,
    DomainAdminModel,
    DomainAdminOutputs,
    DomainAliasesModel,
    DomainAliasesOutputs,
    DomainAliasModel,
    DomainModel,
    DomainOptionModel,
    DomainOutputs,
    DomainSenderRuleModel,
    DomainSenderRulesModel,
    DomainUsersAccessModel,
    DomainUsersAccessOutputs,
    EmailAliasModel,
    EmailAliasOutputs,
    FilterOutputs,
    MailboxSenderRuleModel,
    MailboxSenderRulesModel,
    OptionOutputs,
    OwnedRulesOutputs,
    OwnedSenderRuleModel,
    PolicyModel,
    SenderRuleModel,
    SenderRuleOutputs,
    SenderRulesModel,
    SenderRulesOutputs,
    UriBlFilterModel,
    UserModel,
    UserOptionModel,
    UserOutputs,
    UserSignatureModel,
    format_expiry,
    parse_expiry,
)

if TYPE_CHECKING:
    from ..http import ApiClient

PLATFORM_SECRETS = ("platforms[].auth_data.bind_password", "platforms[].auth_data.client_secret",
                    "platforms[].api_data.password", "platforms[].api_data.client_secret")
# The default policy's service flags, set through the domain (DomainAdd seeds them; DomainUpdate takes
# quarantine / retention / archive; incoming / outgoing only through the policy itself).
POLICY_FLAGS = ("incoming", "outgoing", "quarantine", "retention", "archive")


def _kept_sorted(inputs: dict[str, Any], key: str, sort_key: Callable[[Any], str | None]) -> None:
    """A set-valued input whose order means nothing to the API, recorded sorted by `check`, so a reordered list is
    no change. Left as given while an item has no key yet (`sort_key` answers None)."""
    items = inputs.get(key)
    if not isinstance(items, list):
        return
    keys = [sort_key(item) for item in items]
    if all(k is not None for k in keys):
        inputs[key] = [items[i] for i in sorted(range(len(items)), key=keys.__getitem__)]


def _in_program_order(
    outs: dict[str, Any], inputs: Mapping[str, Any], record: Mapping[str, Any], key: str
) -> dict[str, Any]:
    """A set-valued input (the API answers it sorted; `check` lowercased it): when the API holds the same set,
    the output keeps the program's order, so a reordered list is no drift."""
    wanted = [str(item) for item in inputs.get(key) or []]
    if sorted(wanted) == record[key]:
        outs[key] = wanted
    return outs


# The API's rule: domain and domain-alias names are unique case-insensitively across both.
DOMAIN_NAMES = "domain names and domain aliases"


class DomainProvider(CrudProvider):
    name_namespace: ClassVar[str] = DOMAIN_NAMES
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
        autoname=False,
        deleted_field="deletionDate",
        keeps_id_when_replaced=True,
        replacement_note="A replacement soft-deletes the domain and creates it again, which the API does by "
        "restoring it: the same id, accounts, policies, DKIM key and settings, with the declared inputs applied. "
        "Resources naming its id (accounts, DKIM, policies, filters...) are therefore not replaced with it.",
        header_inputs=(("ignore_mx", "X-Ignore-MX"),),
        unordered=("outgoing_subnets", "outgoing_providers_ids"),
    )

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = super().check(olds, news)
        creating = not olds and news.get(ADOPT_KEY) is not True
        if creating and result.inputs.get("status") == "PENDING":
            pending = CheckFailure("", "status: PENDING can be kept or set on a domain that exists, not given on "
                                   "create (the API refuses it): create it ENABLED or DISABLED, or take an existing "
                                   'one over with adopt_existing=True (got "PENDING")')
            return CheckResult(result.inputs, [*result.failures, pending])
        return result

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
        replacement_note="The API refuses to delete a policy still assigned to accounts (400 \"the policy is "
        "affected to a domain or a user\"): a replacement fails, changing nothing, until they use another.",
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
        type_name="DomainDkim", identity=(),
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
        replacement_loses="the key pair the API generated, whose public key is published in DNS (a new one is "
        "generated: the published record no longer matches until DNS is updated)",
        loss_avoided_by="private_key",
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
        selector, _, domain_name = name.partition("._domainkey.")
        public_key = value.partition("p=")[2].strip() or None
        return {"id": str(canonical(inputs["domain_id"])), "selector": selector, "domain_name": domain_name,
                "public_key": public_key, "dns_record_name": name, "txt_value": value, "records": lines}

    def payload(self, args: BaseModel, inputs: Mapping[str, Any]) -> dict[str, Any]:
        # `domain_name` is read back from the record (so a rename is seen), never sent.
        return args.model_dump(mode="json", by_alias=True, exclude_none=True,
                               exclude={*self.spec.not_sent, "domain_name"})

    def fetch(self, client: ApiClient, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return self.record(client.get(self.path(client, inputs)), inputs)

    def send_create(self, client: ApiClient, body: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        # The answer holds the domain's own line; a refresh reads the aliases' lines too.
        return self.record(client.request("POST", self.path(client, inputs), json=body), inputs)

    def send_update(
        self, client: ApiClient, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], args: BaseModel
    ) -> dict[str, Any]:
        if not olds and news.get("public_key") is None:  # adopting: a PUT would generate a new key pair
            current = self.fetch(client, id_, news)
            if current["selector"] == getattr(args, "selector", None):
                return current  # the key in place, already published in DNS, stays
        sent = args.model_dump(mode="json", exclude_none=True, exclude={*self.spec.not_sent, "domain_name"})
        pair_dropped = olds.get("private_key") is not None and "private_key" not in sent
        if olds and not pair_dropped and all(canonical(olds.get(k)) == canonical(v) for k, v in sent.items()):
            # Only what is never sent changed (`domain_name`, after a rename): a PUT would rotate the key.
            return self.fetch(client, id_, news)
        return self.record(client.request("PUT", self.path(client, news), json=self.payload(args, news)), news)

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


POLICY_SETTINGS = ("name", "quarantine", "retention", "archive", "incoming", "outgoing", "mail_size_limit",
                   "spam_score", "relay_props", "quarantine_props", "retention_props", "archive_props")


class DomainDefaultPolicyProvider(CrudProvider):
    """Takes over the default policy a domain was created with (nothing is created); on delete the policy stays,
    reset to the settings it had when taken over, the way cloud providers treat a default security group."""

    spec = ResourceSpec(
        type_name="DomainDefaultPolicy", identity=(),
        description="The default policy of a domain, which the API creates with the domain: takes it over "
        "(nothing is created), manages the settings given (others are left as they are), and on delete leaves "
        "it in place, reset to the settings it had when taken over.",
        title="default policy",
        service="cleanmail",
        model=DefaultPolicyModel,
        collection="/domains/{domain_id}/policies",
        object_collection="/policies",
        wrapper=None,
        items_key="policies",
        replace_on=frozenset({"domain_id"}),
        outputs_model=DefaultPolicyOutputs,
        update_method="PATCH",
        name_field=None,
    )

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = super().check(olds, news)
        owned = [CheckFailure("", f"{flag}: the default policy's service flags are the Domain's own `{flag}` input "
                              "(the API sets them through the domain): set it there; two resources owning one "
                              "setting would undo each other on every up")
                 for flag in POLICY_FLAGS if news.get(flag) is not None]
        return result if not owned else CheckResult(result.inputs, [*result.failures, *owned])

    def changed_fields(self, body: Mapping[str, Any], olds: Mapping[str, Any]) -> dict[str, Any]:
        # States written before the flags were refused hold them: dropping one is no "clear it" (the Domain owns it).
        return super().changed_fields(body, {k: v for k, v in olds.items() if k not in POLICY_FLAGS})

    def send_create(self, client: ApiClient, body: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        domain = client.get(client.path(f"/domains/{canonical(inputs['domain_id'])}"))
        policy = from_api(PolicyModel, domain.get("policy") or {})
        original = {key: policy.get(key) for key in POLICY_SETTINGS if key not in POLICY_FLAGS}
        client.request("PATCH", client.path(self.object_path(inputs, str(policy["id"]))), json=body)
        return {**self.fetch(client, str(policy["id"]), inputs), "original": original}

    def fetch(self, client: ApiClient, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {**super().fetch(client, id_, inputs), "original": inputs.get("original")}

    def send_update(
        self, client: ApiClient, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], args: BaseModel
    ) -> dict[str, Any]:
        return {**super().send_update(client, id_, olds, news, args), "original": olds.get("original")}

    @redacting
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        original = props.get("original")
        if not isinstance(original, Mapping):
            return
        # Only what this resource set goes back; the service flags are the Domain's (older states recorded them).
        reset = {key: value for key, value in original.items()
                 if key not in POLICY_FLAGS and props.get(key) is not None}
        if not reset:
            return
        body = DefaultPolicyModel.model_validate({"domain_id": props["domain_id"], **reset}).model_dump(
            mode="json", by_alias=True, exclude={"domain_id"}, exclude_none=True)
        client = self.client()
        try:
            client.request("PATCH", client.path(self.object_path(props, id_)), json=body)
        except NotFoundError:
            return  # the domain and its policies are gone: nothing to reset


class _WholeValueProvider(CrudProvider):
    """A value set on its parent in one idempotent write, the same for create and update (the alias list, a
    signature, an option): `write` sends it and returns the record."""

    def write(self, client: ApiClient, inputs: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def send_create(self, client: ApiClient, body: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        return self.write(client, inputs, body)

    def send_update(
        self, client: ApiClient, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], args: BaseModel
    ) -> dict[str, Any]:
        return self.write(client, news, self.payload(args, news))

    def find_existing(self, client: ApiClient, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        return None  # the write is idempotent: re-sending it after a lost answer is safe

    def existing_to_adopt(self, client: ApiClient, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        # The value in place, so one already as declared is taken over without a write.
        try:
            return self.fetch(client, "", inputs)
        except NotFoundError:
            return None


# One deployment runs one provider process: which form (a whole-list resource or single ones) manages each
# owner's aliases or sender rules, for every owner it has seen.
_FORMS: dict[tuple[str, str, str, str], str] = {}
_FORMS_LOCK = threading.Lock()


class _OneFormPerOwner(CrudProvider):
    """A whole list (`DomainAliases`, `DomainSenderRules`) and single items (`DomainAlias`, `DomainSenderRule`) on
    one owner would undo each other: the first form seen for an owner in a deployment claims it, and `check`
    refuses the other at preview."""

    form_family: ClassVar[str]  # "aliases"
    form_owner: ClassVar[str] = "domain_id"

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = super().check(olds, news)
        problem = self.form_problem(result.inputs)
        if problem is None:
            return result
        return CheckResult(result.inputs, [*result.failures, CheckFailure("", f"{self.form_owner}: {problem}")])

    def form_problem(self, inputs: Mapping[str, Any]) -> str | None:
        owner = inputs.get(self.form_owner)
        if not isinstance(owner, str) or is_unknown(owner):
            return None  # not known yet (preview of a new owner: the program's own check covers it)
        url = str((getattr(self, "_raw_config", None) or {}).get("mailinfra:cleanmailUrl", ""))
        with _FORMS_LOCK:
            form = _FORMS.setdefault((url, self.form_family, self.form_owner, owner), self.spec.type_name)
        return None if form == self.spec.type_name else self.form_conflict(owner, form)

    @classmethod
    def form_conflict(cls, owner: str, form: str) -> str:
        return form_conflict(cls.spec.type_name, cls.form_family, cls.form_owner, owner, form)


class _AliasFormGuard(_OneFormPerOwner):
    form_family = "aliases"
    name_namespace: ClassVar[str] = DOMAIN_NAMES


class DomainAliasesProvider(_AliasFormGuard, _WholeValueProvider):
    namespace_lists: ClassVar[tuple[str, ...]] = ("names",)
    spec = ResourceSpec(
        type_name="DomainAliases", identity=(),
        description="Every alias of a domain, as one authoritative list (aliases added out of band are removed "
        "on the next update). Use it, or `DomainAlias` resources, never both on one domain: mixing them is "
        "refused at preview.",
        title="domain aliases",
        service="cleanmail",
        model=DomainAliasesModel,
        collection="/domains/{domain_id}/aliases",
        wrapper=None,
        items_key="aliases",
        replace_on=frozenset({"domain_id"}),
        outputs_model=DomainAliasesOutputs,
        not_sent=frozenset({"domain_id"}),
        name_field=None,
        unordered=("names",),
    )

    def fetch(self, client: ApiClient, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        listed = list(client.list_all(self.collection_path(inputs), self.spec.items_key))
        return {"id": str(canonical(inputs["domain_id"])), "names": sorted(a["name"] for a in listed),
                "alias_ids": {a["name"]: str(a["id"]) for a in listed}}

    def outputs(self, inputs: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
        return _in_program_order(super().outputs(inputs, record), inputs, record, "names")

    def write(self, client: ApiClient, inputs: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        client.request("PUT", client.path(self.collection_path(inputs)), json=body["names"])
        return self.fetch(client, "", inputs)

    @redacting
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = self.client()
        try:
            client.request("PUT", client.path(self.collection_path(self.inputs_of(props))), json=[])
        except NotFoundError:
            return


class DomainAliasProvider(_AliasFormGuard):
    spec = ResourceSpec(
        type_name="DomainAlias",
        description="One alias of a domain (another domain name delivering to it). Use these, or one "
        "`DomainAliases` list, never both on one domain: mixing them is refused at preview.",
        title="domain alias",
        service="cleanmail",
        model=DomainAliasModel,
        collection="/domains/{domain_id}/aliases",
        wrapper=None,
        items_key="aliases",
        replace_on=frozenset({"domain_id", "name"}),
        not_sent=frozenset({"domain_id"}),
        autoname=False,
    )

    def fetch(self, client: ApiClient, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return self.listed_item(client, id_, inputs)

    def send_create(self, client: ApiClient, body: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        added = client.request("POST", client.path(self.collection_path(inputs)), json=[body["name"]])
        return dict(added[0])

    def find_existing(self, client: ApiClient, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        wanted = str(inputs.get("name", "")).lower()
        found = (a for a in client.list_all(self.collection_path(inputs), self.spec.items_key)
                 if str(a.get("name", "")).lower() == wanted)
        return next(found, None)

    def send_update(
        self, client: ApiClient, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], args: BaseModel
    ) -> dict[str, Any]:
        return self.fetch(client, id_, news)  # every input forces replacement: an adopted alias is taken as is


class UserProvider(CrudProvider):
    spec = ResourceSpec(
        type_name="User",
        description="A user's account (mailbox) in a domain. The password is always secret and never answered "
        "by the API, so a change made to it out of band cannot be seen.",
        title="user",
        service="cleanmail",
        model=UserModel,
        collection="/users",
        wrapper=None,
        items_key="users",
        replace_on=frozenset({"domain_id"}),
        replacement_loses="the account (the API's delete is final) with its mail in quarantine and archive and "
        "what its holder set on it (own sender rules, options, signature)",
        secret_paths=("password",),
        outputs_model=UserOutputs,
        update_method="PATCH",
        name_field="email",
        autoname=False,
        not_sent=frozenset({"send_welcome_mail"}),
    )

    def _create_once(self, client: ApiClient, args: BaseModel, inputs: Mapping[str, Any]) -> dict[str, Any]:
        record = super()._create_once(client, args, inputs)
        if inputs.get("send_welcome_mail"):
            from .tasks import run_task  # loaded when a welcome mail is due, not in every program

            try:
                run_task("send_welcome_mail", {"recipient": str(canonical(inputs["email"]))}, client)
            except MailinfraError as exc:  # the account goes again: the next `up` creates it and mails once
                with contextlib.suppress(MailinfraError):
                    client.request("DELETE", client.path(self.object_path(inputs, str(record["id"]))))
                message = (f"the welcome mail to {canonical(inputs['email'])} could not be sent ({exc}); the account "
                           "was removed again, so the next `up` creates it and retries")
                raise MailinfraError(message) from None
        return record

    def unwrap(self, data: Any) -> dict[str, Any]:
        record = super().unwrap(data)
        for key, embedded in (("policy_id", "policy"), ("platform_id", "platform")):
            if isinstance(record.get(embedded), Mapping):  # the API answers the objects, not their ids
                record[key] = record[embedded].get("id")
        return record


class UserSignatureProvider(_WholeValueProvider):
    spec = ResourceSpec(
        type_name="UserSignature", identity=(),
        description="The HTML signature of an account, used when composing mail (the account's policy needs a "
        "quarantine, retention or archive service).",
        title="signature",
        service="cleanmail",
        model=UserSignatureModel,
        collection="/users/{user_id}/sign",
        wrapper=None,
        items_key="sign",
        replace_on=frozenset({"user_id"}),
        name_field=None,
    )

    def path(self, client: ApiClient, inputs: Mapping[str, Any]) -> str:
        return client.path(self.collection_path(inputs))

    def fetch(self, client: ApiClient, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        try:
            sign = (client.get(self.path(client, inputs)) or {}).get("sign")
        except ValidationError as refusal:  # documented 400: the account's policy has none of the services
            raise NotFoundError("cleanmail", "GET", self.collection_path(inputs), 404, "not_found",
                                [f"no signature applies: {refusal}"]) from None
        if not sign:
            raise NotFoundError("cleanmail", "GET", self.collection_path(inputs), 404, "not_found", ["no signature"])
        return {"id": str(canonical(inputs["user_id"])), "html": base64.b64decode(sign).decode("utf-8", "replace")}

    def write(self, client: ApiClient, inputs: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        encoded = base64.b64encode(str(body["html"]).encode()).decode()
        client.request("PUT", self.path(client, inputs), json={"sign": encoded})
        return self.fetch(client, "", inputs)

    @redacting
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = self.client()
        try:
            client.request("DELETE", self.path(client, self.inputs_of(props)))
        except (NotFoundError, ValidationError):
            return  # gone, or refused because the account's policy lost its services: no signature applies


class EmailAliasProvider(CrudProvider):
    """An email alias (the API's "group"): its recipients are a set, changed through the addresses endpoints so
    an update adds and removes only what differs."""

    spec = ResourceSpec(
        type_name="EmailAlias",
        description="An email alias of a domain (the API's 'group'): an address delivering to a set of "
        "recipients (accounts, other aliases, external addresses). An update adds and removes only the "
        "recipients that differ.",
        title="email alias",
        service="cleanmail",
        model=EmailAliasModel,
        collection="/domains/{domain_id}/groups",
        wrapper=None,
        items_key="groups",
        replace_on=frozenset({"domain_id"}),
        outputs_model=EmailAliasOutputs,
        not_sent=frozenset({"domain_id"}),
        name_field="email",
        autoname=False,
        unordered=("recipients",),
    )

    def unwrap(self, data: Any) -> dict[str, Any]:
        record = super().unwrap(data)
        recipients = [r for r in record.get("recipients") or [] if isinstance(r, Mapping)]
        record["recipient_ids"] = {str(r["email"]): str(r["id"]) for r in recipients}
        record["recipients"] = sorted(record["recipient_ids"])
        return record

    def outputs(self, inputs: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
        return _in_program_order(super().outputs(inputs, record), inputs, record, "recipients")

    def send_update(
        self, client: ApiClient, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], args: BaseModel
    ) -> dict[str, Any]:
        live = self.fetch(client, id_, news)
        body = self.payload(args, news)
        group = client.path(self.object_path(news, id_))
        if body["email"] != live.get("email"):
            client.request("PATCH", group, json={"email": body["email"]})
        wanted = set(body.get("recipients") or [])
        added = sorted(wanted - set(live["recipients"]))
        if added:
            client.request("POST", f"{group}/addresses", json=added, idempotent=True)  # adding twice is a no-op
        for address in sorted(set(live["recipients"]) - wanted):
            with contextlib.suppress(NotFoundError):
                client.request("DELETE", f"{group}/addresses/{live['recipient_ids'][address]}")
        return self.fetch(client, id_, news)

    @redacting
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = self.client()
        try:
            client.request("DELETE", client.path(f"/groups/{id_}"))
        except NotFoundError:
            return


class _OptionProvider(_WholeValueProvider):
    """An option value at one scope: set (an upsert), read back with its inherited value, deleted to let the
    inherited value apply again. The id is `<owner id>/<option name>`."""

    owner_field: ClassVar[str]

    def fetch(self, client: ApiClient, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        for option in client.list_all(self.collection_path(inputs), self.spec.items_key):
            definition = option.get("option") or {}
            if definition.get("name") == inputs["name"] and option.get("value") is not None:
                return self.record(option, inputs)
        raise NotFoundError("cleanmail", "GET", self.collection_path(inputs), 404, "not_found",
                            [f"option {inputs['name']} has no value at this scope"])

    def record(self, option: Mapping[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {"id": f"{canonical(inputs[self.owner_field])}/{inputs['name']}", "name": inputs["name"],
                "value": option.get("value"), "parent_value": option.get("parentValue")}

    def write(self, client: ApiClient, inputs: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        path = client.path(self.collection_path(inputs))  # setting an option is an upsert
        return self.record(client.request("POST", path, json=dict(body), idempotent=True), inputs)

    @redacting
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = self.client()
        inputs = self.inputs_of(props)
        try:
            client.request("DELETE", client.path(f"{self.collection_path(inputs)}/{inputs['name']}"))
        except NotFoundError:
            return


class DomainOptionProvider(_OptionProvider):
    owner_field = "domain_id"
    spec = ResourceSpec(
        type_name="DomainOption",
        description="An option's value for a domain (e.g. `DOMAIN_ADMIN`). Deleting it lets the inherited value "
        "(`parent_value`) apply again.",
        title="domain option",
        service="cleanmail",
        model=DomainOptionModel,
        collection="/domains/{domain_id}/options",
        wrapper=None,
        items_key="options",
        replace_on=frozenset({"domain_id", "name"}),
        outputs_model=OptionOutputs,
        not_sent=frozenset({"domain_id"}),
        autoname=False,
    )


class UserOptionProvider(_OptionProvider):
    owner_field = "user_id"
    spec = ResourceSpec(
        type_name="UserOption",
        description="An option's value for one account. Deleting it lets the inherited value (the domain's, else "
        "the platform's: `parent_value`) apply again.",
        title="user option",
        service="cleanmail",
        model=UserOptionModel,
        collection="/users/{user_id}/options",
        wrapper=None,
        items_key="options",
        replace_on=frozenset({"user_id", "name"}),
        outputs_model=OptionOutputs,
        not_sent=frozenset({"user_id"}),
        autoname=False,
    )


class _DomainFilterProvider(CrudProvider):
    """A domain's filtering rule. The API has no GET of one rule: it is read from the domain's list. A rule's
    identity (`spec.identity`) is its pattern (and check type): the API refuses a second one (409), and adopting
    finds it."""

    def fetch(self, client: ApiClient, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return self.unwrap(self.listed_item(client, id_, inputs))

    def find_existing(self, client: ApiClient, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        wanted = self.spec.identity_values(inputs)
        for item in client.list_all(self.collection_path(inputs), self.spec.items_key):
            record = self.unwrap(item)
            if self.spec.identity_values(record) == wanted:
                return record
        return None


# What every filtering rule's spec shares: PATCH of changed fields, bound to its domain, no name.
_FILTER_SPEC: dict[str, Any] = {"wrapper": None, "items_key": "filters", "replace_on": frozenset({"domain_id"}),
                                "outputs_model": FilterOutputs, "not_sent": frozenset({"domain_id"}),
                                "update_method": "PATCH", "name_field": None, "autoname": False}


class AttachmentFilterProvider(_DomainFilterProvider):
    spec = ResourceSpec(
        type_name="AttachmentFilter", identity=("check_type", "filter"),
        description="A domain's rule on attachments: allow or deny those whose file name or content type (or "
        "those of the files in an archive) match a pattern. Updated in place; moving it to another domain "
        "replaces it.",
        title="attachment filter",
        service="cleanmail",
        model=AttachmentFilterModel,
        collection="/domains/{domain_id}/filters/attachments",
        object_collection="/filters/attachments",
        **_FILTER_SPEC,
    )


class UriBlFilterProvider(_DomainFilterProvider):
    spec = ResourceSpec(
        type_name="UriBlFilter", identity=("filter",),
        description="A domain's URI-BL rule: skip, favour or penalise messages with URIs of a host in the spam "
        "score. Updated in place; moving it to another domain replaces it.",
        title="URI-BL filter",
        service="cleanmail",
        model=UriBlFilterModel,
        collection="/domains/{domain_id}/filters/uris",
        object_collection="/filters/uris",
        **_FILTER_SPEC,
    )


# ----- sender rules (white / block lists) ---------------------------------------------------------------------
def _rule_to_wire(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A rule as the API takes it: `expireAt` in epoch ms."""
    body = {k: v for k, v in rule.items() if v is not None}
    if isinstance(body.get("expireAt"), str):
        body["expireAt"] = parse_expiry(body["expireAt"])
    return body


def _rule_from_wire(rule: Mapping[str, Any]) -> dict[str, Any]:
    record = dict(rule)
    if isinstance(record.get("expireAt"), int):
        record["expireAt"] = format_expiry(record["expireAt"])
    return record


def _past(path: str, expiry: Any, before: Any) -> CheckFailure | None:
    """A new expiry already past: the API refuses it (422), so preview does. One that was fine when deployed and
    has passed since is the rule or token running out, as intended: not reported."""
    if not isinstance(expiry, str) or expiry == before:
        return None
    try:
        late = parse_expiry(expiry) <= time.time() * 1000
    except ValueError:
        return None  # a malformed date is reported by the model's own check
    return CheckFailure("", f"{path}: must be in the future (got {expiry})") if late else None


class _SenderRulesGuard(_OneFormPerOwner):
    form_family = "sender rules"

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = super().check(olds, news)
        late = self.expired(olds, result.inputs)
        return result if not late else CheckResult(result.inputs, [*result.failures, *late])

    def expired(self, olds: Mapping[str, Any], inputs: Mapping[str, Any]) -> list[CheckFailure]:
        """An expiry already past is refused by the API (422): caught at preview, for rules whose expiry is new
        (one that has passed since it was deployed is the rule running out, as intended). A resource taking
        over what exists (`adopt_existing`, as `mailinfra export` writes) may declare the past expiry the API
        still lists: taken over unchanged, never sent again."""
        if inputs.get(ADOPT_KEY) is True and not olds:
            return []
        before = {str(r.get("value")): r.get("expire_at") for r in self.rules_of(olds)}
        found = (_past(f"{path}expire_at", rule.get("expire_at"), before.get(str(rule.get("value"))))
                 for path, rule in self.rules_with_paths(inputs))
        return [failure for failure in found if failure is not None]

    def rules_of(self, inputs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        return [rule for _, rule in self.rules_with_paths(inputs)]

    def rules_with_paths(self, inputs: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
        return [("", inputs)] if "value" in inputs else []


class _SenderRuleProvider(_SenderRulesGuard):
    """One rule, added to its owner's list (POST of a one-rule list), replaced whole by PUT, read from the
    owner's list filtered by sender (there is no GET of one rule)."""

    def payload(self, args: BaseModel, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return _rule_to_wire(super().payload(args, inputs))

    def unwrap(self, data: Any) -> dict[str, Any]:
        return super().unwrap(_rule_from_wire(data) if isinstance(data, Mapping) else data)

    def send_create(self, client: ApiClient, body: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        made = client.request("POST", client.path(self.collection_path(inputs)), json=[body])
        return self.unwrap(made[0] if isinstance(made, list) and made else made)

    def fetch(self, client: ApiClient, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return self.unwrap(self.listed_item(client, id_, inputs, value=canonical(inputs.get("value"))))

    def find_existing(self, client: ApiClient, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        wanted = str(canonical(inputs.get("value"))).lower()
        listed = client.list_all(self.collection_path(inputs), self.spec.items_key, value=wanted)
        return next((self.unwrap(r) for r in listed if str(r.get("value")).lower() == wanted), None)


_RULE_SPEC = {"wrapper": None, "items_key": "rules", "outputs_model": SenderRuleOutputs, "name_field": None,
              "autoname": False}


class DomainSenderRuleProvider(_SenderRuleProvider):
    spec = ResourceSpec(
        type_name="DomainSenderRule", identity=("value",),
        description="One rule of a domain's sender white / block list: allow, block or protect mail from an "
        "address or a whole domain, optionally until a date. Changing the sender or the domain replaces it; the "
        "rest is updated in place. Use these, or one `DomainSenderRules` list, never both on one domain.",
        title="sender rule", service="cleanmail", model=DomainSenderRuleModel,
        collection="/domains/{domain_id}/wblist", replace_on=frozenset({"domain_id", "value"}),
        not_sent=frozenset({"domain_id"}), **_RULE_SPEC)


class MailboxSenderRuleProvider(_SenderRuleProvider):
    form_owner = "user_id"
    spec = ResourceSpec(
        type_name="MailboxSenderRule", identity=("value",),
        description="One rule of a mailbox's sender white / block list (as `DomainSenderRule`, for one user). Use "
        "these, or one `MailboxSenderRules` list, never both on one mailbox.",
        title="sender rule", service="cleanmail", model=MailboxSenderRuleModel,
        collection="/users/{user_id}/wblist", replace_on=frozenset({"user_id", "value"}),
        not_sent=frozenset({"user_id"}), **_RULE_SPEC)


class _SenderRuleListProvider(_SenderRulesGuard, _WholeValueProvider):
    """An owner's whole list, written with one PUT (the "Set ... rules" endpoint); delete empties it."""

    def rules_with_paths(self, inputs: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
        rules = inputs.get("rules")
        return [(f"rules[{i}].", r) for i, r in enumerate(rules) if isinstance(r, Mapping)] \
            if isinstance(rules, list) else []

    def payload(self, args: BaseModel, inputs: Mapping[str, Any]) -> dict[str, Any]:
        body = super().payload(args, inputs)
        return {**body, "rules": [_rule_to_wire(rule) for rule in body.get("rules") or []]}

    def fetch(self, client: ApiClient, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        listed = [_rule_from_wire(r) for r in client.list_all(self.collection_path(inputs), "rules")]
        owner = str(canonical(inputs[self.form_owner]))
        return {"id": owner, "rules": sorted((from_api(SenderRuleModel, r) for r in listed),
                                             key=lambda r: str(r.get("value"))),
                "rule_ids": {str(r["value"]): str(r["id"]) for r in listed}}

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = super().check(olds, news)
        _kept_sorted(result.inputs, "rules", lambda rule: str(rule["value"]).lower()
                     if isinstance(rule, Mapping) and isinstance(rule.get("value"), str) else None)
        return result

    def write(self, client: ApiClient, inputs: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        rules: list[dict[str, Any]] = body["rules"]
        now = time.time() * 1000
        if any(isinstance(rule.get("expireAt"), int) and rule["expireAt"] <= now for rule in rules):
            self.write_rule_by_rule(client, inputs, rules)  # a whole-list PUT would send the passed expiry again
        else:
            client.request("PUT", client.path(self.collection_path(inputs)), json=rules)
        return self.fetch(client, "", inputs)

    def write_rule_by_rule(self, client: ApiClient, inputs: Mapping[str, Any], rules: list[dict[str, Any]]) -> None:
        """The list made equal to `rules` one rule at a time, leaving the rules already as declared untouched
        (an expired one the API still lists among them)."""
        collection = self.collection_path(inputs)
        current = {str(r.get("value")).lower(): r for r in client.list_all(collection, "rules")}
        for rule in rules:
            found = current.pop(str(rule["value"]).lower(), None)
            if found is None:
                client.request("POST", client.path(collection), json=[rule])
            elif any(canonical(found.get(k)) != canonical(rule.get(k))
                     for k in ("type", "expireAt", "description", "spfOn")):
                client.request("PUT", client.path(f"{collection}/{found['id']}"), json=rule)
        for gone in current.values():
            client.request("DELETE", client.path(f"{collection}/{gone['id']}"))

    @redacting
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = self.client()
        try:
            client.request("PUT", client.path(self.collection_path(self.inputs_of(props))), json=[])
        except NotFoundError:
            return


_LIST_SPEC = {"wrapper": None, "items_key": "rules", "outputs_model": SenderRulesOutputs, "name_field": None}


class DomainSenderRulesProvider(_SenderRuleListProvider):
    spec = ResourceSpec(
        type_name="DomainSenderRules", identity=(),
        description="A domain's whole sender white / block list, authoritative: rules added otherwise are removed "
        "on the next update. Use it, or `DomainSenderRule` resources, never both on one domain (refused at "
        "preview).",
        title="domain sender rules", service="cleanmail", model=DomainSenderRulesModel,
        collection="/domains/{domain_id}/wblist", replace_on=frozenset({"domain_id"}),
        not_sent=frozenset({"domain_id"}), **_LIST_SPEC)


class MailboxSenderRulesProvider(_SenderRuleListProvider):
    form_owner = "user_id"
    spec = ResourceSpec(
        type_name="MailboxSenderRules", identity=(),
        description="A mailbox's whole sender white / block list, authoritative (as `DomainSenderRules`, for one "
        "user). Use it, or `MailboxSenderRule` resources, never both on one mailbox (refused at preview).",
        title="mailbox sender rules", service="cleanmail", model=MailboxSenderRulesModel,
        collection="/users/{user_id}/wblist", replace_on=frozenset({"user_id"}),
        not_sent=frozenset({"user_id"}), **_LIST_SPEC)


class SenderRulesProvider(CrudProvider):
    """Rules across owners, added with the bulk endpoint; each is then read, replaced and deleted through its
    owner's list (a domain found by name, a mailbox by address). Only its own rules are touched."""

    spec = ResourceSpec(
        type_name="SenderRules",
        description="Sender white / block rules for any domains and mailboxes, added together with the API's "
        "bulk endpoint: e.g. one security team's list across the company. It manages only its own rules (others "
        "of the same owners stay); a rule whose owner is no known domain or mailbox fails the update. Do not "
        "list an owner here that a `DomainSenderRules` / `MailboxSenderRules` list also manages.",
        title="sender rules", service="cleanmail", model=SenderRulesModel, collection="/wblist", wrapper=None,
        items_key="rules", outputs_model=OwnedRulesOutputs, name_field=None, autoname=False, unordered=("rules",))

    @staticmethod
    def key(rule: Mapping[str, Any]) -> str:
        return f"{str(rule.get('owner', '')).lower()}/{str(rule.get('value', '')).lower()}"

    def owner_path(self, client: ApiClient, owner: str) -> str:
        if "@" in owner:
            found = client.find_by_name("/users", "users", owner, "email")
            kind = "users"
        else:
            found = client.find_by_name("/domains", "domains", owner)
            kind = "domains"
        if found is None:
            raise NotFoundError("cleanmail", "GET", f"/{kind}", 404, "not_found", [f"no domain or mailbox {owner!r}"])
        return f"/{kind}/{found['id']}/wblist"

    def owner_paths(self, client: ApiClient) -> Callable[[str], str]:
        """`owner_path`, each owner looked up once for the operation at hand (several rules share owners)."""
        return functools.cache(lambda owner: self.owner_path(client, owner))

    def owned(self, client: ApiClient, rules: list[Mapping[str, Any]], ids: Mapping[str, str],
              lists: Mapping[str, str], path_of: Callable[[str], str] | None = None) -> dict[str, Any]:
        """The record: each rule this resource owns, as its owner's list now has it (found by id). A rule's list
        is the one recorded when known (its owner may have been renamed since), else its owner's by name."""
        path_of = path_of or self.owner_paths(client)
        by_list: dict[str, list[Mapping[str, Any]]] = {}
        for rule in rules:
            key = self.key(rule)
            try:
                by_list.setdefault(lists.get(key) or path_of(str(rule["owner"]).lower()), []).append(rule)
            except NotFoundError:
                continue  # the owner is gone, and its rules with it
        mine = {rule_id: key for key, rule_id in ids.items()}
        found: dict[str, dict[str, Any]] = {}
        owner_lists: dict[str, str] = {}
        for list_path, listed_rules in sorted(by_list.items()):
            try:
                listed = list(client.list_all(list_path, "rules"))
            except NotFoundError:
                continue
            keys = {self.key(rule) for rule in listed_rules}
            for answered in listed:
                key = mine.get(str(answered.get("id")))
                if key in keys:
                    owner = key.split("/", 1)[0]
                    found[key] = {**from_api(OwnedSenderRuleModel, _rule_from_wire(answered)), "owner": owner,
                                  "id": str(answered["id"])}
                    owner_lists[key] = list_path
        return {"rules": [found[self.key(r)] for r in rules if self.key(r) in found],
                "rule_ids": {key: rule["id"] for key, rule in found.items()}, "owner_lists": owner_lists}

    def payload(self, args: BaseModel, inputs: Mapping[str, Any]) -> dict[str, Any]:
        body = super().payload(args, inputs)
        return {"rules": [_rule_to_wire(rule) for rule in body.get("rules") or []]}

    def send_create(self, client: ApiClient, body: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        made = client.request("POST", client.path("/wblist"), json=body["rules"])
        ids = {self.key(r): str(r["id"]) for r in made or []}
        path_of = self.owner_paths(client)
        return {"id": ",".join(sorted(ids.values())) or "empty", "rules": inputs.get("rules") or [],
                "rule_ids": ids, "owner_lists": {key: path_of(key.split("/", 1)[0]) for key in ids}}

    def fetch(self, client: ApiClient, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        record = self.owned(client, list(inputs.get("rules") or []), inputs.get("rule_ids") or {},
                            inputs.get("owner_lists") or {})
        return {"id": id_, **record}

    def send_update(
        self, client: ApiClient, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], args: BaseModel
    ) -> dict[str, Any]:
        ids = dict(olds.get("rule_ids") or {})
        lists = dict(olds.get("owner_lists") or {})
        before = {self.key(r): r for r in olds.get("rules") or []}
        now = {self.key(r): r for r in news.get("rules") or []}
        wanted = {self.key(r): r for r in self.payload(args, news)["rules"]}
        path_of = self.owner_paths(client)

        def list_of(key: str) -> str | None:
            try:
                return lists.get(key) or path_of(key.split("/", 1)[0])
            except NotFoundError:
                return None

        listed_ids = functools.cache(lambda path: {str(r.get("id")) for r in client.list_all(path, "rules")})

        def holds(list_path: str | None, rule_id: str) -> bool:
            try:
                return list_path is not None and rule_id in listed_ids(list_path)
            except NotFoundError:
                return False

        # A rule whose owner was renamed (same list, same sender) keeps its id: it is updated, never re-added.
        # States written before `owner_lists` know only the old name: the new owner's list holding the id tells.
        for key in sorted(set(ids) - set(wanted)):
            old_list = list_of(key)
            moved = next((new_key for new_key in sorted(set(wanted) - set(ids))
                          if new_key.split("/", 1)[1] == key.split("/", 1)[1]
                          and (list_of(new_key) == old_list if old_list else holds(list_of(new_key), ids[key]))),
                         None)
            if moved is not None:
                ids[moved], lists[moved] = ids.pop(key), old_list or str(list_of(moved))
        for key in sorted(set(ids) - set(wanted)):
            old_list = list_of(key)
            if old_list is not None:
                with contextlib.suppress(NotFoundError):
                    client.request("DELETE", client.path(f"{old_list}/{ids[key]}"))
            ids.pop(key)
            lists.pop(key, None)
        for key, rule in wanted.items():
            if key in ids and canonical(before.get(key)) != canonical(now.get(key)):
                try:
                    client.request("PUT", client.path(f"{list_of(key)}/{ids[key]}"),
                                   json={k: v for k, v in rule.items() if k != "owner"})
                except NotFoundError:  # gone (an earlier update failed halfway, or out of band): added again
                    ids.pop(key)
                    lists.pop(key, None)
        added = [rule for key, rule in wanted.items() if key not in ids]
        if added:
            made = client.request("POST", client.path("/wblist"), json=added)
            ids |= {self.key(r): str(r["id"]) for r in made or []}
        return self.owned(client, list(news.get("rules") or []), ids, lists, path_of) | {"id": id_}

    def find_existing(self, client: ApiClient, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        """The rules an earlier run added and lost the answer to: found when every one is in its owner's list."""
        path_of = self.owner_paths(client)
        rules = list(inputs.get("rules") or [])
        ids: dict[str, str] = {}
        for rule in rules:
            value = str(rule.get("value", "")).lower()
            try:
                listed = client.list_all(path_of(str(rule.get("owner", "")).lower()), "rules", value=value)
                found = next((r for r in listed if str(r.get("value", "")).lower() == value), None)
            except NotFoundError:
                return None
            if found is None:
                return None
            ids[self.key(rule)] = str(found["id"])
        return {"id": ",".join(sorted(ids.values())) or "empty", **self.owned(client, rules, ids, {}, path_of)}

    @redacting
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = self.client()
        path_of = self.owner_paths(client)
        lists = props.get("owner_lists") or {}
        for key, rule_id in (props.get("rule_ids") or {}).items():
            with contextlib.suppress(NotFoundError):
                list_path = lists.get(key) or path_of(key.split("/", 1)[0])
                client.request("DELETE", client.path(f"{list_path}/{rule_id}"))


class DomainUsersAccessProvider(_WholeValueProvider):
    spec = ResourceSpec(
        type_name="DomainUsersAccess", identity=(),
        description="What a domain's end users may do themselves (release from quarantine, edit their sender "
        "lists, ...): the whole list of granted permissions, written with one PUT. Deleting it withdraws them "
        "all. The API checks each name against the platform's permissions.",
        title="users access", service="cleanmail", model=DomainUsersAccessModel,
        collection="/domains/{domain_id}/access", wrapper=None, items_key="permissions",
        replace_on=frozenset({"domain_id"}), outputs_model=DomainUsersAccessOutputs,
        not_sent=frozenset({"domain_id"}), name_field=None)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = super().check(olds, news)
        _kept_sorted(result.inputs, "permissions", lambda name: name if isinstance(name, str) else None)
        return result

    def fetch(self, client: ApiClient, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        listed = client.get(client.path(self.collection_path(inputs))) or []
        return {"id": str(canonical(inputs["domain_id"])),
                "permissions": sorted(str(p["name"]) for p in listed if p.get("enabled")),
                "available_permissions": sorted(str(p["name"]) for p in listed)}

    def write(self, client: ApiClient, inputs: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
        client.request("PUT", client.path(self.collection_path(inputs)), json=body["permissions"])
        return self.fetch(client, "", inputs)

    @redacting
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        client = self.client()
        with contextlib.suppress(NotFoundError):
            client.request("PUT", client.path(self.collection_path(self.inputs_of(props))), json=[])


# Tokens this provider process created: a second token resource of the same name in one deployment must not
# take the first one's fresh token for an interrupted create's leftover.
_TOKENS_MADE: set[str] = set()
_TOKENS_LOCK = threading.Lock()


class AdminTokenProvider(CrudProvider):
    """A personal token: created, listed (without its value), revoked; never changed, so every input replaces
    it. Its value comes once, in the creation's answer, and is kept in state as a secret output."""

    never_adopts: ClassVar[bool] = True  # a token's value is answered once: there is nothing to take over

    spec = ResourceSpec(
        type_name="AdminToken",
        description="An authentication token of an administrator, for an application or another stack: its "
        "`value` (always secret) is answered once, at creation. Deleting it revokes the token; one found "
        "revoked or gone on refresh is created again by the next `up` (with a new value). Any change replaces it.",
        title="token", service="cleanmail", model=AdminTokenModel, collection="/admins/{admin_id}/tokens",
        wrapper=None, items_key="tokens", replace_on=frozenset({"admin_id", "name", "expiration"}),
        outputs_model=AdminTokenOutputs, not_sent=frozenset({"admin_id"}), name_field=None, autoname=False,
        secret_outputs=("value",))

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = super().check(olds, news)
        late = _past("expiration", result.inputs.get("expiration"), olds.get("expiration"))
        return result if late is None else CheckResult(result.inputs, [*result.failures, late])

    def payload(self, args: BaseModel, inputs: Mapping[str, Any]) -> dict[str, Any]:
        body = super().payload(args, inputs)
        if isinstance(body.get("expiration"), str):
            body["expiration"] = parse_expiry(body["expiration"])
        return body

    def unwrap(self, data: Any) -> dict[str, Any]:
        if isinstance(data, Mapping) and isinstance(data.get("expiration"), int):
            data = {**data, "expiration": format_expiry(data["expiration"])}
        return super().unwrap(data)

    def fetch(self, client: ApiClient, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return self.unwrap(self.listed_item(client, id_, inputs))  # not listed: revoked

    def _create_once(self, client: ApiClient, args: BaseModel, inputs: Mapping[str, Any]) -> dict[str, Any]:
        self.find_existing(client, inputs)  # an interrupted create's leftovers are revoked first
        made = super()._create_once(client, args, inputs)
        with _TOKENS_LOCK:
            _TOKENS_MADE.add(str(made["id"]))
        return made

    def find_existing(self, client: ApiClient, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        """Names need not be unique, and a token cannot be taken over (its value is answered once): a never-used
        token of this name and expiry is what an interrupted create left behind (a killed CLI, or a POST whose
        answer was lost just now), so it is revoked rather than left working, unrecorded, beside the new one.
        Nothing is ever found to take over: the create is sent again."""
        def seconds(expiry: Any) -> int | None:
            return parse_expiry(expiry) // 1000 if isinstance(expiry, str) else None

        wanted = (str(canonical(inputs.get("name"))), seconds(canonical(inputs.get("expiration"))))
        for token in client.list_all(self.collection_path(inputs), self.spec.items_key):
            record = self.unwrap(token)
            found = (str(record.get("name")), seconds(record.get("expiration")))
            with _TOKENS_LOCK:
                made_here = str(record["id"]) in _TOKENS_MADE  # another resource's, in this very deployment
            if found == wanted and record.get("last_use") is None and not made_here:
                with contextlib.suppress(NotFoundError):
                    client.request("DELETE", client.path(self.object_path(inputs, str(record["id"]))))
        return None

    def outputs(self, inputs: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
        outs = super().outputs(inputs, record)
        if outs.get("value") is None:  # the API answers the value once: the one recorded at creation stays
            outs["value"] = inputs.get("value")
        return outs


def _account_changes(body: Mapping[str, Any], before: Mapping[str, Any]) -> dict[str, Any]:
    """The account fields (AdminUpdate, camelCase) of `body` that differ from `before`; a field no longer given
    is left as it is (the API has no "unset" for an account's settings)."""
    wire = {"display_name": "displayName"}
    return {wire.get(key, key): body[key] for key in ACCOUNT_FIELDS
            if body.get(key) is not None and canonical(body[key]) != canonical(before.get(key))}


class DomainAdminProvider(CrudProvider):
    """An administrator's access to one domain: POST .../admins (a new account, or an existing one by id), its
    permissions set with PUT .../authorities, the new account's settings with PATCH /security/admins/{id},
    revoked with DELETE (which deletes an account left with no access)."""

    spec = ResourceSpec(
        type_name="DomainAdmin",
        description="An administrator of a domain: a new account (`login`, with its display name, address, "
        "password) or an existing one (`admin_id`), with its permissions on the domain. Its id is the account's "
        "(e.g. for an `AdminToken`). Deleting it revokes the access; an account left with no access is deleted "
        "by the API, its tokens with it. The password is always secret.",
        title="domain administrator", service="cleanmail", model=DomainAdminModel,
        collection="/domains/{domain_id}/admins", wrapper=None, items_key="admins",
        replace_on=frozenset({"domain_id", "admin_id", "login"}), secret_paths=("password",),
        replacement_loses="the account made from `login`: the API deletes an account left with no access, with "
        "every API token made for it (also those made outside this stack)", loss_avoided_by="admin_id",
        outputs_model=DomainAdminOutputs, not_sent=frozenset({"domain_id"}), name_field="login", autoname=False)

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        result = super().check(olds, news)
        _kept_sorted(result.inputs, "permissions", lambda name: name if isinstance(name, str) else None)
        return result

    def payload(self, args: BaseModel, inputs: Mapping[str, Any]) -> dict[str, Any]:
        body = super().payload(args, inputs)
        if "admin_id" in body:
            return {"id": body.pop("admin_id"), "permissions": body["permissions"]}
        return {"enabled": True, "language": "EN", **body}  # AdminAdd wants them all for a new account

    def record(self, admin: Any, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The access as this resource sees it: the account, with its permissions on this domain only."""
        record = self.unwrap(admin)
        domain_id = str(canonical(inputs["domain_id"]))
        authority = next((a for a in admin.get("authorities") or []
                          if str(a.get("objectId")) == domain_id and str(a.get("objectType", "domain")) == "domain"),
                         None)
        if authority is None:
            raise NotFoundError("cleanmail", "GET", self.collection_path(inputs), 404, "not_found",
                                [f"account {admin.get('id')} has no access to domain {domain_id}"])
        record["permissions"] = sorted(str(p) for p in authority.get("permissions") or [])
        record["account_login"] = admin.get("login")
        if inputs.get("admin_id") is not None:
            record["admin_id"] = str(admin["id"])
        return record

    def fetch(self, client: ApiClient, id_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return self.record(client.get(client.path(self.object_path(inputs, id_))), inputs)

    def send_create(self, client: ApiClient, body: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        return self.record(client.request("POST", client.path(self.collection_path(inputs)), json=body), inputs)

    def find_existing(self, client: ApiClient, inputs: Mapping[str, Any]) -> dict[str, Any] | None:
        """The access this resource would create: the account's, when it already has one on the domain."""
        if inputs.get("admin_id") is not None:
            with contextlib.suppress(NotFoundError):
                return self.fetch(client, str(canonical(inputs["admin_id"])), inputs)
            return None
        login = str(inputs.get("login", "")).casefold()
        for admin in client.list_all(self.collection_path(inputs), self.spec.items_key, search=inputs.get("login")):
            if str(admin.get("login", "")).casefold() == login:
                return self.fetch(client, str(admin["id"]), inputs)
        return None

    def send_update(
        self, client: ApiClient, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], args: BaseModel
    ) -> dict[str, Any]:
        body = args.model_dump(mode="python", exclude_none=True)
        if canonical(sorted(body["permissions"])) != canonical(sorted(olds.get("permissions") or [])):
            client.request("PUT", client.path(f"{self.object_path(news, id_)}/authorities"), json=body["permissions"])
        changed = {} if news.get("admin_id") is not None else _account_changes(body, olds)
        if changed:
            client.request("PATCH", client.path(f"/security/admins/{id_}"), json=changed)
        return self.fetch(client, id_, news)


class AdminProvider(CrudProvider):
    """Takes over an existing account (nothing is created: accounts come with a domain access) and manages the
    settings AdminUpdate lets you change. Delete leaves the account: this resource did not make it, and a
    replacement (same account) runs the old one's delete after or before the new one's create, which would delete
    the account under it. An account goes when its last access (`DomainAdmin`) is revoked."""

    spec = ResourceSpec(
        type_name="Admin",
        description="The settings of an administrator account that exists (made by a `DomainAdmin` or by hand): "
        "display name, address, password, enabled, language, turning TOTP off; the others are left as they are. "
        "The API makes accounts only with a domain access, so nothing is created, and destroying it leaves the "
        "account as it is (revoking its last `DomainAdmin` access deletes it). The password is always secret.",
        title="administrator account", service="cleanmail", model=AdminModel, collection="/security/admins",
        wrapper=None, items_key="admins", replace_on=frozenset({"admin_id"}), secret_paths=("password",),
        outputs_model=AdminOutputs, not_sent=frozenset({"admin_id"}), name_field=None, update_method="PATCH")

    def unwrap(self, data: Any) -> dict[str, Any]:
        record = super().unwrap(data)
        record["admin_id"] = str(record["id"])
        return record

    def object_path(self, inputs: Mapping[str, Any], id_: str) -> str:
        return f"/security/admins/{id_}"

    def send_create(self, client: ApiClient, body: dict[str, Any], inputs: Mapping[str, Any]) -> dict[str, Any]:
        id_ = str(canonical(inputs["admin_id"]))
        if body:
            client.request("PATCH", client.path(self.object_path(inputs, id_)), json=body)
        return self.fetch(client, id_, inputs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        return None  # the account is left: see the class docstring

    def send_update(
        self, client: ApiClient, id_: str, olds: Mapping[str, Any], news: Mapping[str, Any], args: BaseModel
    ) -> dict[str, Any]:
        body = args.model_dump(mode="python", exclude_none=True)
        changed = _account_changes(body, olds)
        if body.get("totp") is False and olds.get("totp") is not False:
            changed["totp"] = False
        if changed:
            client.request("PATCH", client.path(self.object_path(news, id_)), json=changed)
        return self.fetch(client, id_, news)
