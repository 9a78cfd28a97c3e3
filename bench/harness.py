"""What the benchmarks share: timing an operation of a stack with the emulator's request counter, the
dynamic-provider process's peak memory and the state's size, and the results table."""

from __future__ import annotations

import gzip
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

OPS = ("up", "preview", "refresh", "destroy")


def peak_kb(pid: int | str) -> int:
    """A process's peak resident memory (VmHWM), 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _dynamic_provider(pid: str) -> str | None:
    return "provider" if b"pulumi.dynamic" in Path(f"/proc/{pid}/cmdline").read_bytes() else None


class PeakRss:
    """Polls /proc and keeps the peak resident memory (VmHWM) of each kind of process `kind_of(pid)` names (None:
    not watched); by default the dynamic-provider process (`python -m pulumi.dynamic`), as `peak_kb`."""

    def __init__(self, kind_of: Callable[[str], str | None] = _dynamic_provider) -> None:
        self.kind_of = kind_of
        self.peaks_kb: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def peak_kb(self) -> int:
        return self.peaks_kb.get("provider", 0)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    kind = self.kind_of(pid)
                except OSError:
                    continue
                if kind:
                    self.peaks_kb[kind] = max(self.peaks_kb.get(kind, 0), peak_kb(pid))


def state_sizes(env: dict[str, str], project: str) -> tuple[int, int]:
    """(bytes on disk, bytes of JSON) of a project's state files on the file backend, gzip-compressed or not."""
    folder = Path(env["PULUMI_BACKEND_URL"].removeprefix("file://")) / ".pulumi" / "stacks" / project
    on_disk = whole = 0
    for path in [*folder.glob("*.json"), *folder.glob("*.json.gz")]:
        raw = path.read_bytes()
        on_disk += len(raw)
        whole += len(gzip.decompress(raw)) if path.suffix == ".gz" else len(raw)
    return on_disk, whole


def measure(
    stack: Any, emulator_url: str, env: dict[str, str], project: str, resources: int
) -> dict[str, dict[str, Any]]:
    """up, no-op preview, refresh and destroy of `stack`: seconds, API requests, provider peak RSS; state bytes
    per resource after up."""
    admin = httpx.Client(base_url=f"{emulator_url}/_emulator")
    results: dict[str, dict[str, Any]] = {}
    ops: dict[str, Callable[[], Any]] = {"up": stack.up, "preview": lambda: stack.preview(expect_no_changes=True),
                                         "refresh": stack.refresh, "destroy": stack.destroy}
    for op in OPS:
        admin.post("/stats/reset")
        with PeakRss() as rss:
            started = time.perf_counter()
            ops[op]()
            elapsed = time.perf_counter() - started
        results[op] = {"seconds": elapsed, "requests": admin.get("/stats").json()["requests"],
                       "peak_rss_mb": rss.peak_kb / 1024}
        if op == "up":
            results[op]["state_bytes_per_resource"] = state_sizes(env, project)[1] / resources
    return results


def table_header() -> list[str]:
    return ["| N | op | real s | engine floor s | API floor s | real/engine | requests (real/API) "
            "| state B/res (real/floor) | provider peak RSS MB (real/floor) |",
            "|---|---|---|---|---|---|---|---|---|"]


def table_rows(n: int, real: dict[str, Any], floor: dict[str, Any], api: dict[str, Any]) -> list[str]:
    rows = []
    for op in OPS:
        r, f, a = real[op], floor[op], api[op]
        state = f"{r['state_bytes_per_resource']:.0f}/{f['state_bytes_per_resource']:.0f}" if op == "up" else ""
        rows.append(f"| {n} | {op} | {r['seconds']:.2f} | {f['seconds']:.2f} | {a['seconds']:.2f} | "
                    f"{r['seconds'] / f['seconds']:.2f} | {r['requests']}/{a['requests']} | {state} | "
                    f"{r['peak_rss_mb']:.0f}/{f['peak_rss_mb']:.0f} |")
    return rows


def run_sizes(
    sizes: list[int], title: str, out: Path, start_server: Callable[[], Any],
    run_cli: Callable[[str, int, Any, Any], dict[str, Any]],
    programs: tuple[Callable[[int], Any], Callable[[int], Any]],
    run_api_floor: Callable[[int, Any], dict[str, Any]],
) -> None:
    """For each N: the real program, the engine floor and the API floor on a fresh emulator; the table to `out`."""
    real_program, floor_program = programs
    lines = [title, "", *table_header()]
    for n in sizes:
        server = start_server()
        try:
            real = run_cli("real", n, real_program(n), server)
            floor = run_cli("floor", n, floor_program(n), server)
            api = run_api_floor(n, server)
        finally:
            server.stop()
        lines += table_rows(n, real, floor, api)
        print("\n".join(lines[-4:]), flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
