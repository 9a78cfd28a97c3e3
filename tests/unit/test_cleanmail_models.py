"""Every Cleanmail model constraint, both sides of each bound, through the same `failures()` `check` uses."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_mailinfra.cleanmail.models import (
    DkimModel,
    DomainModel,
    EmailAliasModel,
    PolicyModel,
    UserModel,
)
from pulumi_mailinfra.reconcile import is_unknown
from pulumi_mailinfra.validation import failures


def paths(model: type, values: dict[str, Any]) -> list[str]:
    return [p for p, _ in failures(model, values, is_unknown)]


DOMAIN = {"name": "got.com", "default_language": "EN", "quarantine": True, "retention": False, "archive": False}
PLATFORM = {"name": "p", "transport_dest": "smtp.got.com", "transport_type": "SMTP", "transport_port": 25}
POLICY = {"domain_id": "Eygdk", "name": "p", "quarantine": True, "retention": True, "incoming": True}


@pytest.mark.parametrize(("field", "value", "ok"), [
    ("name", "got.com", True), ("name", "a.b.c.example", True), ("name", "got", False),
    ("name", "-got.com", False), ("name", "got..com", False), ("name", "x" * 250 + ".com", False),
    ("default_language", "NB", True), ("default_language", "IT", False), ("default_language", "en", False),
    ("status", "DISABLED", True), ("status", "DELETED", False), ("status", "PENDING", True),
    ("wblist_priority", "DOMAIN", True), ("wblist_priority", "BOTH", False),
    ("outgoing_subnets", ["10.0.0.0/8", "192.0.2.1/32"], True), ("outgoing_subnets", ["10.0.0.0"], False),
    ("outgoing_subnets", ["10.0.0.0/33"], False), ("outgoing_subnets", ["2001:db8::/32"], False),
    ("description", "x" * 255, True), ("description", "x" * 256, False),
    ("external_id", "x" * 255, True), ("external_id", "x" * 256, False),
])
def test_domain_fields(field: str, value: Any, ok: bool) -> None:
    assert (paths(DomainModel, {**DOMAIN, field: value}) == []) is ok


def test_domain_requires_its_service_flags_and_language() -> None:
    for field in ("name", "quarantine", "retention", "archive", "default_language"):
        assert paths(DomainModel, {k: v for k, v in DOMAIN.items() if k != field}) == [field]


@pytest.mark.parametrize(("change", "bad"), [
    ({}, None),
    ({"transport_port": 1}, None), ({"transport_port": 65535}, None),
    ({"transport_port": 0}, "platforms[0].transport_port"), ({"transport_port": 65536}, "platforms[0].transport_port"),
    ({"transport_type": "LMTP"}, "platforms[0].transport_type"),
    ({"fallback_transport_port": 0}, "platforms[0].fallback_transport_port"),
    ({"auth_type": "ldap", "auth_data": {"host": "ldap", "bind_password": "pw"}}, None),
    ({"auth_type": "entra", "auth_data": {"bind_user": "x"}}, "platforms[0]"),
    ({"auth_type": "oidc", "auth_data": {"client_id": "c", "client_secret": "s"}}, None),
    ({"auth_type": "kerberos"}, "platforms[0].auth_type"),
    ({"api_type": "O365", "api_data": {"client_id": "c", "tenant_id": "t", "client_secret": "s"}}, None),
    ({"api_data": {"login": "x"}}, "platforms[0]"),
    ({"api_type": "IMAP", "api_data": {"client_secret": "s"}}, "platforms[0]"),
    ({"name": ""}, "platforms[0].name"),
])
def test_platform_fields(change: dict[str, Any], bad: str | None) -> None:
    problems = paths(DomainModel, {**DOMAIN, "platforms": [{**PLATFORM, **change}]})
    assert problems == ([] if bad is None else [bad])


@pytest.mark.parametrize(("field", "value", "ok"), [
    ("spam_score", 0, True), ("spam_score", 100, True), ("spam_score", -0.1, False), ("spam_score", 100.5, False),
    ("mail_size_limit", 1, True), ("mail_size_limit", 1024, True), ("mail_size_limit", 0, False),
    ("mail_size_limit", 1025, False), ("mail_size_limit", 2.5, False),
    ("name", "x" * 255, True), ("name", "x" * 256, False), ("name", "", False),
    ("quarantine_props", {"duration": 1}, True), ("quarantine_props", {"duration": 3650}, True),
    ("quarantine_props", {"duration": 0}, False), ("quarantine_props", {"duration": 3651}, False),
    ("retention_props", {"duration": 3650}, True), ("retention_props", {"duration": 0}, False),
    ("relay_props", {"spam_score_limit": 100}, True), ("relay_props", {"spam_score_limit": 101}, False),
])
def test_policy_fields(field: str, value: Any, ok: bool) -> None:
    assert (paths(PolicyModel, {**POLICY, field: value}) == []) is ok


def test_archive_duration_is_in_months_and_props_need_their_service() -> None:
    on = {**POLICY, "archive": True}
    assert paths(PolicyModel, {**on, "archive_props": {"duration": 1200}}) == []
    assert paths(PolicyModel, {**on, "archive_props": {"duration": 1201}}) == ["archive_props.duration"]
    assert paths(PolicyModel, {**POLICY, "archive_props": {"duration": 12}}) == ["(resource)"]  # archive is off
    assert paths(PolicyModel, {**POLICY, "retention": False, "retention_props": {"duration": 5}}) == ["(resource)"]


@pytest.mark.parametrize(("field", "value", "ok"), [
    ("email", "jane@got.com", True), ("email", "Jane.Doe+x@got.co.uk", True), ("email", "jane", False),
    ("email", "jane@got", False), ("email", "a@b@got.com", False),
    ("password", "x" * 128, True), ("password", "x" * 129, False),
    ("status", "ENABLED", True), ("status", "PENDING", False), ("language", "DA", True), ("language", "PT", False),
])
def test_user_fields(field: str, value: Any, ok: bool) -> None:
    assert (paths(UserModel, {"domain_id": "Eygdk", "email": "jane@got.com", field: value}) == []) is ok


def test_email_alias_and_dkim_fields() -> None:
    alias = {"domain_id": "Eygdk", "email": "all@got.com"}
    assert paths(EmailAliasModel, {**alias, "recipients": ["a@got.com", "b@x.org"]}) == []
    assert paths(EmailAliasModel, {**alias, "recipients": ["not-an-address"]}) == ["recipients[0]"]
    assert paths(DkimModel, {"domain_id": "Eygdk", "selector": "s2026"}) == []
    assert paths(DkimModel, {"domain_id": "Eygdk", "selector": "-bad"}) == ["selector"]
    assert paths(DkimModel, {"domain_id": "Eygdk", "private_key": "k"}) == ["(resource)"]  # needs public_key


def test_ignore_mx_travels_as_a_header_never_in_the_body() -> None:
    import httpx

    from pulumi_mailinfra.cleanmail.client import CleanmailClient
    from pulumi_mailinfra.cleanmail.providers import DomainProvider
    from pulumi_mailinfra.config import ServiceSettings

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"id": "Eygdk", "name": "got.com", "policy": {"id": "p1"}})

    provider = DomainProvider()
    checked = provider.check({}, {**DOMAIN, "ignore_mx": True}).inputs
    client = CleanmailClient(ServiceSettings(url="http://cleanmail.test", token="t"), httpx.MockTransport(answer))
    provider.send_create(client, provider.payload(provider.validated(checked), checked), checked)
    assert seen[0].headers["X-Ignore-MX"] == "true" and b"ignore" not in seen[0].content.lower()
    assert provider.headers({**checked, "ignore_mx": False}) == {}


ATTACHMENT = {"domain_id": "Eygdk", "action": "ALLOW", "check_type": "CONTENTTYPE", "filter": ".xlsx"}
URI = {"domain_id": "Eygdk", "action": "URIDNSBL_SKIP_DOMAIN", "filter": "bulist.com"}


@pytest.mark.parametrize(("field", "value", "ok"), [
    ("action", "DENY", True), ("action", "deny", True), ("action", "BLOCK", False),
    ("check_type", "archive-filename", True), ("check_type", "ARCHIVE-CONTENTTYPE", True),
    ("check_type", "MIMETYPE", False), ("check_type", "archive_filename", False),
    ("filter", "x", True), ("filter", "x" * 255, True), ("filter", "", False), ("filter", "x" * 256, False),
    ("filter", "[.]xls(x|m)$", True), ("filter", "(unclosed", False),
    ("description", "x" * 255, True), ("description", "x" * 256, False),
])
def test_attachment_filter_fields(field: str, value: Any, ok: bool) -> None:
    from pulumi_mailinfra.cleanmail.models import AttachmentFilterModel

    assert (paths(AttachmentFilterModel, {**ATTACHMENT, field: value}) == []) is ok


@pytest.mark.parametrize(("field", "value", "ok"), [
    ("action", "whitelist_uri_host", True), ("action", "BLACKLIST_URI_HOST", True), ("action", "ALLOW", False),
    ("filter", "bulist.com", True), ("filter", "", False), ("filter", "x" * 256, False),
])
def test_uri_bl_filter_fields(field: str, value: Any, ok: bool) -> None:
    from pulumi_mailinfra.cleanmail.models import UriBlFilterModel

    assert (paths(UriBlFilterModel, {**URI, field: value}) == []) is ok


def test_filter_enums_are_stored_upper_case() -> None:
    from pulumi_mailinfra.cleanmail.models import AttachmentFilterModel

    model = AttachmentFilterModel.model_validate({**ATTACHMENT, "action": "deny", "check_type": "archive-filename"})
    assert (model.action, model.check_type) == ("DENY", "ARCHIVE-FILENAME")
    assert sorted(paths(AttachmentFilterModel, {"domain_id": "Eygdk"})) == ["action", "check_type", "filter"]


RULE = {"domain_id": "Eygdk", "value": "spam.example", "type": "BLOCK"}


@pytest.mark.parametrize(("field", "value", "ok"), [
    ("value", "spam.example", True), ("value", "Bad.Guy@Evil.example", True), ("value", "localhost", False),
    ("value", "not a sender", False), ("value", "@evil.example", False),
    ("type", "block", True), ("type", "PROTECTED", True), ("type", "DENY", False),
    ("expire_at", "2030-01-31T00:00:00Z", True), ("expire_at", "2030-01-31T02:00:00+02:00", True),
    ("expire_at", "2030-01-31T00:00:00", False), ("expire_at", "31/01/2030", False), ("expire_at", "soon", False),
    ("description", "x" * 255, True), ("description", "x" * 256, False),
    ("spf_on", True, False),  # only for ALLOW rules
])
def test_sender_rule_fields(field: str, value: Any, ok: bool) -> None:
    from pulumi_mailinfra.cleanmail.models import DomainSenderRuleModel

    assert (paths(DomainSenderRuleModel, {**RULE, field: value}) == []) is ok


def test_sender_rule_spf_and_expiry_normalisation() -> None:
    from pulumi_mailinfra.cleanmail.models import DomainSenderRuleModel, format_expiry, parse_expiry

    assert paths(DomainSenderRuleModel, {**RULE, "type": "ALLOW"}) != []  # spf_on required for ALLOW
    assert paths(DomainSenderRuleModel, {**RULE, "type": "ALLOW", "spf_on": False}) == []
    model = DomainSenderRuleModel.model_validate({**RULE, "value": "X@Evil.Example",
                                                  "expire_at": "2030-01-31T02:00:00.750+02:00"})
    assert (model.value, model.expire_at) == ("x@evil.example", "2030-01-31T00:00:00Z")  # UTC, to the second
    assert format_expiry(parse_expiry("2030-01-31T00:00:00Z") + 999) == "2030-01-31T00:00:00Z"


def test_sender_rule_lists_refuse_a_sender_twice_and_check_owners() -> None:
    from pulumi_mailinfra.cleanmail.models import DomainSenderRulesModel, SenderRulesModel

    twice = {"domain_id": "Eygdk", "rules": [{"value": "a.example", "type": "BLOCK"},
                                              {"value": "A.example", "type": "PROTECTED"}]}
    assert [p for p, _ in failures(DomainSenderRulesModel, twice, is_unknown)] == ["rules"]
    bulk = {"rules": [{"owner": "got.com", "value": "a.example", "type": "BLOCK"},
                      {"owner": "jane@got.com", "value": "a.example", "type": "BLOCK"}]}
    assert paths(SenderRulesModel, bulk) == []
    assert paths(SenderRulesModel, {"rules": [{**bulk["rules"][0], "owner": "not an owner"}]}) == ["rules[0].owner"]
    assert paths(SenderRulesModel, {"rules": bulk["rules"] + [bulk["rules"][0]]}) == ["rules"]
