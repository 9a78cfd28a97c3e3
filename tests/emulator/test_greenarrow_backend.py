"""GreenArrow emulator backend, exercised directly (no HTTP)."""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Any

import pytest

from pulumi_mailinfra.emulator.greenarrow.backend import (
    GreenArrowBackend,
    InUse,
    NotFound,
    ValidationFailed,
)
from tests.payloads import relay_payload


@pytest.fixture
def backend() -> GreenArrowBackend:
    return GreenArrowBackend()


relay = relay_payload


def ip(name: str = "ipaddr-1", **extra: Any) -> dict[str, Any]:
    return {"name": name, "ip": "10.0.0.1", "hostname": "mx1.example.com", **extra}


def rule(*domains: str, mcc: int = 1, mph: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "domains": list(domains),
        "max_concurrent_connections": mcc,
        "max_messages_per_hour": mph,
        **extra,
    }


def template(name: str = "Basic Template", rules: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "rules": rules or [],
        "default": {"max_concurrent_connections": 1, "max_messages_per_hour": 60},
    }


def errors_of(call: Any, *args: Any) -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        call(*args)
    return info.value.messages


# ---- relay servers: field rules ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("a" * 200, True),
        ("a" * 201, False),
        ("", False),
        ("relay 1 (primary) ~!$%^&*", True),
        ("a,b", False),
        ("a#b", False),
        ("a@b", False),
        ("123", False),
        ("-5", False),
        ("12a", True),
        (" relay", False),
        ("relay ", False),
        ("caf\u00e9", False),
        ("tab\there", False),
        ("del\x7f", False),
    ],
)
def test_relay_server_name_rules(backend: GreenArrowBackend, name: str, ok: bool) -> None:
    if ok:
        assert backend.create_relay_server(relay(name))["relay_server"]["name"] == name
    else:
        messages = errors_of(backend.create_relay_server, relay(name))
        assert messages and all(m.startswith("relay_server.name: ") for m in messages)
        assert backend.list_relay_servers()["relay_servers"] == []


@pytest.mark.parametrize(
    ("port", "ok"),
    [
        (0, False),
        (1, True),
        (65535, True),
        (65536, False),
        (True, False),
        ("25", False),
        (25.0, False),
        (None, False),
    ],
)
def test_port_bounds(backend: GreenArrowBackend, port: Any, ok: bool) -> None:
    payload = relay(destination__port=port)
    if ok:
        assert backend.create_relay_server(payload)["relay_server"]["destination"]["port"] == port
    else:
        assert errors_of(backend.create_relay_server, payload) == [
            "relay_server.destination.port: must be an integer from 1 to 65535"
        ]


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("127.0.0.2", True),
        ("255.255.255.255", True),
        ("1.2.3", False),
        ("256.1.1.1", False),
        ("01.2.3.4", False),
        ("a.b.c.d", False),
        ("::1", False),
        ("1.2.3.4 ", False),
        (16909060, False),
    ],
)
def test_source_ip_must_be_dotted_ipv4(backend: GreenArrowBackend, address: Any, ok: bool) -> None:
    payload = relay(source_ip__ip=address)
    if ok:
        backend.create_relay_server(payload)
    else:
        assert errors_of(backend.create_relay_server, payload) == [
            "relay_server.source_ip.ip: must be a valid IPv4 address in dotted-decimal notation"
        ]


@pytest.mark.parametrize(
    ("hostname", "message"),
    [
        ("a", None),
        ("a" * 200, None),
        ("1.2.3.4", None),
        ("a" * 201, "must be from 1 to 200 characters in length"),
        ("", "must be from 1 to 200 characters in length"),
        ("-mx.example.com", "must start and end with a letter or number"),
        ("mx.example.com.", "must start and end with a letter or number"),
        (".mx", "must start and end with a letter or number"),
        (5, "must be a string"),
    ],
)
@pytest.mark.parametrize("field", ["source_ip__hostname", "destination__hostname"])
def test_hostname_rules(backend: GreenArrowBackend, field: str, hostname: Any, message: str | None) -> None:
    payload = relay(**{field: hostname})
    if message is None:
        backend.create_relay_server(payload)
    else:
        assert errors_of(backend.create_relay_server, payload) == [
            f"relay_server.{field.replace('__', '.')}: {message}"
        ]


@pytest.mark.parametrize(
    ("value", "ok"), [(None, True), ("", True), ("x" * 200, True), ("x" * 201, False), (7, False)]
)
def test_username_and_password_length(backend: GreenArrowBackend, value: Any, ok: bool) -> None:
    payload = relay(destination__username=value, destination__password=value)
    if ok:
        got = backend.create_relay_server(payload)["relay_server"]["destination"]
        assert (got["username"], got["password"]) == (value, value)
    else:
        assert errors_of(backend.create_relay_server, payload) == [
            "relay_server.destination.username: must be null or a string of at most 200 characters",
            "relay_server.destination.password: must be null or a string of at most 200 characters",
        ]


def test_username_password_default_to_null(backend: GreenArrowBackend) -> None:
    payload = relay()
    del payload["destination"]["username"], payload["destination"]["password"], payload["redirect"]
    got = backend.create_relay_server(payload)["relay_server"]
    assert got["destination"]["username"] is None and got["destination"]["password"] is None
    assert got["redirect"] is None


