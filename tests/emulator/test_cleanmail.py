"""The Cleanmail emulator: its backend without HTTP (rules, soft delete, default policy, DKIM, aliases) and its
HTTP layer (Bearer auth, 201 + Location, 204, X-Total-Count, the error body and statuses)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from pulumi_mailinfra.emulator.cleanmail.backend import (
    BadRequest,
    CleanmailBackend,
    Conflict,
    NotFound,
    Unprocessable,
    hashid,
)
from tests.conftest import CM_TOKEN, Emulator


def domain_body(name: str = "got.com", **extra: Any) -> dict[str, Any]:
    """The docs' own example (5.5.1)."""
    return {"name": name, "status": "ENABLED", "incoming": True, "outgoing": False, "quarantine": True,
            "retention": True, "archive": True, "defaultLanguage": "DE", "autoProvisioningOn": True,
            "senderVerifyOn": True, "externalId": "HBO-2019", "outgoingSubnets": ["92.123.51.204/31"],
            "platforms": [{"name": "platform", "transportDest": "1.2.3.4", "transportType": "SMTP",
                           "transportPort": 25, "authType": "local", "authData": "", "default": True}], **extra}


@pytest.fixture
def backend() -> CleanmailBackend:
    return CleanmailBackend()


def test_ids_are_opaque_five_character_strings() -> None:
    ids = [hashid(n, kind) for kind in ("user", "address") for n in range(1, 2000)]
    assert len(set(ids)) == len(ids) and all(len(i) == 5 and i.isalnum() for i in ids)


def test_create_domain_makes_its_default_policy_from_the_flags(backend: CleanmailBackend) -> None:
    domain = backend.create_domain(domain_body())
    policy = domain["policy"]
    assert policy["name"] == "Politique-got.com" and policy["domainId"] == domain["id"]
    assert policy["quarantineProps"]["duration"] == 31 and policy["archiveProps"]["duration"] == 48
    assert policy["relayProps"]["relaySpam"] is False and policy["mailSizeLimit"] == 21
    assert domain["wblistPriority"] == "USER" and domain["policiesCount"] == 1
    assert domain["platforms"][0]["authData"] is None and len(domain["platforms"][0]["id"]) == 5
    off = backend.create_domain(domain_body("off.com", quarantine=False, retention=False, archive=False))["policy"]
    assert off["quarantineProps"] is None and off["relayProps"]["spamScoreLimit"] == 10.0


@pytest.mark.parametrize(("change", "message"), [
    ({"name": "not a domain"}, "name"),
    ({"status": "DELETED"}, "status"),
    ({"defaultLanguage": "IT"}, "defaultLanguage"),
    ({"outgoingSubnets": ["10.0.0.0"]}, "outgoingSubnets[0]"),
    ({"outgoingSubnets": ["300.0.0.0/8"]}, "outgoingSubnets[0]"),
    ({"platforms": [{"name": "p", "transportDest": "h", "transportType": "SMTP", "transportPort": 0}]},
     "platforms[0].transportPort"),
    ({"platforms": [{"name": "p", "transportDest": "h", "transportType": "LMTP", "transportPort": 25}]},
     "platforms[0].transportType"),
    ({"platforms": [{"name": "p", "transportDest": "h", "transportType": "SMTP", "transportPort": 25,
                     "authType": "entra", "authData": {"bind_user": "x"}}]}, "platforms[0].authData"),
    ({"colour": "red"}, "unknown fields"),
])
def test_create_domain_refuses_bad_input_naming_the_field(backend: CleanmailBackend, change: dict[str, Any],
                                                         message: str) -> None:
    with pytest.raises(BadRequest, match=message.replace("[", r"\[").replace("]", r"\]")):
        backend.create_domain(domain_body(**change))
    assert backend.list_domains({})[1] == 0  # nothing half-created


def test_names_are_unique_across_domains_and_aliases(backend: CleanmailBackend) -> None:
    got = backend.create_domain(domain_body())
    backend.add_aliases(got["id"], ["got.net"])
    for name in ("GOT.com", "got.net"):
        with pytest.raises(Conflict):
            backend.create_domain(domain_body(name))
    other = backend.create_domain(domain_body("other.com"))
    with pytest.raises(Conflict):
        backend.add_aliases(other["id"], ["got.com"])


