"""The scaling benchmark at its smallest size (the full run: `bench/bench_scale.py`, figures in
bench/RESULTS.md): it runs end to end in both modes, and what it measures holds whatever the timings — a no-op
preview sends nothing, the state is written gzip-compressed, the floor replays the same resources."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mailinfra_cli.devtools import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "bench"))

import bench_scale

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("fast", [False, True], ids=["default", "fast"])
def test_smallest_size_runs_in_each_mode(tmp_path: Path, fast: bool) -> None:
    row = bench_scale.run_size(30, fast, latency_ms=0, workdir=tmp_path)
    real, floor = row["real"], row["floor"]
    assert row["n"] == bench_scale.FIXED + bench_scale.PER_UNIT  # one unit of every type
    assert real["preview"]["requests"] == 0 and floor["preview"]["requests"] == 0
    assert real["up"]["requests"] >= row["n"] - 1  # at least one write per resource that makes an object
    assert floor["up"]["requests"] == 0  # the floor sends nothing: the engine alone
    assert 0 < real["up"]["state_disk_bytes"] < real["up"]["state_bytes_per_resource"] * row["n"]  # gzip
    kinds = real["up"]["state_by_type"]
    assert sum(k["count"] for k in kinds.values()) == row["n"] and "RelayServer" in kinds and "User" in kinds
    assert abs(floor["up"]["state_bytes_per_resource"] / real["up"]["state_bytes_per_resource"] - 1) < 0.25
    assert all(real[op]["peak_mb"]["provider"] > 0 and real[op]["peak_mb"]["cli"] > 0 for op in bench_scale.OPS)
