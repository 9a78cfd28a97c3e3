"""Shared fixtures: a fresh emulator per test, a GreenArrow client, and stacks driven by the real CLI."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

# Imported up front: hypothesis's pytest plugin imports it at the terminal summary otherwise, and compiling it
# then can trip CPython 3.11's "AST constructor recursion depth mismatch" after a Pulumi inline program's
# teardown, failing a run whose tests all passed.
import hypothesis  # noqa: F401
import pytest

from pulumi_mailinfra.cleanmail.client import CleanmailClient
from pulumi_mailinfra.config import ServiceSettings
from pulumi_mailinfra.elemta.client import ElemtaClient
from pulumi_mailinfra.emulator import EmulatorServer
from pulumi_mailinfra.greenarrow.client import GreenArrowClient

GA_USER, GA_PASSWORD = "admin", "emulator-admin-pw"
CM_TOKEN = "cm-token-Kq93vX"  # must never appear in state or output


class Emulator:
    """A running emulator plus the admin calls tests use: stats, faults, reset."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.url = server.url
        self.admin = httpx.Client(base_url=f"{self.url}/_emulator", timeout=10)

    def requests(self) -> int:
        return int(self.admin.get("/stats").json()["requests"])

    def stats(self) -> dict[str, Any]:
        return self.admin.get("/stats").json()

    def reset_stats(self) -> None:
        self.admin.post("/stats/reset").raise_for_status()

    def fault(self, **rule: Any) -> None:
        self.admin.post("/faults", json=rule).raise_for_status()

    def clear_faults(self) -> None:
        self.admin.delete("/faults").raise_for_status()

    def client(self) -> GreenArrowClient:
        return GreenArrowClient(ServiceSettings(url=self.url, username=GA_USER, password=GA_PASSWORD))

    def names(self, collection: str, key: str) -> list[str]:
        return sorted(item["name"] for item in self.client().list_all(collection, key))

    @property
    def cleanmail_url(self) -> str:
        return f"{self.url}/cleanmail"

    def cleanmail(self) -> CleanmailClient:
        return CleanmailClient(ServiceSettings(url=self.cleanmail_url, token=CM_TOKEN))

    @property
    def elemta_url(self) -> str:
        return f"{self.url}/elemta"

    def elemta(self, **settings: Any) -> ElemtaClient:
        return ElemtaClient(ServiceSettings(url=self.elemta_url, **settings))

    def elemta_delivery(self, **settings: Any) -> None:
        """How the emulated Elemta delivers (mode deliver / defer / fail / hold / manual, delay_seconds, error)."""
        self.admin.post("/elemta/delivery", json=settings).raise_for_status()


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    server = EmulatorServer(ga_username=GA_USER, ga_password=GA_PASSWORD, cleanmail_tokens=(CM_TOKEN,),
                            elemta_delivery_delay=0.2).start()
    try:
        yield Emulator(server)
    finally:
        server.stop()


@pytest.fixture
def ga(emulator: Emulator) -> GreenArrowClient:
    return emulator.client()


@pytest.fixture(scope="session")
def pulumi_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Offline CLI environment (built CLI on PATH, local file backend), shared by the session."""
    from mailinfra_cli.devtools import offline_env

    return offline_env(tmp_path_factory.mktemp("pulumi-backend"))


StackFactory = Callable[..., Any]


@pytest.fixture
def make_stack(pulumi_env: dict[str, str], emulator: Emulator, tmp_path: Path) -> Iterator[StackFactory]:
    """Create an inline-program stack wired to this test's emulator; destroyed-and-removed afterwards."""
    from pulumi import automation as auto

    from mailinfra_cli.devtools import select_stack

    created: list[Any] = []

    def factory(program: Callable[[], None], stack_name: str = "dev", project: str | None = None,
                config: dict[str, str] | None = None, url: str | None = None) -> Any:
        project = project or f"e2e-{uuid.uuid4().hex[:8]}"
        work_dir = tmp_path / project
        work_dir.mkdir(exist_ok=True)
        if not (work_dir / "Pulumi.yaml").exists():
            (work_dir / "Pulumi.yaml").write_text(f"name: {project}\nruntime: python\n")
        stack = select_stack(work_dir, stack_name, pulumi_env, program)
        stack.set_config("mailinfra:greenarrowUrl", auto.ConfigValue(url or emulator.url))
        stack.set_config("mailinfra:greenarrowUsername", auto.ConfigValue(GA_USER))
        stack.set_config("mailinfra:greenarrowPassword", auto.ConfigValue(GA_PASSWORD, secret=True))
        stack.set_config("mailinfra:maxAttempts", auto.ConfigValue("8"))
        stack.set_config("mailinfra:cleanmailUrl", auto.ConfigValue(f"{url or emulator.url}/cleanmail"))
        stack.set_config("mailinfra:cleanmailToken", auto.ConfigValue(CM_TOKEN, secret=True))
        stack.set_config("mailinfra:elemtaUrl", auto.ConfigValue(f"{url or emulator.url}/elemta"))
        for key, value in (config or {}).items():
            stack.set_config(key, auto.ConfigValue(value))
        created.append(stack)
        return stack

    yield factory
    for stack in created:
        try:
            stack.destroy()
        finally:
            stack.workspace.remove_stack(stack.name)


@pytest.fixture(autouse=True, scope="session")
def _ownership_journal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The provider's record of what it set out to create (pulumi_mailinfra.ownership): the session's own, not
    the developer's `~/.pulumi` (CLI runs inherit it too)."""
    previous = os.environ.get("MAILINFRA_OWNERSHIP_JOURNAL")
    os.environ["MAILINFRA_OWNERSHIP_JOURNAL"] = str(tmp_path_factory.mktemp("ownership") / "creates.sqlite")
    yield
    if previous is None:
        os.environ.pop("MAILINFRA_OWNERSHIP_JOURNAL", None)
    else:
        os.environ["MAILINFRA_OWNERSHIP_JOURNAL"] = previous