def test_soft_delete_keeps_the_domain_readable_and_its_name_until_restored(backend: CleanmailBackend) -> None:
    got = backend.create_domain(domain_body())
    backend.delete_domain(got["id"])
    deleted = backend.get_domain(got["id"])
    assert deleted["status"] == "DELETED" and deleted["deletionDate"]
    assert deleted["purgeDate"] > deleted["deletionDate"]
    with pytest.raises(Conflict):
        backend.create_domain(domain_body())
    with pytest.raises(Unprocessable):
        backend.delete_domain(got["id"])
    with pytest.raises(Unprocessable):
        backend.patch_domain(got["id"], {"defaultLanguage": "FR"})
    backend.patch_domain(got["id"], {"status": "ENABLED"})  # restore
    restored = backend.get_domain(got["id"])
    assert restored["status"] == "ENABLED" and restored["deletionDate"] is None and restored["purgeDate"] is None


def test_patch_changes_only_what_is_given_and_service_flags_reach_the_default_policy(backend: CleanmailBackend) -> None:
    got = backend.create_domain(domain_body())
    backend.patch_domain(got["id"], {"defaultLanguage": "ES", "archive": False})
    after = backend.get_domain(got["id"])
    assert after["defaultLanguage"] == "ES" and after["outgoingSubnets"] == ["92.123.51.204/31"]
    assert after["policy"]["archive"] is False and after["policy"]["archiveProps"] is None
    with pytest.raises(BadRequest, match="unknown fields"):
        backend.patch_domain(got["id"], {"incoming": False})  # not in DomainUpdate


def test_list_filters_sorts_and_pages(backend: CleanmailBackend) -> None:
    for name in ("b.net", "a.com", "c.org", "ab.com"):
        backend.create_domain(domain_body(name))
    names = lambda params: [d["name"] for d in backend.list_domains(params)[0]]  # noqa: E731
    assert names({}) == ["a.com", "ab.com", "b.net", "c.org"]
    assert names({"sort": "-name"}) == ["c.org", "b.net", "ab.com", "a.com"]
    assert names({"name": "a*"}) == ["a.com", "ab.com"] and names({"name": "*.com"}) == ["a.com", "ab.com"]
    assert names({"name": "*b*"}) == ["ab.com", "b.net"] and names({"name": "b.net"}) == ["b.net"]
    page, total = backend.list_domains({"offset": "1", "pageSize": "2"})
    assert [d["name"] for d in page] == ["ab.com", "b.net"] and total == 4
    with pytest.raises(BadRequest, match="one filter"):
        backend.list_domains({"name": "a*", "status": "ENABLED"})


def test_policies_rules(backend: CleanmailBackend) -> None:
    got = backend.create_domain(domain_body())
    policy = backend.create_policy(got["id"], {"name": "policyA", "quarantine": True, "retention": False,
                                               "incoming": True, "spamScore": 7.2,
                                               "relayProps": {"relaySpam": True, "prefixSpam": "[SPAM]"}})
    assert policy["relayProps"]["relayAdvert"] is True and policy["retentionProps"] is None
    with pytest.raises(Conflict):
        backend.create_policy(got["id"], {"name": "POLICYA", "quarantine": True, "retention": False,
                                          "incoming": True})
    for bad in ({"spamScore": 101}, {"mailSizeLimit": 0}, {"quarantineProps": {"duration": 0}}):
        with pytest.raises(BadRequest):
            backend.patch_policy(policy["id"], bad)
    backend.patch_policy(policy["id"], {"name": "policyC"})
    assert backend.get_policy(policy["id"])["name"] == "policyC"
    with pytest.raises(BadRequest, match=r"default policy of got\.com"):
        backend.delete_policy(got["policy"]["id"])
    # A policy an account uses is refused too (issue 23), as the docs say: 400 "affected to a domain or a user".
    user = backend.create_user({"email": "jane@got.com", "domainId": got["id"], "firstname": "Jane",
                                "lastname": "Doe", "status": "ENABLED", "policyId": policy["id"]})
    with pytest.raises(BadRequest, match=r"affected to a domain or a user \(it is the policy of jane@got\.com\)"):
        backend.delete_policy(policy["id"])
    backend.delete_user(user["id"])
    backend.delete_policy(policy["id"])
    with pytest.raises(NotFound):
        backend.get_policy(policy["id"])


def test_dkim_lines_cover_the_domain_and_its_aliases(backend: CleanmailBackend) -> None:
    got = backend.create_domain(domain_body())
    with pytest.raises(NotFound):
        backend.get_dkim(got["id"])
    [line] = backend.add_dkim(got["id"], None)
    assert line.startswith("protect._domainkey.got.com TXT v=DKIM1; p=")
    backend.add_aliases(got["id"], ["got.net"])
    lines = backend.get_dkim(got["id"])
    assert [entry.split(" ")[0] for entry in lines] == ["protect._domainkey.got.com", "protect._domainkey.got.net"]
    [custom] = backend.put_dkim(got["id"], {"selector": "s2026", "publicKey": "QUJD"})
    assert custom == "s2026._domainkey.got.com TXT v=DKIM1; p=QUJD"
    with pytest.raises(Unprocessable):
        backend.put_dkim(got["id"], {"privateKey": "x"})
    backend.delete_dkim(got["id"])
    with pytest.raises(NotFound):
        backend.delete_dkim(got["id"])


