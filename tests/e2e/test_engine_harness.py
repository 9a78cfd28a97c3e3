"""The provider harness (`tests/provider/harness.py`) hands a provider what the real engine hands it. The same
lifecycle (create, a no-op preview, refresh, an update, destroy) runs once under the real CLI and once through the
harness, each against a fresh emulator, with providers that record every call's arguments as received: the two
records must be equal, call for call (values after the serialization round trip, `__provider` included)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from mailinfra_cli.devtools import offline_env, select_stack
from pulumi_mailinfra.cleanmail.resources import _DOMAIN
from pulumi_mailinfra.greenarrow.resources import _RELAY_SERVER
from pulumi_mailinfra.program_spec import ProgramSpec
from pulumi_mailinfra.resource import serialized_provider
from tests import engine_calls
from tests.conftest import CM_TOKEN, GA_PASSWORD, GA_USER, Emulator
from tests.provider.harness import Engine, configured

pytestmark = pytest.mark.e2e
CHECKOUT = Path(__file__).resolve().parents[2]

RELAY = {"name": "recorded-relay", "source_ip": {"ip": "192.0.2.1", "hostname": "out.example.com"},
         # a username and no password: a nested key left unset, a number, a secret path
         "destination": {"hostname": "smtp.example.net", "port": 25, "username": "relay"}}
DOMAIN = {"name": "recorded.example", "default_language": "DE", "quarantine": True, "retention": True, "archive": False,
          "outgoing_subnets": ["192.0.2.0/28"],
          "platforms": [{"name": "relay", "transport_dest": "192.0.2.9", "transport_type": "SMTP",
                         "transport_port": 25, "auth_type": "ldap", "default": True,
                         "auth_data": {"host": "ldap.example.com", "port": 636, "bind_user": "cn=reader",
                                       "bind_password": "bind-pw-Qx81", "use_ssl": True}}]}
UPDATES: dict[str, dict[str, Any]] = {
    "RelayServer": {"destination": {**RELAY["destination"], "port": 587}},
    "Domain": {"default_language": "FR"},
}
TYPES: list[tuple[ProgramSpec, dict[str, Any]]] = [(_RELAY_SERVER, RELAY), (_DOMAIN, DOMAIN)]


VOLATILE = frozenset({"creation_date"})  # a timestamp of the server's: differs between any two runs


def calls_by_type(log: Path) -> dict[str, list[dict[str, Any]]]:
    """Each provider's calls; the object's id (random for some types) as "<id>", volatile values as "<volatile>"."""
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for call in engine_calls.read_calls(log):
        by_type[call["provider"]].append({"method": call["method"], "args": call["args"]})
    for calls in by_type.values():
        ids = {str(c["args"][0]) for c in calls if c["method"] in {"diff", "read", "update", "delete"}}
        for call in calls:
            call["args"] = _stable(call["args"], ids)
    return dict(by_type)


def _stable(value: Any, ids: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: "<volatile>" if k in VOLATILE else _stable(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_stable(v, ids) for v in value]
    return "<id>" if isinstance(value, str) and value in ids else value


def under_the_cli(emulator: Emulator, tmp_path: Path, log: Path) -> None:
    updated = [False]
    classes = [(spec, engine_calls.recorded_resource(spec), inputs) for spec, inputs in TYPES]

    def program() -> None:
        for spec, cls, inputs in classes:
            cls(spec.type_name.lower(), {**inputs, **(UPDATES[spec.type_name] if updated[0] else {})})

    env = offline_env(tmp_path / "backend", {"PYTHONPATH": str(CHECKOUT), engine_calls.CALL_LOG_ENV: str(log)})
    work_dir = tmp_path / "project"
    work_dir.mkdir()
    (work_dir / "Pulumi.yaml").write_text("name: recorded\nruntime: python\n")
    stack = select_stack(work_dir, "dev", env, program)
    settings = (("greenarrowUrl", emulator.url, False), ("greenarrowUsername", GA_USER, False),
                ("greenarrowPassword", GA_PASSWORD, True), ("cleanmailUrl", emulator.cleanmail_url, False),
                ("cleanmailToken", CM_TOKEN, True), ("maxAttempts", "6", False))
    for key, value, secret in settings:
        stack.set_config(f"mailinfra:{key}", auto.ConfigValue(value, secret=secret))
    try:
        stack.up()
        stack.preview()
        stack.refresh()
        updated[0] = True
        stack.up()
        stack.destroy()
    finally:
        stack.workspace.remove_stack("dev", force=True)


def through_the_harness(emulator: Emulator) -> None:
    engines: list[tuple[Engine, dict[str, Any], dict[str, Any]]] = []
    for spec, inputs in TYPES:
        target = engine_calls.recording_target(spec.provider)
        provider = configured(getattr(engine_calls, target.partition(":")[2]), emulator)
        key = serialized_provider(dataclasses.replace(spec, provider=target))
        owner = f"organization/recorded/dev: {spec.type_name} '{spec.type_name.lower()}'"  # what the program adds
        engines.append((Engine(provider, key, owner), inputs, {**inputs, **UPDATES[spec.type_name]}))
    for engine, inputs, _ in engines:
        engine.create(dict(inputs))
    for engine, inputs, _ in engines:
        engine.diff(dict(inputs))
    for engine, _, _ in engines:
        engine.refresh()
    for engine, _, updated in engines:
        engine.update(dict(updated))
    for engine, _, _ in engines:
        engine.delete()


def test_the_harness_hands_a_provider_what_the_engine_hands_it(
    pulumi_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pulumi_mailinfra.emulator import EmulatorServer

    logs = {side: tmp_path / f"{side}.jsonl" for side in ("cli", "harness")}
    for side, run in (("cli", lambda emulator: under_the_cli(emulator, tmp_path / "cli", logs["cli"])),
                      ("harness", through_the_harness)):
        monkeypatch.setenv(engine_calls.CALL_LOG_ENV, str(logs[side]))
        server = EmulatorServer(ga_username=GA_USER, ga_password=GA_PASSWORD, cleanmail_tokens=(CM_TOKEN,)).start()
        try:
            run(Emulator(server))
        finally:
            server.stop()
    cli, harness = calls_by_type(logs["cli"]), calls_by_type(logs["harness"])
    assert sorted(cli) == sorted(harness) != []
    for provider in cli:
        assert [c["method"] for c in cli[provider]] == [  # the lifecycle as the engine runs it
            "check", "create", "check", "diff", "read", "diff", "check", "diff", "update", "delete"]
        for index, (engine_call, harness_call) in enumerate(zip(cli[provider], harness[provider], strict=True)):
            assert harness_call == engine_call, f"{provider} call {index} ({engine_call['method']})"
