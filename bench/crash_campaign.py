"""Crash campaign: SIGKILL the Pulumi CLI (and every process it started) at a random point of an `up`, an update
and a `destroy` of bench/campaign (every resource type of the three services), then recover the documented way
(`mailinfra recover`, then a plain `pulumi up` / `pulumi destroy`) and check that it converged:

- the emulator holds exactly what an uninterrupted run of the same revision leaves (compared object by object,
  ids and dates aside): no duplicate, no orphan, nothing missing;
- the state has no pending operation, and the next `pulumi preview --refresh` shows no change.

In the default mode and in fast mode (PULUMI_SKIP_CHECKPOINTS: the state is written once, at the end), each seed
on a fresh emulator and backend. The kill point: after the k-th API write, k uniform over the writes an
uninterrupted run sends.

    .venv/bin/python bench/crash_campaign.py --seeds 20            # the full campaign (bench/RESULTS.md)
    .venv/bin/python bench/crash_campaign.py --seeds 1 --modes fast  # one seed of one mode
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailinfra_cli.devtools import offline_env
from mailinfra_cli.pulumi_cli import project_name
from pulumi_mailinfra.emulator import EmulatorServer

CAMPAIGN_PROJECT = Path(__file__).resolve().parent / "campaign"
STACK = "campaign"
MODES = ("default", "fast")
OPS = ("up", "update", "destroy")
GA_USER, GA_PASSWORD, CM_TOKEN = "admin", "campaign-ga-pw", "campaign-cm-token"
MARKER = "MAILINFRA_CAMPAIGN_RUN"  # set in every process a run starts, so none survives its kill
# Kinds that are traffic, not configuration (test messages, the mailbox), left out of the comparison.
TRAFFIC_KINDS = {"task", "mail", "upload", "message", "health", "delivery"}
# Fields that differ between two runs making the same object: ids (and references by id), dates, generated values.
VOLATILE = re.compile(r"(^id$|^owner$|Id$|_id$|Ids$|_ids$|[Dd]ate|At$|^created|^updated|[Tt]ime|[Kk]ey$|^txt|^records$"
                      r"|^lastUse$|^expiration$)")


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in sorted(value.items()) if not VOLATILE.search(k)}
    if isinstance(value, list):
        return sorted((_stable(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def inventory(server: EmulatorServer) -> Counter[str]:
    """What the emulator holds, one entry per object, comparable across runs (ids, dates, token values aside).
    The default policy of a soft-deleted domain is counted without its settings: a DomainDefaultPolicy restores
    on delete the settings it found when it took the policy over, and one whose create was killed after its
    write found its own (docs/assumptions.md)."""
    found: Counter[str] = Counter()
    for service, backend in (("greenarrow", server.greenarrow), ("cleanmail", server.cleanmail)):
        held = backend.inventory()
        deleted = {d["id"] for d in held.get("domain", []) if d.get("status") == "DELETED"}
        for kind, docs in held.items():
            if kind in TRAFFIC_KINDS:
                continue
            for doc in docs:
                if kind == "policy" and doc.get("domainId") in deleted and doc.get("name", "").startswith("Politique"):
                    doc = {"name": doc["name"]}
                shown = {k: v for k, v in doc.items() if not (kind == "token" and k == "value")}
                found[f"{service}/{kind} {json.dumps(_stable(shown), sort_keys=True)}"] += 1
    return found


def writes(server: EmulatorServer) -> int:
    """API requests that change something, since the emulator started."""
    by_method = server.app.state.faults.stats()["by_method"]
    return sum(n for method, n in by_method.items() if method not in {"GET", "HEAD"})


def _diff(got: Counter[str], want: Counter[str]) -> list[str]:
    extra = [f"+{n} {key}" for key, n in (got - want).items()]
    missing = [f"-{n} {key}" for key, n in (want - got).items()]
    return [line[:2000] for line in extra + missing]


def marked_pids(run_id: str) -> list[int]:
    """The processes carrying this run's marker in their environment (the CLI, the language host, the program,
    providers)."""
    needle = f"{MARKER}={run_id}".encode()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if needle in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                found.append(int(pid))
        except OSError:
            continue
    return found


def _kill_marked(run_id: str) -> None:
    """SIGKILL every process of this run."""
    for pid in marked_pids(run_id):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


@dataclass
class Run:
    returncode: int
    seconds: float
    killed: bool
    output: str


class Project:
    """A project (bench/campaign by default) in its own folder and file backend, driven by the plain `pulumi` CLI,
    against the emulator at `url`."""

    def __init__(self, root: Path, url: str, fast: bool, units: int = 1, source: Path = CAMPAIGN_PROJECT,
                 extra_env: dict[str, str] | None = None) -> None:
        self.dir = root / "project"
        shutil.copytree(source, self.dir, ignore=shutil.ignore_patterns("__pycache__"))
        bench = Path(__file__).resolve().parent
        self.env = offline_env(root / "backend", fast=fast, extra={
            "GREENARROW_URL": url, "GREENARROW_USERNAME": GA_USER, "GREENARROW_PASSWORD": GA_PASSWORD,
            "CLEANMAIL_URL": f"{url}/cleanmail", "CLEANMAIL_TOKEN": CM_TOKEN, "ELEMTA_URL": f"{url}/elemta",
            "PYTHONPATH": os.pathsep.join([str(bench.parent), str(bench)]), **(extra_env or {})})
        self.pulumi = shutil.which("pulumi", path=self.env["PATH"]) or "pulumi"
        self.project = project_name(self.dir)
        self.cli(["stack", "init"], check=True)
        if source == CAMPAIGN_PROJECT:
            self.cli(["config", "set", "units", str(units)], check=True)
            self.set_revision(1)

    def set_revision(self, revision: int) -> None:
        self.cli(["config", "set", "revision", str(revision)], check=True)

    def cli(self, args: list[str], *, check: bool = False, kill_when: Callable[[], bool] | None = None,
            timeout: float = 3600, marker: str | None = None) -> Run:
        """`pulumi <args>`; with `kill_when`, SIGKILLed (with every process it started) as soon as that is true."""
        run_id = marker or f"{os.getpid()}-{time.monotonic_ns()}"
        env = {**self.env, MARKER: run_id}
        started = time.perf_counter()
        killed = False
        with tempfile.TemporaryFile("w+") as output:
            proc = subprocess.Popen([self.pulumi, *args, "--non-interactive", "--stack", STACK], cwd=self.dir,
                                    env=env, stdout=output, stderr=subprocess.STDOUT, text=True,
                                    start_new_session=True)
            while proc.poll() is None:
                if kill_when is not None and kill_when():
                    os.killpg(proc.pid, signal.SIGKILL)
                    _kill_marked(run_id)
                    killed = True
                    break
                if time.perf_counter() - started > timeout:
                    os.killpg(proc.pid, signal.SIGKILL)
                    raise RuntimeError(f"pulumi {' '.join(args)} hung for {timeout} s")
                time.sleep(0.002)
            proc.wait()
            _kill_marked(run_id)  # a plugin the CLI left behind must not outlive its run
            output.seek(0)
            run = Run(proc.returncode, time.perf_counter() - started, killed, output.read())
        if check and run.returncode != 0:
            raise RuntimeError(f"pulumi {' '.join(args)} failed:\n{run.output[-3000:]}")
        return run

    def up(self, **kw: Any) -> Run:
        return self.cli(["up", "--yes", "--skip-preview", "--suppress-progress", "--color", "never"], **kw)

    def destroy(self, **kw: Any) -> Run:
        return self.cli(["destroy", "--yes", "--skip-preview", "--suppress-progress", "--color", "never"], **kw)

    def state(self) -> dict[str, Any]:
        exported = self.cli(["stack", "export"])
        return json.loads(exported.output) if exported.returncode == 0 else {}

    def recover(self) -> Run:
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "mailinfra_cli", "recover", "--stack", STACK, "--cwd",
                               str(self.dir)], env=self.env, capture_output=True, text=True, timeout=900, check=False)
        return Run(proc.returncode, time.perf_counter() - started, False, proc.stdout + proc.stderr)

    def preview_is_empty(self) -> tuple[bool, str]:
        run = self.cli(["preview", "--refresh", "--expect-no-changes", "--suppress-progress", "--color", "never"])
        return run.returncode == 0, run.output[-2000:]


def _server() -> EmulatorServer:
    return EmulatorServer(ga_username=GA_USER, ga_password=GA_PASSWORD, cleanmail_tokens=(CM_TOKEN,),
                          elemta_delivery_delay=0.05).start()


@dataclass
class Reference:
    """An uninterrupted run per operation: its duration and what the emulator holds after it."""

    seconds: dict[str, float] = field(default_factory=dict)
    writes: dict[str, int] = field(default_factory=dict)
    holds: dict[str, Counter[str]] = field(default_factory=dict)


def reference(fast: bool, workdir: Path, extra_env: dict[str, str] | None = None) -> Reference:
    ref = Reference()
    server = _server()
    try:
        project = Project(workdir / f"reference-{'fast' if fast else 'default'}", server.url, fast,
                          extra_env=extra_env)
        ref.holds["before"] = inventory(server)
        for op, action in (("up", project.up), ("update", project.up), ("destroy", project.destroy)):
            if op == "update":
                project.set_revision(2)
            before = writes(server)
            run = action(check=True)
            ref.seconds[op], ref.holds[op], ref.writes[op] = run.seconds, inventory(server), writes(server) - before
    finally:
        server.stop()
    return ref


@dataclass
class Outcome:
    mode: str
    seed: int
    op: str
    kill_after: int  # the write request after which the CLI was killed
    killed: bool  # False: the run had finished before its kill point
    pending_operations: int  # what the killed run left in the state
    recovered: bool
    converged: bool
    duplicates: int
    orphans: int
    missing: int
    preview_empty: bool
    problems: list[str]


def _pending(state: dict[str, Any]) -> int:
    return len((state.get("deployment") or {}).get("pending_operations") or [])


def _check(project: Project, server: EmulatorServer, want: Counter[str], op: str) -> tuple[dict[str, int], bool,
                                                                                             list[str]]:
    got = inventory(server)
    extra, missing = got - want, want - got
    kinds_want = Counter(key.split(" ", 1)[0] for key in want.elements())
    kinds_got = Counter(key.split(" ", 1)[0] for key in got.elements())
    # An extra object of a kind whose count grew is a duplicate or orphan of a resource; one replacing a missing
    # object of its kind (same count) is a wrong value.
    surplus = sum((kinds_got - kinds_want).values())
    counts = {"duplicates": sum(n - 1 for key, n in got.items() if n > 1 and want[key] < n),
              "orphans": surplus, "missing": sum((kinds_want - kinds_got).values())}
    problems = _diff(got, want)
    state = project.state()
    if _pending(state):
        problems.append(f"{_pending(state)} pending operations left in the state")
    empty, text = (True, "") if op == "destroy" else project.preview_is_empty()
    if not empty:
        problems.append(f"the next preview is not empty: {text[-800:]}")
    if op == "destroy":
        left = [r["urn"] for r in (state.get("deployment") or {}).get("resources") or []
                if r.get("custom") and not str(r.get("type", "")).startswith("pulumi:providers:")]
        if left:
            problems.append(f"{len(left)} resources left in the state after destroy")
    return counts, empty, problems if (extra or missing or problems) else []


def one_seed(mode: str, seed: int, ref: Reference, workdir: Path, log: Any = print) -> Iterator[Outcome]:
    """Kill an up, then an update, then a destroy of one stack, each at its seeded point; recover after each."""
    fast = mode == "fast"
    rng = random.Random(f"{mode}/{seed}")
    server = _server()
    try:
        project = Project(workdir / f"{mode}-{seed}", server.url, fast)
        for op in OPS:
            if op == "update":
                project.set_revision(2)
            action = project.destroy if op == "destroy" else project.up
            # The kill point: after the k-th of the writes an uninterrupted run sends (uniform), so every seed
            # lands while objects are being made, changed or deleted, not in the CLI's start-up.
            kill_after = rng.randint(1, max(1, ref.writes[op]))
            start = writes(server)
            killed_run = action(kill_when=lambda start=start, k=kill_after: writes(server) - start >= k)
            pending = _pending(project.state())
            recovered = project.recover()
            final = action()
            counts, empty, problems = _check(project, server, ref.holds[op], op)
            if recovered.returncode != 0:
                problems.insert(0, f"recover failed: {recovered.output[-800:]}")
            if final.returncode != 0:
                said = [line.strip() for line in final.output.splitlines() if "error" in line.lower()]
                problems.insert(0, f"the plain {op} after recovery failed: {' / '.join(said)[-1500:]}")
            outcome = Outcome(mode, seed, op, kill_after, killed_run.killed, pending, recovered.returncode == 0,
                              not problems, counts["duplicates"], counts["orphans"], counts["missing"], empty, problems)
            state = "killed" if outcome.killed else "finished first"
            log(f"{mode} seed {seed} {op}: kill after write {kill_after}/{ref.writes[op]} ({state}), "
                f"pending {pending}, {'converged' if outcome.converged else 'NOT converged: ' + '; '.join(problems)}")
            yield outcome
    finally:
        server.stop()


def campaign(seeds: int, modes: tuple[str, ...], workdir: Path, first_seed: int = 1,
             log: Any = print) -> tuple[list[Outcome], dict[str, Reference]]:
    outcomes: list[Outcome] = []
    refs: dict[str, Reference] = {}
    for mode in modes:
        refs[mode] = reference(mode == "fast", workdir)
        log(f"{mode}: uninterrupted up {refs[mode].seconds['up']:.1f}s, update {refs[mode].seconds['update']:.1f}s, "
            f"destroy {refs[mode].seconds['destroy']:.1f}s")
        for seed in range(first_seed, first_seed + seeds):
            outcomes += list(one_seed(mode, seed, refs[mode], workdir, log))
    return outcomes, refs


def report(outcomes: list[Outcome], refs: dict[str, Reference], seeds: int) -> str:
    lines = [f"Seeds per operation and mode: {seeds}. Kill point: after the k-th API write, k uniform over the "
             "writes of an uninterrupted run (counted below with its duration).",
             "", "| mode | op | runs | killed mid-run | left pending ops | recovered | converged | duplicates "
             "| orphans | missing | next preview empty | uninterrupted: writes, s |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for mode, ref in refs.items():
        for op in OPS:
            rows = [o for o in outcomes if o.mode == mode and o.op == op]
            if not rows:
                continue
            lines.append(
                f"| {mode} | {op} | {len(rows)} | {sum(o.killed for o in rows)} | "
                f"{sum(o.pending_operations > 0 for o in rows)} | {sum(o.recovered for o in rows)} | "
                f"{sum(o.converged for o in rows)} | {sum(o.duplicates for o in rows)} | "
                f"{sum(o.orphans for o in rows)} | {sum(o.missing for o in rows)} | "
                f"{sum(o.preview_empty for o in rows)} | {ref.writes[op]}, {ref.seconds[op]:.1f} |")
    failed = [o for o in outcomes if not o.converged]
    lines += ["", f"Convergence: {len(outcomes) - len(failed)}/{len(outcomes)}."]
    lines += [f"- {o.mode} seed {o.seed} {o.op}: {'; '.join(o.problems)[:600]}" for o in failed]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20, help="seeds per mode (each kills an up, update, destroy)")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "crash_campaign.md")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (projects, backends) to inspect")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mailinfra-crash-"))
    try:
        outcomes, refs = campaign(args.seeds, tuple(args.modes), workdir, args.first_seed)
    finally:
        if args.keep:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    text = report(outcomes, refs, args.seeds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    print(text)
    return 0 if all(o.converged for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