def test_aliases_replace_and_delete(backend: CleanmailBackend) -> None:
    got = backend.create_domain(domain_body())
    added = backend.add_aliases(got["id"], ["a.net", "b.net"])
    backend.replace_aliases(got["id"], ["b.net", "c.net"])
    listed, total = backend.list_aliases(got["id"], {})
    assert [a["name"] for a in listed] == ["b.net", "c.net"] and total == 2
    assert next(a for a in listed if a["name"] == "b.net")["id"] == added[1]["id"]  # kept
    backend.delete_alias(got["id"], added[1]["id"])
    with pytest.raises(NotFound):
        backend.delete_alias(got["id"], added[1]["id"])


def test_state_persists_in_the_shared_sqlite_file(tmp_path: Path) -> None:
    first = CleanmailBackend(tmp_path / "state.sqlite")
    got = first.create_domain(domain_body())
    first.close()
    again = CleanmailBackend(tmp_path / "state.sqlite")
    assert again.get_domain(got["id"])["name"] == "got.com"
    assert again.create_domain(domain_body("next.com"))["id"] != got["id"]  # the sequence persisted too


def test_http_layer_statuses_headers_and_auth(emulator: Emulator) -> None:
    api = httpx.Client(base_url=emulator.cleanmail_url, headers={"Authorization": f"Bearer {CM_TOKEN}"})
    created = api.post("/domains", json=domain_body())
    assert created.status_code == 201
    domain_id = created.json()["id"]
    assert created.headers["Location"].endswith(f"/cleanmail/domains/{domain_id}")
    listed = api.get("/domains", params={"pageSize": 1})
    assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "1"
    assert api.patch(f"/domains/{domain_id}", json={"defaultLanguage": "ES"}).status_code == 204
    conflict = api.post("/domains", json=domain_body())
    assert conflict.status_code == 409 and conflict.json()["status"] == 409 and "got.com" in conflict.json()["message"]
    assert api.post("/domains", content=b"{").status_code == 400
    policy = api.post(f"/domains/{domain_id}/policies", json={"name": "p", "quarantine": False, "retention": False,
                                                              "incoming": True})
    assert policy.status_code == 201
    assert policy.headers["Location"].endswith(f"/cleanmail/policies/{policy.json()['id']}")
    assert api.post(f"/domains/{domain_id}/dkim").status_code == 201
    assert api.put(f"/domains/{domain_id}/aliases", json=["got.net"]).status_code == 204
    assert api.get("/domains/zzzzz").status_code == 404
    assert api.delete(f"/domains/{domain_id}").status_code == 204
    assert api.delete(f"/domains/{domain_id}").status_code == 422
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {CM_TOKEN}"}):
        refused = httpx.get(f"{emulator.cleanmail_url}/domains", headers=headers)
        assert refused.status_code == 401 and refused.json()["error"] == "Unauthorized"


def user_body(domain_id: str, email: str = "tywin@got.com", **extra: Any) -> dict[str, Any]:
    return {"email": email, "firstname": "Tywin", "lastname": "Lannister", "status": "ENABLED", "language": "EN",
            "password": "HearMeRoar!", "domainId": domain_id, "sendNotification": False, **extra}


def test_users_rules_and_secrets(backend: CleanmailBackend) -> None:
    got = backend.create_domain(domain_body())
    user = backend.create_user(user_body(got["id"]))
    assert "password" not in user and user["policy"]["id"] == got["policy"]["id"]
    assert user["platform"]["id"] == got["platforms"][0]["id"] and user["domainPolicyId"] == got["policy"]["id"]
    for bad, error in (({"email": "not-an-email"}, BadRequest), ({"email": "x@other.com"}, BadRequest),
                       ({"status": "PENDING"}, BadRequest), ({"domainId": "zzzzz"}, BadRequest),
                       ({"email": "TYWIN@got.com"}, Conflict), ({"policyId": "zzzzz"}, Unprocessable)):
        with pytest.raises(error):
            backend.create_user({**user_body(got["id"], "new@got.com"), **bad})
    backend.patch_user(user["id"], {"lastname": "Stark", "language": "DE"})
    assert backend.get_user(user["id"])["lastname"] == "Stark"
    page, total = backend.list_users(got["id"], {"email": "ty*"})
    assert total == 1 and page[0]["email"] == "tywin@got.com"
    backend.delete_user(user["id"])
    with pytest.raises(NotFound):
        backend.get_user(user["id"])