@pytest.mark.parametrize(
    ("value", "ok"), [(0, True), (10**9, True), (-1, False), (1.5, False), (False, False)]
)
def test_throttle_limits(backend: GreenArrowBackend, value: Any, ok: bool) -> None:
    payload = relay(throttle_limits__max_messages_per_hour=value)
    if ok:
        backend.create_relay_server(payload)
    else:
        assert errors_of(backend.create_relay_server, payload) == [
            "relay_server.throttle_limits.max_messages_per_hour: "
            "must be an integer greater than or equal to 0"
        ]


def test_create_requires_all_required_fields(backend: GreenArrowBackend) -> None:
    messages = errors_of(backend.create_relay_server, {"name": "x", "destination": {"port": 25}})
    assert messages == [
        "relay_server.source_ip: is required",
        "relay_server.destination.hostname: is required",
        "relay_server.throttle_limits: is required",
    ]
    assert errors_of(backend.create_relay_server, ["not", "a", "hash"]) == ["relay_server: must be a hash"]


def test_unknown_keys_rejected_read_only_keys_ignored(backend: GreenArrowBackend) -> None:
    assert errors_of(backend.create_relay_server, {**relay(), "colour": "red"}) == [
        "relay_server.colour: is not a recognized field"
    ]
    assert errors_of(backend.create_relay_server, relay(destination__tls=True)) == [
        "relay_server.destination.tls: is not a recognized field"
    ]
    created = backend.create_relay_server({**relay(), "id": 999})["relay_server"]
    assert created["id"] == 1


def test_get_returns_full_record_with_plaintext_password(backend: GreenArrowBackend) -> None:
    created = backend.create_relay_server(relay(destination__password="mysecret"))["relay_server"]
    got = backend.get_relay_server(created["id"])
    assert got == {"relay_server": created}
    assert list(created) == ["id", "name", "source_ip", "destination", "throttle_limits", "redirect"]
    assert created["destination"]["password"] == "mysecret"
    assert backend.get_relay_server(str(created["id"])) == got


@pytest.mark.parametrize("bad_id", [999, "999", "abc", "-1", "1.0", ""])
def test_missing_ids_are_not_found(backend: GreenArrowBackend, bad_id: Any) -> None:
    backend.create_relay_server(relay())
    for call in (
        backend.get_relay_server,
        backend.delete_relay_server,
        backend.get_ip_address,
        backend.get_throttling_template,
        backend.get_route,
        backend.virtual_mta_used_by,
    ):
        with pytest.raises(NotFound):
            call(bad_id)
    with pytest.raises(NotFound):
        backend.update_relay_server(bad_id, {"name": "x"})


# ---- updates ---------------------------------------------------------------------------------


def test_update_keeps_omitted_fields_and_merges_nested_hashes(backend: GreenArrowBackend) -> None:
    rid = backend.create_relay_server(relay())["relay_server"]["id"]
    updated = backend.update_relay_server(rid, {"destination": {"port": 1025}})["relay_server"]
    assert updated["destination"] == {
        "hostname": "destination-hostname.com",
        "port": 1025,
        "username": "u",
        "password": "p",
    }
    assert updated["name"] == "relay-1" and updated["throttle_limits"]["max_messages_per_hour"] == 120
    assert backend.get_relay_server(rid)["relay_server"] == updated
    assert errors_of(backend.update_relay_server, rid, {"destination": {"port": 0}}) == [
        "relay_server.destination.port: must be an integer from 1 to 65535"
    ]
    assert errors_of(backend.update_relay_server, rid, {"destination": None}) == [
        "relay_server.destination: must be a hash"
    ]
    assert backend.get_relay_server(rid)["relay_server"] == updated


def test_doc_update_example(backend: GreenArrowBackend) -> None:
    rid = backend.create_relay_server(relay())["relay_server"]["id"]
    payload = {
        "name": "updated-relay-server",
        "source_ip": {"ip": "127.0.0.7", "hostname": "updated-outgoing-hostname.com"},
        "destination": {
            "hostname": "updated-destination-hostname.com",
            "port": 1025,
            "username": "updated-myusername",
            "password": "updated-mysecret",
        },
        "throttle_limits": {"max_concurrent_connections": 5, "max_messages_per_hour": 500},
        "redirect": None,
    }
    assert backend.update_relay_server(rid, copy.deepcopy(payload)) == {
        "relay_server": {"id": rid, **payload}
    }


# ---- VirtualMTA namespace ----------------------------------------------------------------------


def test_names_unique_case_insensitively_across_virtual_mta_types(backend: GreenArrowBackend) -> None:
    backend.create_ip_address(ip("Shared-Name"))
    msg = errors_of(backend.create_relay_server, relay("shared-NAME"))
    assert msg == [
        "relay_server.name: must be unique (case-insensitive); 'shared-NAME' is already used by "
        "ip_address 'Shared-Name' (id 1)"
    ]
    backend.create_relay_server(relay("relay-a"))
    assert errors_of(backend.create_ip_address, ip("RELAY-A"))[0].startswith(
        "ip_address.name: must be unique"
    )
    route = backend.create_route({"name": "blue", "requested_target_daily_volume": 10})["route"]
    assert route["routing_rule"]["name"] == "blue R1"
    assert "routing_rule 'blue R1'" in errors_of(backend.create_relay_server, relay("BLUE r1"))[0]
    # Renaming a record to a different case of its own name is fine.
    rid = backend.list_relay_servers()["relay_servers"][0]["id"]
    assert backend.update_relay_server(rid, {"name": "Relay-A"})["relay_server"]["name"] == "Relay-A"


