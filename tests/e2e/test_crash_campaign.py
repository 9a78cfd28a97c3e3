"""The crash campaign at a reduced size (the full one: `bench/crash_campaign.py --seeds 20`, figures in
bench/RESULTS.md): in the default mode and in fast mode, the CLI and every process it started are SIGKILLed
after a seeded number of API writes of an `up`, an update and a `destroy` of bench/campaign (every resource
type of the three services); `mailinfra recover` then a plain `up` / `destroy` must converge — the emulator
holding exactly what an uninterrupted run leaves, no pending operation, an empty next preview."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mailinfra_cli.devtools import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "bench"))

import crash_campaign

pytestmark = pytest.mark.e2e


def test_killed_up_update_and_destroy_converge_in_both_modes(tmp_path: Path) -> None:
    lines: list[str] = []
    outcomes, refs = crash_campaign.campaign(1, crash_campaign.MODES, tmp_path, first_seed=3, log=lines.append)
    report = crash_campaign.report(outcomes, refs, 1)
    assert len(outcomes) == 2 * len(crash_campaign.OPS), report
    assert all(o.converged for o in outcomes), report + "\n".join(lines)
    assert sum(o.killed for o in outcomes) >= 4, report  # the kills landed mid-run, not after it
    assert all(o.duplicates == o.orphans == o.missing == 0 for o in outcomes), report


def test_the_comparison_sees_a_duplicate_and_a_missing_object(tmp_path: Path) -> None:
    """The campaign's check is not blind: an object made beside the stack, or one removed, is reported."""
    server = crash_campaign._server()
    try:
        project = crash_campaign.Project(tmp_path / "p", server.url, fast=True)
        project.up(check=True)
        reference = crash_campaign.inventory(server)
        api = server.cleanmail
        domain = next(d for d in api.inventory()["domain"] if d["name"] == "unit0.campaign.example")
        api.create_user({"email": "stray@unit0.campaign.example", "status": "ENABLED", "domainId": domain["id"]})
        counts, _, problems = crash_campaign._check(project, server, reference, "up")
        assert counts["orphans"] == 1 and any("stray@unit0" in p for p in problems)
        relay = next(r for r in server.greenarrow.inventory()["relay_server"] if r["name"].startswith("primary"))
        server.greenarrow.delete_relay_server(relay["id"])
        counts, empty, problems = crash_campaign._check(project, server, reference, "up")
        assert counts["missing"] == 1 and not empty  # the refresh preview sees the relay gone and recreates it
    finally:
        server.stop()