def test_signatures_need_a_storing_service(backend: CleanmailBackend) -> None:
    got = backend.create_domain(domain_body())
    user = backend.create_user(user_body(got["id"]))
    assert backend.get_sign(user["id"]) == {"sign": None}
    assert backend.put_sign(user["id"], {"sign": "Um9iZXJ0"}) == {"sign": "Um9iZXJ0"}
    with pytest.raises(BadRequest):
        backend.put_sign(user["id"], {"sign": "not base64!"})
    bare = backend.create_domain(domain_body("bare.com", quarantine=False, retention=False, archive=False))
    plain_user = backend.create_user(user_body(bare["id"], "a@bare.com"))
    with pytest.raises(BadRequest, match="quarantine or retention or archive"):
        backend.get_sign(plain_user["id"])


def test_email_aliases_recipients_by_kind(backend: CleanmailBackend) -> None:
    got = backend.create_domain(domain_body())
    user = backend.create_user(user_body(got["id"], "joffrey@got.com"))
    group = backend.create_group(got["id"], {"email": "badguys@got.com", "recipients": ["joffrey@got.com"]})
    assert group["recipients"][0] == {"id": user["id"], "email": "joffrey@got.com", "firstname": "Tywin",
                                      "lastname": "Lannister", "type": "USER"}
    with pytest.raises(BadRequest, match="may not match the domain"):
        backend.create_group(got["id"], {"email": "x@elsewhere.com"})
    with pytest.raises(Conflict):
        backend.create_group(got["id"], {"email": "BADGUYS@got.com"})
    added = backend.add_group_addresses(got["id"], group["id"], ["ramsay@bolton.net", "joffrey@got.com"])
    kinds = {r["email"]: r["type"] for r in added["recipients"]}
    assert kinds == {"joffrey@got.com": "USER", "ramsay@bolton.net": "EXTERNAL_ADDRESS"}
    external = next(r for r in added["recipients"] if r["type"] == "EXTERNAL_ADDRESS")
    backend.delete_group_address(got["id"], group["id"], external["id"])
    backend.patch_group(got["id"], group["id"], {"email": "deadguys@got.com"})
    assert backend.get_group(got["id"], group["id"])["email"] == "deadguys@got.com"
    assert backend.list_groups(got["id"], {"recipient": "joffrey@got.com"})[1] == 1
    backend.delete_group(group["id"])
    with pytest.raises(NotFound):
        backend.get_group(got["id"], group["id"])


def test_options_inherit_from_their_parent_scope(backend: CleanmailBackend) -> None:
    got = backend.create_domain(domain_body())
    user = backend.create_user(user_body(got["id"]))
    option = backend.set_option("domain", got["id"], {"name": "USER_OPTION_EXAMPLE", "value": "1"})
    assert option["value"] == "1" and option["parentValue"] == "0"
    user_view = {o["option"]["name"]: o for o in backend.list_options("user", user["id"])[0]}
    assert user_view["USER_OPTION_EXAMPLE"]["value"] is None
    assert user_view["USER_OPTION_EXAMPLE"]["parentValue"] == "1"  # the domain's value
    assert "DOMAIN_ADMIN" not in user_view  # not a user-scope option
    with pytest.raises(Unprocessable):
        backend.set_option("user", user["id"], {"name": "DOMAIN_ADMIN", "value": "a@got.com"})
    with pytest.raises(BadRequest):
        backend.set_option("domain", got["id"], {"name": "DOMAIN_ADMIN", "value": "not an email"})
    backend.delete_option("domain", got["id"], "USER_OPTION_EXAMPLE")
    domain_view = {o["option"]["name"]: o for o in backend.list_options("domain", got["id"])[0]}
    assert domain_view["USER_OPTION_EXAMPLE"]["value"] is None


def test_http_users_groups_options_and_signs(emulator: Emulator) -> None:
    api = httpx.Client(base_url=emulator.cleanmail_url, headers={"Authorization": f"Bearer {CM_TOKEN}"})
    domain_id = api.post("/domains", json=domain_body()).json()["id"]
    user = api.post("/users", json=user_body(domain_id))
    assert user.status_code == 201 and user.headers["Location"].endswith(f"/users/{user.json()['id']}")
    assert api.patch(f"/users/{user.json()['id']}", json={"language": "DE"}).status_code == 204
    assert api.get("/users").headers["X-Total-Count"] == "1"
    group = api.post(f"/domains/{domain_id}/groups", json={"email": "all@got.com"})
    assert group.status_code == 201
    assert api.post(f"/domains/{domain_id}/groups/{group.json()['id']}/addresses",
                    json=["x@y.org"]).status_code == 201
    assert api.delete(f"/groups/{group.json()['id']}").status_code == 204
    option = api.post(f"/domains/{domain_id}/options", json={"name": "DOMAIN_ADMIN", "value": "a@got.com"})
    assert option.status_code == 201 and option.json()["parentValue"]
    assert api.get(f"/domains/{domain_id}/options").headers["X-Total-Count"] == "5"
    assert api.delete(f"/domains/{domain_id}/options/DOMAIN_ADMIN").status_code == 204
    assert api.put(f"/users/{user.json()['id']}/sign", json={"sign": "QUJD"}).status_code == 200
    assert api.delete(f"/users/{user.json()['id']}/sign").status_code == 204