def test_virtual_mtas_share_one_id_sequence(backend: GreenArrowBackend) -> None:
    a = backend.create_ip_address(ip("ip-a"))["ip_address"]["id"]
    b = backend.create_relay_server(relay("relay-b"))["relay_server"]["id"]
    c = backend.create_route({"name": "route-c", "requested_target_daily_volume": 1})["route"][
        "routing_rule"
    ]["id"]
    assert [a, b, c] == [1, 2, 3]
    assert backend.list_virtual_mtas()["virtual_mtas"] == [
        {"type": "ip_address", "id": 1, "name": "ip-a"},
        {"type": "relay_server", "id": 2, "name": "relay-b"},
        {"type": "routing_rule", "id": 3, "name": "route-c R1"},
    ]


# ---- redirect ----------------------------------------------------------------------------------


def test_redirect_by_name_and_by_id(backend: GreenArrowBackend) -> None:
    target = backend.create_ip_address(ip("ipaddr-1"))["ip_address"]
    other = backend.create_relay_server(relay("other"))["relay_server"]
    by_name = backend.create_relay_server(relay("r1", redirect={"name": "IPADDR-1"}))["relay_server"]
    assert by_name["redirect"] == {"type": "ip_address", "id": target["id"], "name": "ipaddr-1"}
    by_id = backend.create_relay_server(relay("r2", redirect={"id": other["id"]}))["relay_server"]
    assert by_id["redirect"] == {"type": "relay_server", "id": other["id"], "name": "other"}
    id_wins = backend.create_relay_server(
        relay("r3", redirect={"id": other["id"], "name": "ipaddr-1", "type": "ip_address"})
    )["relay_server"]
    assert id_wins["redirect"]["id"] == other["id"]
    id_wins_over_bogus_name = backend.create_relay_server(relay("r4", redirect={"id": 1, "name": "nope"}))
    assert id_wins_over_bogus_name["relay_server"]["redirect"]["name"] == "ipaddr-1"


def test_redirect_errors(backend: GreenArrowBackend) -> None:
    assert errors_of(backend.create_relay_server, relay(redirect={"name": "missing"})) == [
        "relay_server.redirect: no VirtualMTA with name 'missing' exists"
    ]
    assert errors_of(backend.create_relay_server, relay(redirect={"id": 42})) == [
        "relay_server.redirect: no VirtualMTA with id 42 exists"
    ]
    assert errors_of(backend.create_relay_server, relay(redirect={})) == [
        "relay_server.redirect: must contain an id or a name"
    ]
    assert errors_of(backend.create_relay_server, relay(redirect={"id": "1"})) == [
        "relay_server.redirect.id: must be an integer"
    ]
    assert errors_of(backend.create_relay_server, relay(redirect="ipaddr-1")) == [
        "relay_server.redirect: must be null or a hash with an id or a name"
    ]


def test_redirect_to_self_and_cycles_refused(backend: GreenArrowBackend) -> None:
    a = backend.create_relay_server(relay("a"))["relay_server"]["id"]
    b = backend.create_relay_server(relay("b", redirect={"id": a}))["relay_server"]["id"]
    c = backend.create_relay_server(relay("c", redirect={"id": b}))["relay_server"]["id"]
    assert errors_of(backend.update_relay_server, a, {"redirect": {"name": "A"}}) == [
        "relay_server.redirect: a relay server may not redirect to itself"
    ]
    assert errors_of(backend.update_relay_server, a, {"redirect": {"id": c}}) == [
        "relay_server.redirect: would create a loop of redirects: 'a' -> 'c' -> 'b' -> 'a'"
    ]
    assert backend.get_relay_server(a)["relay_server"]["redirect"] is None


def test_delete_in_use_names_the_users(backend: GreenArrowBackend) -> None:
    a = backend.create_relay_server(relay("relay-a"))["relay_server"]["id"]
    b = backend.create_relay_server(relay("relay-b", redirect={"id": a}))["relay_server"]["id"]
    with pytest.raises(InUse) as info:
        backend.delete_relay_server(a)
    assert info.value.messages == [f"Relay Server 'relay-a' is in use by: relay_server 'relay-b' (id {b})"]
    assert info.value.users == [{"type": "relay_server", "id": b, "name": "relay-b"}]
    assert backend.virtual_mta_used_by(a)["used_by"] == info.value.users
    backend.update_relay_server(b, {"redirect": None})
    assert backend.virtual_mta_used_by(a)["used_by"] == []
    backend.delete_relay_server(a)
    with pytest.raises(NotFound):
        backend.get_relay_server(a)


