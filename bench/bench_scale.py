"""Scaling benchmark: `up`, no-op `preview`, `refresh` and `destroy` of bench/campaign (every resource type of the
three services, grown with `units`) at N = 50, 200, 500 and 2000 resources, in the default mode and in fast mode
(PULUMI_SKIP_CHECKPOINTS), beside

- the engine floor in the same mode: the same resources (names, dependencies, inputs and outputs, read from the
  real stack's export) through a no-op dynamic provider (bench/floor): what the engine costs by itself;
- the API time: what the emulator spent answering the real run's requests (its injected latency included),
  divided by the provider's 4 worker threads: no client sending the same requests can be faster.

Per op: seconds, per-resource milliseconds (so the growth is visible), requests, state bytes on disk (gzip on,
as in our commands) and per resource uncompressed, and the peak memory of each process (the CLI, the Python
language host's program, the dynamic provider, the emulator). One command, plain `pulumi` CLI, file backend:

    .venv/bin/python bench/bench_scale.py                         # full: N 50 200 500 2000, both modes
    .venv/bin/python bench/bench_scale.py --sizes 50 --latency-ms 1  # the smoke run CI does
    .venv/bin/python bench/bench_scale.py --sizes 500 --repeats 5    # the targets, as a median of 5 runs
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crash_campaign import CM_TOKEN, GA_PASSWORD, GA_USER, MARKER, Project
from harness import PeakRss, peak_kb, state_sizes

from mailinfra_cli.pulumi_cli import SECRET_SIG

BENCH = Path(__file__).resolve().parent

OPS = ("up", "preview", "refresh", "destroy")
FIXED, PER_UNIT = 7, 22  # bench/campaign: 7 resources once, 22 per unit (the Pulumi stack itself not counted)
WORKER_THREADS = 4  # the dynamic provider server's
PROCESS_KINDS = ("cli", "program", "provider", "emulator")


def units_for(n: int) -> int:
    return max(1, round((n - FIXED) / PER_UNIT))


class Emulator:
    """The emulator in its own process (so its memory is its own), with a fixed latency per request."""

    def __init__(self, latency_ms: float) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pulumi_mailinfra.emulator", "--port", str(port), "--ga-username", GA_USER,
             "--ga-password", GA_PASSWORD, "--cleanmail-token", CM_TOKEN, "--latency-ms", str(latency_ms),
             "--elemta-delivery-delay", "0.05"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.admin = httpx.Client(base_url=f"{self.url}/_emulator", timeout=30)
        for _ in range(200):
            try:
                self.admin.get("/stats")
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("the emulator did not start")

    def stats(self) -> dict[str, Any]:
        return self.admin.get("/stats").json()

    def reset_stats(self) -> None:
        self.admin.post("/stats/reset")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def process_kind(cmdline: bytes) -> str | None:
    """Which of PROCESS_KINDS a process of a run is, from its command line."""
    if b"pulumi.dynamic" in cmdline:
        return "provider"
    if b"pulumi-language-python-exec" in cmdline:
        return "program"
    first = cmdline.split(b"\0", 1)[0]
    return "cli" if first.endswith(b"/pulumi") else None


class PeakMemory(PeakRss):
    """The peak resident memory of each process of one run (found by the run's marker in their environment) and
    of the emulator."""

    def __init__(self, marker: str, emulator_pid: int) -> None:
        needle = f"{MARKER}={marker}".encode()

        def kind_of(pid: str) -> str | None:
            if needle not in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                return None
            return process_kind(Path(f"/proc/{pid}/cmdline").read_bytes())

        super().__init__(kind_of)
        self.emulator_pid = emulator_pid

    def __exit__(self, *_: object) -> None:
        super().__exit__()
        self.peaks_kb["emulator"] = peak_kb(self.emulator_pid)
        self.peaks_kb = {kind: self.peaks_kb.get(kind, 0) for kind in PROCESS_KINDS}


FLOOR_SECRET = "__floor_secret__"  # bench/floor declares such a value as a secret again


def _for_floor(value: Any) -> Any:
    """An exported value with each secret (`{sig, ciphertext}`) as `{FLOOR_SECRET: ciphertext}`: the floor
    declares it secret again, so the engine encrypts as many secrets of about the same size at each checkpoint."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return {FLOOR_SECRET: value.get("ciphertext", "")}
        return {k: _for_floor(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_for_floor(v) for v in value]
    return value


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def state_by_type(deployment: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per resource type: how many, and the mean bytes of a resource's inputs, outputs and whole state entry
    (compact JSON; the entry adds URN, dependencies, the program's stack trace on newer SDKs, ...)."""
    found: dict[str, list[tuple[int, int, int]]] = {}
    for resource in deployment.get("resources") or []:
        kind = str(resource.get("type", ""))
        if not kind.startswith("pulumi-python:dynamic"):
            continue
        found.setdefault(kind.rsplit(":", 1)[1], []).append(
            (_size(resource.get("inputs") or {}), _size(resource.get("outputs") or {}), _size(resource)))
    return {kind: {"count": len(rows), "inputs": sum(r[0] for r in rows) / len(rows),
                   "outputs": sum(r[1] for r in rows) / len(rows), "entry": sum(r[2] for r in rows) / len(rows)}
            for kind, rows in sorted(found.items())}


def floor_spec(project: Project) -> list[dict[str, Any]]:
    """The real stack's dynamic resources as the floor declares them: name, inputs+outputs, dependencies."""
    deployment = json.loads(project.cli(["stack", "export"], check=True).output)["deployment"]
    project.state_by_type = state_by_type(deployment)  # type: ignore[attr-defined]
    spec = []
    for resource in deployment.get("resources") or []:
        if not str(resource.get("type", "")).startswith("pulumi-python:dynamic"):
            continue
        props = {k: _for_floor(v) for k, v in (resource.get("outputs") or {}).items() if k != "__provider"}
        spec.append({"name": resource["urn"].rsplit("::", 1)[1], "props": props,
                     "depends_on": [urn.rsplit("::", 1)[1] for urn in resource.get("dependencies") or []]})
    return spec


def measure(project: Project, emulator: Emulator, resources: int) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    commands = {"up": ["up", "--yes", "--skip-preview"], "preview": ["preview", "--expect-no-changes"],
                "refresh": ["refresh", "--yes", "--skip-preview"], "destroy": ["destroy", "--yes", "--skip-preview"]}
    for op in OPS:
        emulator.reset_stats()
        marker = f"scale-{os.getpid()}-{time.monotonic_ns()}"
        with PeakMemory(marker, emulator.proc.pid) as memory:
            run = project.cli([*commands[op], "--suppress-progress", "--color", "never"], check=True, marker=marker)
        stats = emulator.stats()
        results[op] = {"seconds": run.seconds, "requests": stats["requests"],
                       "api_seconds": stats["busy_seconds"] / WORKER_THREADS,
                       "peak_mb": {k: v / 1024 for k, v in memory.peaks_kb.items()}}
        if op == "up":
            on_disk, whole = state_sizes(project.env, project.project)
            results[op] |= {"state_disk_bytes": on_disk, "state_bytes_per_resource": whole / resources}
            results[op]["floor_spec"] = floor_spec(project)
            results[op]["state_by_type"] = project.state_by_type  # type: ignore[attr-defined]
    return results


def run_size(n: int, fast: bool, latency_ms: float, workdir: Path) -> dict[str, Any]:
    mode = "fast" if fast else "default"
    units = units_for(n)
    resources = FIXED + PER_UNIT * units
    emulator = Emulator(latency_ms)
    try:
        real = Project(workdir / f"real-{mode}-{n}", emulator.url, fast, units=units)
        real_results = measure(real, emulator, resources)
        spec_path = workdir / f"floor-{mode}-{n}.json"
        spec_path.write_text(json.dumps(real_results["up"].pop("floor_spec")))
        floor = Project(workdir / f"floor-{mode}-{n}", emulator.url, fast, source=BENCH / "floor",
                        extra_env={"MAILINFRA_FLOOR_SPEC": str(spec_path)})
        floor_results = measure(floor, emulator, resources)
        floor_results["up"].pop("floor_spec")
    finally:
        emulator.stop()
    return {"n": resources, "mode": mode, "real": real_results, "floor": floor_results}


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Repeated runs of one size and mode as one row: per side and op, the run with the median time (every
    time kept under `all_seconds`). Single runs on this machine vary by about 10%."""
    row = dict(runs[0])
    for side in ("real", "floor"):
        row[side] = {}
        for op in OPS:
            ordered = sorted((run[side][op] for run in runs), key=lambda result: result["seconds"])
            row[side][op] = dict(ordered[(len(ordered) - 1) // 2],
                                 all_seconds=[run[side][op]["seconds"] for run in runs])
    return row


def table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| N | mode | op | real s | floor s | real/floor | API s | real ms/res | floor ms/res | requests "
             "| state on disk KB (real/floor) | state B/res (real/floor) | peak MB real: CLI/program/provider/emulator "
             "| peak MB floor: CLI/program/provider |",
             "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|"]
    for row in rows:
        n = row["n"]
        for op in OPS:
            r, f = row["real"][op], row["floor"][op]
            state = disk = ""
            if op == "up":
                disk = f"{r['state_disk_bytes'] / 1024:.0f}/{f['state_disk_bytes'] / 1024:.0f}"
                state = f"{r['state_bytes_per_resource']:.0f}/{f['state_bytes_per_resource']:.0f}"
            rm, fm = r["peak_mb"], f["peak_mb"]
            lines.append(
                f"| {n} | {row['mode']} | {op} | {r['seconds']:.2f} | {f['seconds']:.2f} | "
                f"{r['seconds'] / f['seconds']:.2f} | {r['api_seconds']:.2f} | {1000 * r['seconds'] / n:.1f} | "
                f"{1000 * f['seconds'] / n:.1f} | {r['requests']} | {disk} | {state} | "
                f"{rm['cli']:.0f}/{rm['program']:.0f}/{rm['provider']:.0f}/{rm['emulator']:.0f} | "
                f"{fm['cli']:.0f}/{fm['program']:.0f}/{fm['provider']:.0f} |")
    return lines


def type_table(row: dict[str, Any]) -> list[str]:
    """Bytes of state per resource, per type (the real stack at one N)."""
    lines = ["| type | resources | inputs B | outputs B | whole entry B |", "|---|---:|---:|---:|---:|"]
    for kind, size in row["real"]["up"]["state_by_type"].items():
        lines.append(f"| {kind} | {size['count']} | {size['inputs']:.0f} | {size['outputs']:.0f} | "
                     f"{size['entry']:.0f} |")
    return lines


def targets(rows: list[dict[str, Any]]) -> list[str]:
    """The issue's targets, computed from the rows measured."""
    found = []
    by = {(row["mode"], row["n"]): row for row in rows}
    for (mode, n), row in sorted(by.items()):
        ratio = row["real"]["up"]["seconds"] / row["floor"]["up"]["seconds"]
        found.append(f"- {mode} N={n}: up {ratio:.2f}x the engine floor; no-op preview "
                     f"{row['real']['preview']['requests']} requests")
    for mode in ("fast", "default"):
        sizes = sorted(n for m, n in by if m == mode)
        if len(sizes) > 1:
            small, large = by[(mode, sizes[0])], by[(mode, sizes[-1])]
            per = [r["real"]["up"]["seconds"] / r["n"] for r in (small, large)]
            found.append(f"- {mode}: up per resource at N={sizes[-1]} is {per[1] / per[0]:.2f}x that at "
                         f"N={sizes[0]} ({1000 * per[1]:.1f} vs {1000 * per[0]:.1f} ms)")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 500, 2000])
    parser.add_argument("--modes", nargs="+", choices=("default", "fast"), default=["fast", "default"])
    parser.add_argument("--latency-ms", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=1, help="runs per size and mode; the median is reported")
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "scale.md")
    args = parser.parse_args()
    # As on a user's machine, every process loads compiled modules from __pycache__: an environment that sets
    # PYTHONDONTWRITEBYTECODE (as some CI sandboxes do) would compile pulumi_mailinfra from source in each one.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    for package in ("pulumi_mailinfra", "mailinfra_cli", "bench"):
        compileall.compile_dir(BENCH.parent / package, quiet=1)
    workdir = Path(tempfile.mkdtemp(prefix="mailinfra-scale-"))
    rows = []
    for mode in args.modes:
        for n in args.sizes:
            rows.append(median_of([run_size(n, mode == "fast", args.latency_ms, workdir / f"run{i}")
                                   for i in range(args.repeats)]))
            print("\n".join(table(rows[-1:])[2:]), flush=True)
    first = rows[0]
    repeats = f"; the median of {args.repeats} runs (real and floor alternating)" if args.repeats > 1 else ""
    text = "\n".join([f"latency {args.latency_ms} ms per request; bench/campaign with `units` = (N - {FIXED}) / "
                      f"{PER_UNIT}{repeats}", "", *table(rows), "", *targets(rows), "",
                      f"State per resource type (N={first['n']}, {first['mode']} mode):", "",
                      *type_table(first)]) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