def test_a_read_only_token_is_refused_writes_with_403() -> None:
    from pulumi_mailinfra.emulator import EmulatorServer

    with EmulatorServer(cleanmail_tokens=("writer", "reader:readonly")) as server:
        base = f"{server.url}/cleanmail"
        assert httpx.get(f"{base}/domains", headers={"Authorization": "Bearer reader"}).status_code == 200
        refused = httpx.post(f"{base}/domains", json=domain_body(), headers={"Authorization": "Bearer reader"})
        assert refused.status_code == 403 and refused.json()["error"] == "Forbidden"
        allowed = httpx.post(f"{base}/domains", json=domain_body(), headers={"Authorization": "Bearer writer"})
        assert allowed.status_code == 201


# ----- filtering rules on attachments and URIs (5.8, 5.10) -------------------------------------------------
def test_filters_backend_rules() -> None:
    backend = CleanmailBackend()
    domain = backend.create_domain(domain_body())
    rule = backend.add_filter("attachment", domain["id"], {"action": "allow", "checkType": "contenttype",
                                                           "filter": ".xlsx", "description": "Allow xslx files"})
    assert (rule["action"], rule["checkType"], rule["scope"], rule["priority"]) == ("ALLOW", "CONTENTTYPE",
                                                                                    "got.com", 1)
    with pytest.raises(Conflict, match="already exists with same rules"):
        backend.add_filter("attachment", domain["id"], {"action": "DENY", "checkType": "CONTENTTYPE",
                                                        "filter": ".XLSX"})
    second = backend.add_filter("attachment", domain["id"], {"action": "DENY", "checkType": "FILENAME",
                                                             "filter": ".xlsx"})  # another check type: allowed
    assert second["priority"] == 2
    for bad in ({"action": "BLOCK", "checkType": "FILENAME", "filter": "x"},
                {"action": "DENY", "checkType": "FILENAME", "filter": "(open"},
                {"action": "DENY", "checkType": "FILENAME"},
                {"action": "DENY", "checkType": "FILENAME", "filter": "x", "scope": "other"}):
        with pytest.raises(BadRequest):
            backend.add_filter("attachment", domain["id"], bad)
    with pytest.raises(NotFound, match="Domain"):
        backend.add_filter("uri", "nope", {"action": "URIDNSBL_SKIP_DOMAIN", "filter": "bulist.com"})
    backend.patch_filter("attachment", rule["id"], {"action": "DENY"})
    listed, total = backend.list_filters("attachment", domain["id"], {"action": "deny", "sort": "-priority"})
    assert total == 2 and [r["id"] for r in listed] == [second["id"], rule["id"]]
    assert listed[1]["description"] == "Allow xslx files"  # PATCH kept what it was not given
    with pytest.raises(Conflict):
        backend.patch_filter("attachment", second["id"], {"checkType": "CONTENTTYPE"})  # would duplicate
    backend.delete_filter("attachment", rule["id"])
    with pytest.raises(NotFound, match="No attachment filter found with given id"):
        backend.delete_filter("attachment", rule["id"])
    uri = backend.add_filter("uri", domain["id"], {"action": "URIDNSBL_SKIP_DOMAIN", "filter": "bulist.com"})
    with pytest.raises(BadRequest, match="unknown field"):
        backend.add_filter("uri", domain["id"], {"action": "URIDNSBL_SKIP_DOMAIN", "filter": "x.com",
                                                 "checkType": "FILENAME"})
    with pytest.raises(NotFound, match="No uriBl filter found"):
        backend.patch_filter("uri", "nope", {"action": "WHITELIST_URI_HOST"})
    assert backend.list_filters("uri", domain["id"], {})[0][0]["id"] == uri["id"]