def test_ip_address_in_use_by_redirect(backend: GreenArrowBackend) -> None:
    iid = backend.create_ip_address(ip("ip-x"))["ip_address"]["id"]
    backend.create_relay_server(relay("uses-ip", redirect={"name": "ip-x"}))
    with pytest.raises(InUse, match="IP Address 'ip-x' is in use by: relay_server 'uses-ip'"):
        backend.delete_ip_address(iid)


# ---- pagination ------------------------------------------------------------------------------


def test_pagination_by_page_and_by_token(backend: GreenArrowBackend) -> None:
    for i in range(205):
        backend.create_relay_server(relay(f"relay-{i:03d}"))
    first = backend.list_relay_servers()
    assert len(first["relay_servers"]) == 100
    assert first["relay_servers"][0] == {"id": 1, "name": "relay-000"}
    assert first["pagination"]["page"] == 0 and first["pagination"]["num_pages"] == 3
    assert first["pagination"]["num_records"] == 205 and first["pagination"]["per_page"] == 100
    by_page = [backend.list_relay_servers(page=p)["relay_servers"] for p in (0, "1", 2)]
    assert [len(p) for p in by_page] == [100, 100, 5]
    names, token, pages = [], None, 0
    while True:
        result = backend.list_relay_servers(page_token=token) if token else backend.list_relay_servers()
        names += [r["name"] for r in result["relay_servers"]]
        pages += 1
        token = result["pagination"]["next_page_token"]
        if token is None:
            break
        assert isinstance(token, str)
    assert pages == 3 and names == [f"relay-{i:03d}" for i in range(205)]
    assert names == [r["name"] for page in by_page for r in page]
    last = backend.list_relay_servers(page=2)["pagination"]
    assert last["next_page_token"] is None and last["page"] == 2
    assert backend.list_relay_servers(page=7)["relay_servers"] == []


def test_invalid_page_and_page_token(backend: GreenArrowBackend) -> None:
    for page in ("-1", "x", -1, "1.5"):
        assert errors_of(backend.list_relay_servers, page) == [
            "page: must be an integer greater than or equal to 0"
        ]
    for token in ("garbage!", "e30", ""):
        assert errors_of(lambda t: backend.list_relay_servers(page_token=t), token) == [
            "page_token: is not a valid page token for this list"
        ]
    for i in range(101):
        backend.create_ip_address({**ip(f"ip-{i}")})
    token = backend.list_ip_addresses()["pagination"]["next_page_token"]
    assert backend.list_ip_addresses(page_token=token)["ip_addresses"] == [{"id": 101, "name": "ip-100"}]
    with pytest.raises(ValidationFailed):
        backend.list_relay_servers(page_token=token)  # a token of another list


# ---- throttle programs and throttling templates ------------------------------------------------


def test_throttle_programs(backend: GreenArrowBackend) -> None:
    listed = backend.list_throttle_programs()
    assert listed["throttle_programs"] == [{"id": 1, "name": "Automatic Backoff"}]
    assert listed["pagination"]["num_records"] == 1


def test_template_doc_example_throttle_program_by_id_and_name(backend: GreenArrowBackend) -> None:
    payload = template(
        "Example Throttling Template",
        [
            rule(
                "example-2.com",
                "example-1.com",
                mcc=2,
                mph=0,
                throttle_program={"id": 1, "name": "this name doesn't exist"},
            ),
            rule(
                "example-6.com",
                "example-7.com",
                mcc=0,
                mph=500,
                throttle_program={"name": "automatic backoff"},
            ),
        ],
    )
    created = backend.create_throttling_template(payload)["throttling_template"]
    assert created["rules"] == [
        {
            "id": 1,
            "domains": ["example-2.com", "example-1.com"],
            "max_concurrent_connections": 2,
            "max_messages_per_hour": 0,
            "throttle_program": {"id": 1, "name": "Automatic Backoff"},
        },
        {
            "id": 2,
            "domains": ["example-6.com", "example-7.com"],
            "max_concurrent_connections": 0,
            "max_messages_per_hour": 500,
            "throttle_program": {"id": 1, "name": "Automatic Backoff"},
        },
    ]
    assert created["default"] == {"max_concurrent_connections": 1, "max_messages_per_hour": 60}
    assert list(created) == ["id", "name", "rules", "default"]
    assert backend.get_throttling_template(created["id"]) == {"throttling_template": created}
    assert backend.list_throttling_templates()["throttling_templates"] == [
        {"id": created["id"], "name": "Example Throttling Template"}
    ]


def test_unknown_throttle_program(backend: GreenArrowBackend) -> None:
    payload = template(
        rules=[rule("a.com", throttle_program={"id": 2}), rule("b.com", throttle_program={"name": "x"})]
    )
    assert errors_of(backend.create_throttling_template, payload) == [
        "throttling_template.rules[0].throttle_program: no throttle program with id 2 exists",
        "throttling_template.rules[1].throttle_program: no throttle program with name 'x' exists",
    ]


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("T" * 200, True),
        ("T" * 201, False),
        ("", False),
        (" T", False),
        ("T ", False),
        ("a,b#c@d 123", True),
        ("123", True),
        ("\u00e9", False),
    ],
)
def test_template_name_rules(backend: GreenArrowBackend, name: str, ok: bool) -> None:
    if ok:
        backend.create_throttling_template(template(name))
    else:
        assert errors_of(backend.create_throttling_template, template(name))[0].startswith(
            "throttling_template.name: "
        )


