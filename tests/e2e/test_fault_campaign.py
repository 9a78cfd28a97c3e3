"""The fault campaign at a reduced size (the full one: `bench/fault_campaign.py --seeds 50`, figures in
bench/RELIABILITY.md): seeded schedules of 429s, 5xx, timeouts, dropped connections after applied writes, latency
spikes and garbage answers during an `up`, an update and a `destroy` of bench/campaign (every resource type of the
three services). Each faulty run succeeds or fails with a clear error (no traceback, no secret); a clean run after
it converges to exactly what an uninterrupted run leaves, and the next preview is empty."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mailinfra_cli.devtools import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "bench"))

import crash_campaign
import fault_campaign

pytestmark = pytest.mark.e2e


def test_faulty_runs_fail_cleanly_and_the_next_run_converges(tmp_path: Path) -> None:
    lines: list[str] = []
    outcomes, ref = fault_campaign.campaign(2, tmp_path, first_seed=1, log=lines.append)
    report = fault_campaign.report(outcomes, ref, 2, 0)
    assert len(outcomes) == 2 * len(crash_campaign.OPS), report
    assert sum(sum(o.injected.values()) for o in outcomes) >= 10, report  # the faults did fire
    assert all(o.faulty != "failed badly" for o in outcomes), report + "\n".join(lines)
    assert all(o.converged for o in outcomes), report + "\n".join(lines)


def test_a_failure_while_the_program_still_waits_shows_no_traceback(tmp_path: Path) -> None:
    """The engine cancels the program with SIGINT when a resource fails before the program is done; the output
    must be the resource's one-line error, not the language host's KeyboardInterrupt tracebacks."""
    server = crash_campaign._server()
    try:
        project = crash_campaign.Project(tmp_path / "p", server.url, fast=False)
        # The first template's create is refused: everything that waits on it is still pending in the program.
        server.app.state.faults.add({"kind": "status", "status": 400, "method": "POST",
                                     "path": "/throttling_templates$", "times": 1})
        run = project.up()
        assert run.returncode != 0
        assert "POST /ga/api/v3/eng/throttling_templates" in run.output, run.output[-3000:]
        assert "Traceback" not in run.output and "KeyboardInterrupt" not in run.output, run.output[-5000:]
        server.app.state.faults.clear()
        assert project.up().returncode == 0
        assert project.preview_is_empty()[0]
    finally:
        server.stop()