def test_filters_http(emulator: Emulator) -> None:
    api = httpx.Client(base_url=emulator.cleanmail_url, headers={"Authorization": f"Bearer {CM_TOKEN}"})
    domain_id = api.post("/domains", json=domain_body()).json()["id"]
    created = api.post(f"/domains/{domain_id}/filters/attachments",
                       json={"action": "ALLOW", "checkType": "CONTENTTYPE", "filter": ".xlsx"})
    assert created.status_code == 201 and created.headers["Location"].endswith(
        f"/cleanmail/domains/{domain_id}/filters/attachments")
    filter_id = created.json()["id"]
    duplicate = api.post(f"/domains/{domain_id}/filters/attachments",
                         json={"action": "ALLOW", "checkType": "CONTENTTYPE", "filter": ".xlsx"})
    assert duplicate.status_code == 409
    assert duplicate.json()["message"] == "This item may already exists with same rules"
    assert api.patch(f"/filters/attachments/{filter_id}", json={"filter": ".xls"}).status_code == 204
    listing = api.get(f"/domains/{domain_id}/filters/attachments")
    assert listing.headers["X-Total-Count"] == "1" and listing.json()[0]["filter"] == ".xls"
    assert api.delete(f"/filters/attachments/{filter_id}").status_code == 204
    assert api.delete(f"/filters/attachments/{filter_id}").status_code == 404
    uri = api.post(f"/domains/{domain_id}/filters/uris",
                   json={"action": "URIDNSBL_SKIP_DOMAIN", "filter": "bulist.com"})
    assert uri.status_code == 201 and uri.json()["scope"] == "got.com"
    assert api.patch(f"/filters/uris/{uri.json()['id']}", json={"action": "FOO"}).status_code == 400
    assert api.get("/domains/nope/filters/uris").status_code == 404


# ----- sender rules (5.9) -------------------------------------------------------------------------------------
def _future(ms: int = 10**9) -> int:
    import time

    return int(time.time() * 1000) + ms


def test_sender_rules_backend() -> None:
    backend = CleanmailBackend()
    domain = backend.create_domain(domain_body())
    user = backend.create_user({"email": "jane@got.com", "status": "ENABLED", "domainId": domain["id"]})
    made = backend.add_rules("domain", domain["id"], [
        {"value": "Daenerys@goodguys.fr", "type": "allow", "spfOn": True},
        {"value": "badguys.fr", "type": "BLOCK", "expireAt": _future() + 123, "description": "traitors"}])
    assert [(r["value"], r["type"], r["owner"], r["spfOn"]) for r in made] == [
        ("daenerys@goodguys.fr", "ALLOW", "got.com", True), ("badguys.fr", "BLOCK", "got.com", None)]
    assert made[1]["expireAt"] % 1000 == 0  # stored dates are answered to the second
    with pytest.raises(Conflict, match="An identical rule may already exists"):
        backend.add_rules("domain", domain["id"], [{"value": "BADGUYS.fr", "type": "PROTECTED"}])
    with pytest.raises(Unprocessable, match="expireAt"):
        backend.add_rules("domain", domain["id"], [{"value": "late.fr", "type": "BLOCK", "expireAt": 1000}])
    for bad in ({"value": "x.fr", "type": "ALLOW"}, {"value": "x.fr", "type": "DENY"},
                {"value": "not a sender", "type": "BLOCK"}, {"value": "x.fr", "type": "BLOCK", "owner": "got.com"}):
        with pytest.raises(BadRequest):
            backend.add_rules("domain", domain["id"], [bad])
    with pytest.raises(BadRequest, match="list"):
        backend.add_rules("domain", domain["id"], {"value": "x.fr", "type": "BLOCK"})
    listed, total = backend.list_rules("domain", domain["id"], {"type": "block"})
    assert total == 1 and listed[0]["description"] == "traitors"
    assert backend.list_rules("domain", domain["id"], {"value": "*goodguys*"})[1] == 1
    replaced = backend.replace_rule("domain", domain["id"], made[0]["id"], {"value": "rickon@stark.net",
                                                                            "type": "BLOCK"})
    assert (replaced["id"], replaced["createdDate"], replaced["spfOn"]) == (made[0]["id"], made[0]["createdDate"], None)
    with pytest.raises(NotFound):
        backend.replace_rule("user", user["id"], made[0]["id"], {"value": "x.fr", "type": "BLOCK"})  # not its rule
    mailbox = backend.set_rules("user", user["id"], [{"value": "a.fr", "type": "BLOCK"}, {"value": "b.fr",
                                                                                          "type": "BLOCK"}])
    assert {r["owner"] for r in mailbox} == {"jane@got.com"}
    assert [r["value"] for r in backend.set_rules("user", user["id"], [{"value": "c.fr", "type": "BLOCK"}])] == ["c.fr"]
    assert backend.list_rules("user", user["id"], {})[1] == 1
    bulk = backend.bulk_add_rules([{"owner": "GOT.com", "value": "d.fr", "type": "BLOCK"},
                                   {"owner": "jane@got.com", "value": "d.fr", "type": "BLOCK"}])
    assert [r["owner"] for r in bulk] == ["got.com", "jane@got.com"]
    with pytest.raises(Unprocessable, match="not a known domain or mailbox"):
        backend.bulk_add_rules([{"owner": "nobody@nowhere.example", "value": "e.fr", "type": "BLOCK"}])
    with pytest.raises(Conflict):
        backend.bulk_add_rules([{"owner": "got.com", "value": "e.fr", "type": "BLOCK"},
                                {"owner": "got.com", "value": "E.fr", "type": "BLOCK"}])
    assert backend.list_rules("domain", domain["id"], {})[1] == 3  # the refused bulk added nothing
    backend.delete_rule("domain", domain["id"], made[1]["id"])
    with pytest.raises(NotFound):
        backend.delete_rule("domain", domain["id"], made[1]["id"])