def test_template_name_unique_among_templates_only(backend: GreenArrowBackend) -> None:
    backend.create_throttling_template(template("Basic"))
    assert (
        "already used by throttling_template 'Basic'"
        in errors_of(backend.create_throttling_template, template("BASIC"))[0]
    )
    backend.create_relay_server(relay("Other"))
    backend.create_throttling_template(template("other"))  # VirtualMTA names are another namespace


def test_template_default_required_and_limits_checked(backend: GreenArrowBackend) -> None:
    assert errors_of(backend.create_throttling_template, {"name": "x"}) == [
        "throttling_template.default: is required"
    ]
    bad = template(rules=[{"domains": [], "max_concurrent_connections": -1}])
    assert errors_of(backend.create_throttling_template, bad) == [
        "throttling_template.rules[0].domains: must be a non-empty list of domains",
        "throttling_template.rules[0].max_concurrent_connections: "
        "must be an integer greater than or equal to 0",
        "throttling_template.rules[0].max_messages_per_hour: is required",
    ]


@pytest.mark.parametrize(
    ("domain", "ok"),
    [
        ("example.com", True),
        ("*.example.com", True),
        ("[*.]example.com", True),
        ("localhost", True),
        ("a-b.example.co.uk", True),
        ("-a.com", False),
        ("a-.com", False),
        ("*example.com", False),
        ("[*]example.com", False),
        ("exa mple.com", False),
        ("example..com", False),
        ("*.*.example.com", False),
        ("", False),
        ("a" * 64 + ".com", False),
    ],
)
def test_domain_patterns(backend: GreenArrowBackend, domain: str, ok: bool) -> None:
    payload = template(rules=[rule(domain)])
    if ok:
        backend.create_throttling_template(payload)
    else:
        assert errors_of(backend.create_throttling_template, payload) == [
            "throttling_template.rules[0].domains[0]: "
            "must be a domain name, optionally prefixed with '*.' or '[*.]'"
        ]


def test_duplicate_domains_rejected_within_template(backend: GreenArrowBackend) -> None:
    within_rule = template(rules=[rule("a.com", "A.COM")])
    assert errors_of(backend.create_throttling_template, within_rule) == [
        "throttling_template.rules[0].domains[1]: "
        "domain 'A.COM' may appear only once per throttling template "
        "(already in throttling_template.rules[0])"
    ]
    across_rules = template(rules=[rule("a.com"), rule("b.com", "a.com")])
    assert errors_of(backend.create_throttling_template, across_rules)[0].startswith(
        "throttling_template.rules[1].domains[1]: domain 'a.com' may appear only once"
    )
    tid = backend.create_throttling_template(template(rules=[rule("a.com"), rule("*.a.com", "[*.]a.com")]))[
        "throttling_template"
    ]["id"]
    assert errors_of(backend.create_throttling_rule, tid, rule("b.com", "A.com")) == [
        "throttling_rule.domains[1]: "
        "domain 'A.com' may appear only once per throttling template (already in rule id 1)"
    ]
    assert errors_of(backend.update_throttling_template, tid, {"rules_new": [rule("*.A.com")]})[0].startswith(
        "throttling_template.rules_new[0].domains[0]: domain '*.A.com' may appear only once"
    )
    # The same domain in another template is fine.
    backend.create_throttling_template(template("Second", rules=[rule("a.com")]))


def test_at_most_250_rules(backend: GreenArrowBackend) -> None:
    rules_250 = [rule(f"d{i}.com") for i in range(250)]
    tid = backend.create_throttling_template(template(rules=rules_250))["throttling_template"]["id"]
    assert len(backend.get_throttling_template(tid)["throttling_template"]["rules"]) == 250
    assert errors_of(backend.create_throttling_rule, tid, rule("one-more.com")) == [
        "throttling_rule: a throttling template may have at most 250 rules (this would make 251)"
    ]
    assert errors_of(backend.update_throttling_template, tid, {"rules_new": [rule("one-more.com")]}) == [
        "throttling_template.rules_new: "
        "a throttling template may have at most 250 rules (this would make 251)"
    ]
    too_many = template("Big", rules=[*rules_250, rule("d250.com")])
    assert errors_of(backend.create_throttling_template, too_many) == [
        "throttling_template.rules: a throttling template may have at most 250 rules (this would make 251)"
    ]


def test_rules_new_appends_and_keeps_rule_ids(backend: GreenArrowBackend) -> None:
    created = backend.create_throttling_template(
        template(rules=[rule("example-1.com"), rule("example-6.com")])
    )
    tid = created["throttling_template"]["id"]
    before = created["throttling_template"]["rules"]
    updated = backend.update_throttling_template(
        tid, {"name": "my new name", "rules_new": [rule("new-rule-domain.com", mcc=7, mph=1056)]}
    )["throttling_template"]
    assert updated["name"] == "my new name"
    assert updated["rules"][:2] == before
    assert updated["rules"][2] == {
        "id": 3,
        "domains": ["new-rule-domain.com"],
        "max_concurrent_connections": 7,
        "max_messages_per_hour": 1056,
        "throttle_program": None,
    }
    assert updated["default"] == {"max_concurrent_connections": 1, "max_messages_per_hour": 60}
    partial = backend.update_throttling_template(tid, {"default": {"max_messages_per_hour": 5}})[
        "throttling_template"
    ]
    assert partial["default"] == {"max_concurrent_connections": 1, "max_messages_per_hour": 5}
    assert partial["rules"] == updated["rules"]