def test_expired_sender_rules_stay_listed() -> None:
    import time

    backend = CleanmailBackend()
    domain = backend.create_domain(domain_body())
    rule = backend.add_rules("domain", domain["id"], [{"value": "soon.fr", "type": "BLOCK",
                                                       "expireAt": _future(2000)}])[0]
    time.sleep(2.1)
    listed = backend.list_rules("domain", domain["id"], {})[0]
    assert [(r["id"], r["expireAt"]) for r in listed] == [(rule["id"], rule["expireAt"])]


def test_sender_rules_http(emulator: Emulator) -> None:
    api = httpx.Client(base_url=emulator.cleanmail_url, headers={"Authorization": f"Bearer {CM_TOKEN}"})
    domain_id = api.post("/domains", json=domain_body()).json()["id"]
    added = api.post(f"/domains/{domain_id}/wblist", json=[{"value": "tywin.net", "type": "BLOCK"}])
    assert added.status_code == 201 and added.headers["Location"].endswith(f"/domains/{domain_id}/wblist")
    rule_id = added.json()[0]["id"]
    assert api.post(f"/domains/{domain_id}/wblist", json=[{"value": "tywin.net", "type": "BLOCK"}]).status_code == 409
    replaced = api.put(f"/domains/{domain_id}/wblist/{rule_id}", json={"value": "rickon@stark.net", "type": "BLOCK"})
    assert replaced.status_code == 200 and replaced.json()["value"] == "rickon@stark.net"
    whole = api.put(f"/domains/{domain_id}/wblist", json=[{"value": "a.net", "type": "ALLOW", "spfOn": True}])
    assert whole.status_code == 200 and [r["value"] for r in whole.json()] == ["a.net"]
    assert api.get(f"/domains/{domain_id}/wblist").headers["X-Total-Count"] == "1"
    bulk = api.post("/wblist", json=[{"owner": "got.com", "value": "b.net", "type": "BLOCK"}])
    assert bulk.status_code == 201 and bulk.json()[0]["owner"] == "got.com"
    assert api.post("/wblist", json=[{"owner": "x@y.example", "value": "b.net", "type": "BLOCK"}]).status_code == 422
    assert api.delete(f"/domains/{domain_id}/wblist/{bulk.json()[0]['id']}").status_code == 204
    assert api.get("/users/nope/wblist").status_code == 404


# ----- users access and permissions (5.5.2, 5.5.12, 5.1.4) ----------------------------------------------------
def test_users_access_is_checked_against_the_permission_list(emulator: Emulator) -> None:
    api = httpx.Client(base_url=emulator.cleanmail_url, headers={"Authorization": f"Bearer {CM_TOKEN}"})
    domain_id = api.post("/domains", json=domain_body()).json()["id"]
    before = api.get(f"/domains/{domain_id}/access").json()
    assert before and not any(p["enabled"] for p in before)
    granted = api.put(f"/domains/{domain_id}/access", json=["QUARANTINE_RELEASE", "WBLIST_WRITE"])
    assert granted.status_code == 200 and granted.json()["username"] == "users@got.com"
    assert {p["name"] for p in api.get(f"/domains/{domain_id}/access").json() if p["enabled"]} == {
        "QUARANTINE_RELEASE", "WBLIST_WRITE"}
    refused = api.put(f"/domains/{domain_id}/access", json=["DOMAIN_WRITE"])  # an admin's, not a user's
    assert refused.status_code == 422 and "not in the permission list: DOMAIN_WRITE" in refused.json()["message"]
    assert api.put(f"/domains/{domain_id}/access", json="WBLIST_WRITE").status_code == 400
    assert api.get("/domains/nope/access").status_code == 404
    listed = api.get("/security/permissions", params={"scope": "domain", "id": domain_id}).json()
    assert {"name": "GRANT", "editable": True} in listed
    assert api.get("/security/permissions", params={"scope": "domain"}).status_code == 400