def test_template_update_refuses_rules(backend: GreenArrowBackend) -> None:
    tid = backend.create_throttling_template(template(rules=[rule("a.com")]))["throttling_template"]["id"]
    assert errors_of(backend.update_throttling_template, tid, {"rules": []}) == [
        "throttling_template.rules: cannot be changed here; use rules_new or the throttling rule endpoints"
    ]
    assert errors_of(backend.update_throttling_template, tid, {"color": 1}) == [
        "throttling_template.color: is not a recognized field"
    ]
    assert len(backend.get_throttling_template(tid)["throttling_template"]["rules"]) == 1


def test_throttling_rule_endpoints(backend: GreenArrowBackend) -> None:
    tid = backend.create_throttling_template(template(rules=[rule("keep.com")]))["throttling_template"]["id"]
    created = backend.create_throttling_rule(tid, rule("new-domain-1.com", "new-domain-2.com", mcc=7, mph=9))
    assert created == {
        "throttling_rule": {
            "id": 2,
            "domains": ["new-domain-1.com", "new-domain-2.com"],
            "max_concurrent_connections": 7,
            "max_messages_per_hour": 9,
            "throttle_program": None,
        }
    }
    updated = backend.update_throttling_rule(
        tid, 2, {"max_messages_per_hour": 10, "throttle_program": {"name": "Automatic Backoff"}}
    )
    assert updated["throttling_rule"]["domains"] == ["new-domain-1.com", "new-domain-2.com"]
    assert updated["throttling_rule"]["max_messages_per_hour"] == 10
    assert updated["throttling_rule"]["throttle_program"] == {"id": 1, "name": "Automatic Backoff"}
    # A rule may keep its own domains on update; it may not take another rule's.
    backend.update_throttling_rule(tid, 2, {"domains": ["NEW-domain-1.com"]})
    assert (
        "already in rule id 1"
        in errors_of(backend.update_throttling_rule, tid, 2, {"domains": ["keep.com"]})[0]
    )
    assert errors_of(backend.update_throttling_rule, tid, 2, {"id": 5, "bogus": 1}) == [
        "throttling_rule.bogus: is not a recognized field"
    ]
    rules = backend.get_throttling_template(tid)["throttling_template"]["rules"]
    assert [r["id"] for r in rules] == [1, 2] and rules[1]["domains"] == ["NEW-domain-1.com"]
    backend.delete_throttling_rule(tid, 1)
    assert [r["id"] for r in backend.get_throttling_template(tid)["throttling_template"]["rules"]] == [2]
    assert backend.create_throttling_rule(tid, rule("keep.com"))["throttling_rule"]["id"] == 3
    with pytest.raises(NotFound):
        backend.delete_throttling_rule(tid, 1)
    with pytest.raises(NotFound):
        backend.update_throttling_rule(tid, "x", {})
    with pytest.raises(NotFound):
        backend.create_throttling_rule(999, rule("z.com"))


def test_template_used_by_ip_addresses_and_delete_refused(backend: GreenArrowBackend) -> None:
    tid = backend.create_throttling_template(template("Basic"))["throttling_template"]["id"]
    a = backend.create_ip_address(ip("ipaddr-1", throttling_template={"name": "basic"}))["ip_address"]
    b = backend.create_ip_address(ip("ipaddr-2", throttling_template={"id": tid}))["ip_address"]
    backend.create_ip_address(ip("ipaddr-3"))
    assert a["throttling_template"] == {"id": tid, "name": "Basic"}
    used = backend.throttling_template_used_by(tid)
    assert used["used_by"] == [
        {"type": "ip_address", "id": a["id"], "name": "ipaddr-1"},
        {"type": "ip_address", "id": b["id"], "name": "ipaddr-2"},
    ]
    assert used["pagination"]["num_records"] == 2
    with pytest.raises(InUse) as info:
        backend.delete_throttling_template(tid)
    assert info.value.messages == [
        f"Throttling Template 'Basic' is in use by: ip_address 'ipaddr-1' (id {a['id']}), "
        f"ip_address 'ipaddr-2' (id {b['id']})"
    ]
    backend.update_ip_address(a["id"], {"throttling_template": None})
    backend.delete_ip_address(b["id"])
    backend.delete_throttling_template(tid)
    with pytest.raises(NotFound):
        backend.get_throttling_template(tid)
    assert errors_of(backend.create_ip_address, ip("ip-9", throttling_template={"id": tid})) == [
        f"ip_address.throttling_template: no throttling template with id {tid} exists"
    ]


# ---- routes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "daily", "hourly"),
    [(1, 25000, 10000), (50000, 25000, 10000), (50001, 50000, 20000), (150000, 75000, 30000)],
)
def test_route_computed_fields(backend: GreenArrowBackend, requested: int, daily: int, hourly: int) -> None:
    got = backend.create_route({"name": "r", "requested_target_daily_volume": requested})["route"]
    assert (got["recommended_max_daily_volume"], got["recommended_max_delivery_rate_per_hour"]) == (
        daily,
        hourly,
    )


def test_route_create_update_rename_and_keep_ips(backend: GreenArrowBackend) -> None:
    backend.create_ip_address(ip("ip-1"))
    created = backend.create_route({"name": "new-route", "requested_target_daily_volume": 50000})["route"]
    assert created == {
        "id": 1,
        "name": "new-route",
        "requested_target_daily_volume": 50000,
        "recommended_max_daily_volume": 25000,
        "recommended_max_delivery_rate_per_hour": 10000,
        "overflow_route": None,
        "routing_rule": {"id": 2, "name": "new-route R1"},
    }
    updated = backend.update_route(1, {"name": "renamed-route", "requested_target_daily_volume": 75000})[
        "route"
    ]
    assert updated == {
        **created,
        "name": "renamed-route",
        "requested_target_daily_volume": 75000,
        "routing_rule": {"id": 2, "name": "renamed-route R1"},
    }
    assert {"type": "routing_rule", "id": 2, "name": "renamed-route R1"} in backend.list_virtual_mtas()[
        "virtual_mtas"
    ]
    assert backend.update_route(1, {"overflow_route": None})["route"] == updated
    assert backend.get_route(1) == {"route": updated}


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("r" * 180, True),
        ("r" * 181, False),
        ("", False),
        ("a b-c_d.e", True),
        ("a/b", False),
        ("a,b", False),
        ("123", False),
        ("12 3", True),
        (" 12", False),  # outer whitespace would also give the routing rule an invalid VirtualMTA name
        ("route ", False),
    ],
)
def test_route_name_rules(backend: GreenArrowBackend, name: str, ok: bool) -> None:
    payload = {"name": name, "requested_target_daily_volume": 1}
    if ok:
        backend.create_route(payload)
    else:
        assert errors_of(backend.create_route, payload)[0].startswith("route.name: ")


def test_route_required_fields_and_volume(backend: GreenArrowBackend) -> None:
    assert errors_of(backend.create_route, {"name": "r"}) == [
        "route.requested_target_daily_volume: is required"
    ]
    assert errors_of(backend.create_route, {"name": "r", "requested_target_daily_volume": 0}) == [
        "route.requested_target_daily_volume: must be an integer greater than or equal to 1"
    ]
    # Read-only fields are ignored.
    got = backend.create_route(
        {
            "name": "r",
            "requested_target_daily_volume": 1,
            "id": 7,
            "recommended_max_daily_volume": 1,
            "routing_rule": {"id": 1},
        }
    )["route"]
    assert got["id"] == 1 and got["recommended_max_daily_volume"] == 25000


def test_route_names_unique_and_rule_name_in_vmta_namespace(backend: GreenArrowBackend) -> None:
    backend.create_route({"name": "Main", "requested_target_daily_volume": 1})
    assert errors_of(backend.create_route, {"name": "main", "requested_target_daily_volume": 1})[
        0
    ].startswith("route.name: must be unique (case-insensitive); 'main' is already used by route 'Main'")
    backend.create_relay_server(relay("other R2"))
    assert errors_of(backend.create_route, {"name": "OTHER", "requested_target_daily_volume": 1}) == [
        "route.name: must be unique (case-insensitive); its routing rule name 'OTHER R2' is already used by "
        "relay_server 'other R2' (id 2)"
    ]
    assert backend.list_routes()["pagination"]["num_records"] == 1


def test_route_overflow(backend: GreenArrowBackend) -> None:
    a = backend.create_route({"name": "a", "requested_target_daily_volume": 1})["route"]
    b = backend.create_route(
        {"name": "b", "requested_target_daily_volume": 1, "overflow_route": {"name": "A"}}
    )["route"]
    assert b["overflow_route"] == {"id": a["id"], "name": "a"}
    assert errors_of(backend.update_route, a["id"], {"overflow_route": {"id": a["id"]}}) == [
        "route.overflow_route: a route may not overflow to itself"
    ]
    assert errors_of(backend.update_route, a["id"], {"overflow_route": {"id": b["id"]}}) == [
        "route.overflow_route: would create a loop of overflows: 'a' -> 'b' -> 'a'"
    ]
    assert errors_of(
        backend.create_route, {"name": "c", "requested_target_daily_volume": 1, "overflow_route": {"id": 99}}
    ) == ["route.overflow_route: no route with id 99 exists"]
    with pytest.raises(InUse) as info:
        backend.delete_route(a["id"])
    assert info.value.messages == [f"Route 'a' is in use by: route 'b' (id {b['id']})"]
    backend.delete_route(b["id"])
    rule_id = a["routing_rule"]["id"]
    backend.delete_route(a["id"])
    assert backend.list_routes()["routes"] == []
    assert backend.list_virtual_mtas()["virtual_mtas"] == []
    with pytest.raises(NotFound):
        backend.virtual_mta_used_by(rule_id)


def test_route_delete_refused_while_relay_redirects_to_its_rule(backend: GreenArrowBackend) -> None:
    route = backend.create_route({"name": "a", "requested_target_daily_volume": 1})["route"]
    backend.create_relay_server(relay("to-rule", redirect={"name": "a R1"}))
    with pytest.raises(InUse, match="relay_server 'to-rule'"):
        backend.delete_route(route["id"])