# ----- administrators and personal tokens (5.1, 5.2, 5.5.3 to 5.5.13) ----------------------------------------
NEW_ADMIN = {"login": "ned", "displayName": "Ned Stark", "email": "ned@got.com", "password": "winter-is-coming",
             "enabled": True, "language": "EN", "permissions": ["DOMAIN_READ", "USERS_WRITE"]}


def test_domain_admins_and_their_authorities(emulator: Emulator) -> None:
    api = httpx.Client(base_url=emulator.cleanmail_url, headers={"Authorization": f"Bearer {CM_TOKEN}"})
    first = api.post("/domains", json=domain_body()).json()["id"]
    second = api.post("/domains", json=domain_body("other.com")).json()["id"]
    made = api.post(f"/domains/{first}/admins", json=NEW_ADMIN)
    assert made.status_code == 200 and "password" not in made.json()
    admin_id = made.json()["id"]
    assert made.json()["authorities"][0]["permissions"] == ["DOMAIN_READ", "USERS_WRITE"]
    assert api.post(f"/domains/{first}/admins", json=NEW_ADMIN).status_code == 409  # the login is taken
    assert api.post(f"/domains/{first}/admins", json={**NEW_ADMIN, "login": "x", "permissions": ["FLY"]}
                    ).status_code == 422
    assert api.post(f"/domains/{first}/admins", json={"login": "y", "permissions": []}).status_code == 400
    again = api.post(f"/domains/{second}/admins", json={"id": admin_id, "permissions": ["GRANT"]})
    assert again.status_code == 200 and again.json()["authoritiesCount"] == 2
    assert api.put(f"/domains/{first}/admins/{admin_id}/authorities", json=["DOMAIN_WRITE"]).json() == ["DOMAIN_WRITE"]
    listed = api.get(f"/domains/{first}/admins", params={"search": "stark"})
    assert listed.headers["X-Total-Count"] == "1"
    patched = api.patch(f"/security/admins/{admin_id}", json={"displayName": "Eddard Stark"})
    assert patched.json()["displayName"] == "Eddard Stark" and patched.json()["email"] == "ned@got.com"
    assert api.patch(f"/security/admins/{admin_id}", json={"totp": True}).status_code == 422
    assert api.delete(f"/domains/{first}/admins/{admin_id}").status_code == 200
    assert api.get(f"/domains/{first}/admins/{admin_id}").status_code == 404
    assert api.get(f"/security/admins/{admin_id}").status_code == 200  # still admin of the other domain
    api.delete(f"/domains/{second}/admins/{admin_id}")
    assert api.get(f"/security/admins/{admin_id}").status_code == 404  # its last access: the account is gone


def test_personal_tokens_work_as_bearer_until_revoked(emulator: Emulator) -> None:
    import time

    api = httpx.Client(base_url=emulator.cleanmail_url, headers={"Authorization": f"Bearer {CM_TOKEN}"})
    domain_id = api.post("/domains", json=domain_body()).json()["id"]
    admin_id = api.post(f"/domains/{domain_id}/admins", json=NEW_ADMIN).json()["id"]
    made = api.post(f"/admins/{admin_id}/tokens", json={"name": "ci", "expiration": int(time.time() * 1000) + 10**8})
    assert made.status_code == 201 and len(made.json()["value"]) == 32 and "Location" not in made.headers
    token = made.json()
    assert [set(t) for t in api.get(f"/admins/{admin_id}/tokens").json()] == [{"id", "name", "expiration",
                                                                                "createdAt"}]
    assert api.post(f"/admins/{admin_id}/tokens", json={"name": "old", "expiration": 1000}).status_code == 422
    as_token = httpx.Client(base_url=emulator.cleanmail_url, headers={"Authorization": f"Bearer {token['value']}"})
    assert as_token.get("/domains").status_code == 200
    assert api.delete(f"/admins/{admin_id}/tokens/{token['id']}").status_code == 204
    assert as_token.get("/domains").status_code == 401
    assert api.delete(f"/admins/{admin_id}/tokens/{token['id']}").status_code == 404
    short = api.post(f"/admins/{admin_id}/tokens", json={"name": "short", "expiration": int(time.time() * 1000) + 1500})
    time.sleep(2.1)
    expired = httpx.get(f"{emulator.cleanmail_url}/domains",
                        headers={"Authorization": f"Bearer {short.json()['value']}"})
    assert expired.status_code == 401