def test_route_list_filter_and_pagination(backend: GreenArrowBackend) -> None:
    for i in range(120):
        backend.create_route(
            {"name": f"{'Blue' if i % 2 else 'red'}-{i}", "requested_target_daily_volume": 1}
        )
    blue = backend.list_routes(name="bLuE")
    assert blue["pagination"]["num_records"] == 60 and blue["pagination"]["next_page_token"] is None
    assert all("Blue" in r["name"] for r in blue["routes"])
    assert set(blue["routes"][0]) == {
        "id",
        "name",
        "requested_target_daily_volume",
        "recommended_max_daily_volume",
        "recommended_max_delivery_rate_per_hour",
        "overflow_route",
        "routing_rule",
    }
    everything = backend.list_routes()
    token = everything["pagination"]["next_page_token"]
    assert len(everything["routes"]) == 100 and len(backend.list_routes(page_token=token)["routes"]) == 20


def test_route_page_token_keeps_the_name_filter(backend: GreenArrowBackend) -> None:
    for i in range(130):
        backend.create_route(
            {"name": f"{'alpha' if i < 110 else 'beta'}-{i}", "requested_target_daily_volume": 1}
        )
    first = backend.list_routes(name="ALPHA")
    assert first["pagination"]["num_records"] == 110 and first["pagination"]["num_pages"] == 2
    second = backend.list_routes(page_token=first["pagination"]["next_page_token"])
    assert [r["name"] for r in second["routes"]] == [f"alpha-{i}" for i in range(100, 110)]
    assert second["pagination"]["next_page_token"] is None


# ---- persistence and reset -------------------------------------------------------------------


def test_sqlite_persistence_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    first = GreenArrowBackend(path)
    tid = first.create_throttling_template(template(rules=[rule("a.com")]))["throttling_template"]["id"]
    first.create_ip_address(ip("ip-1", throttling_template={"id": tid}))
    rid = first.create_relay_server(relay("relay-1", redirect={"name": "ip-1"}))["relay_server"]["id"]
    first.create_route({"name": "route-1", "requested_target_daily_volume": 120000})
    with pytest.raises(ValidationFailed):
        first.create_relay_server(relay("relay-1"))
    snapshot = {
        "relay": first.get_relay_server(rid),
        "template": first.get_throttling_template(tid),
        "vmtas": first.list_virtual_mtas(),
        "routes": first.list_routes(),
    }
    # No close(): every write must already be committed.
    second = GreenArrowBackend(path)
    assert second.get_relay_server(rid) == snapshot["relay"]
    assert second.get_throttling_template(tid) == snapshot["template"]
    assert second.list_virtual_mtas() == snapshot["vmtas"]
    assert second.list_routes() == snapshot["routes"]
    # Sequences continue where the first instance stopped.
    assert second.create_relay_server(relay("relay-2"))["relay_server"]["id"] == 4
    assert second.create_throttling_rule(tid, rule("b.com"))["throttling_rule"]["id"] == 2
    second.delete_relay_server(rid)
    third = GreenArrowBackend(path)
    assert [r["name"] for r in third.list_relay_servers()["relay_servers"]] == ["relay-2"]
    third.reset()
    fourth = GreenArrowBackend(path)
    assert fourth.list_virtual_mtas()["virtual_mtas"] == []
    for instance in (first, second, third, fourth):
        instance.close()


def test_reset_clears_state_and_sequences(backend: GreenArrowBackend) -> None:
    backend.create_relay_server(relay())
    backend.create_throttling_template(template())
    backend.reset()
    assert backend.list_relay_servers()["relay_servers"] == []
    assert backend.list_throttling_templates()["throttling_templates"] == []
    assert backend.create_relay_server(relay())["relay_server"]["id"] == 1


def test_concurrent_writes_are_serialised(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    shared = GreenArrowBackend(path)
    failures: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(25):
                shared.create_relay_server(relay(f"relay-{n}-{i}"))
                shared.create_route({"name": f"route-{n}-{i}", "requested_target_daily_volume": 1})
                shared.list_virtual_mtas()
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    vmtas = shared.list_virtual_mtas()["pagination"]["num_records"]
    assert vmtas == 400
    reopened = GreenArrowBackend(path)
    ids = [v["id"] for p in range(4) for v in reopened.list_virtual_mtas(page=p)["virtual_mtas"]]
    assert ids == list(range(1, 401))
    assert [r["id"] for r in reopened.list_routes(page=1)["routes"]] == list(range(101, 201))
    shared.close()
    reopened.close()


def test_backend_keeps_no_reference_to_caller_payload(backend: GreenArrowBackend) -> None:
    payload = template(rules=[rule("a.com")])
    tid = backend.create_throttling_template(payload)["throttling_template"]["id"]
    payload["rules"][0]["domains"].append("b.com")
    got = backend.get_throttling_template(tid)["throttling_template"]["rules"][0]["domains"]
    assert got == ["a.com"]
    got.append("c.com")
    assert backend.get_throttling_template(tid)["throttling_template"]["rules"][0]["domains"] == ["a.com"]
