"""Fault campaign: for each seed, a random schedule of faults on the emulator — 429 with Retry-After, 500/502/503,
timeouts (a request held past the client's timeout, then applied), connections dropped after the server applied
the write, latency spikes and garbage answers — across the three services, during an `up` of bench/campaign
(every resource type of the three services), an update that changes every resource (`revision: 2`) and a
`destroy`. After each faulty run, with the faults cleared, a plain `up` (or `destroy`) must converge:

- the emulator holds exactly what an uninterrupted run of the same revision leaves, object by object (ids and
  dates aside): no duplicate, no orphan, nothing missing;
- the state has no pending operation and the next `pulumi preview --refresh` shows no change;

and the faulty run itself must either succeed or fail correctly: a non-zero exit with an `error:` line, no
Python traceback, no secret value in its output, well before the hang limit.

Each seed on a fresh emulator and file backend, default mode, `mailinfra:timeoutSeconds` 2. One command:

    .venv/bin/python bench/fault_campaign.py --seeds 50          # the full campaign: writes bench/RELIABILITY.md
    .venv/bin/python bench/fault_campaign.py --seeds 2 --out X   # the reduced one CI runs
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crash_campaign import CM_TOKEN, GA_PASSWORD, OPS, Project, Reference, _check, _server, reference

from pulumi_mailinfra.emulator import EmulatorServer

BENCH = Path(__file__).resolve().parent
SERVICES = {"greenarrow": "^/ga/", "cleanmail": "^/cleanmail/", "elemta": "^/elemta/"}
CLIENT_TIMEOUT_S = 2.0
SETTINGS = {"MAILINFRA_TIMEOUT_SECONDS": str(CLIENT_TIMEOUT_S)}
HANG_LIMIT_S = 900.0  # a faulty run still going after this hung
KINDS = ("429", "5xx", "timeout", "drop", "spike", "garbage")
WEIGHTS = (2, 3, 2, 2, 2, 1)
# Every secret the campaign stack and its provider settings hold: none may appear in any output.
SECRETS = (GA_PASSWORD, CM_TOKEN, "relay-pw-Campaign1", "ceo-pw-Campaign1", "ops-pw-Campaign1", "sec-pw-Campaign1")


def schedule(rng: random.Random) -> list[dict[str, Any]]:
    """3 to 8 fault rules, each on one service, some on one method, each skipping a few matching requests first
    (so faults land anywhere in the run) and firing 1 to 3 times."""
    rules = []
    for _ in range(rng.randint(3, 8)):
        kind = rng.choices(KINDS, WEIGHTS)[0]
        rule: dict[str, Any] = {"path": SERVICES[rng.choice(list(SERVICES))], "skip": rng.randint(0, 12),
                                "times": rng.randint(1, 3)}
        method = rng.choice([None, None, "GET", "POST", "PUT", "PATCH", "DELETE"])
        if kind == "429":
            rule |= {"kind": "status", "status": 429, "retry_after": round(rng.uniform(0.1, 1.5), 2)}
        elif kind == "5xx":
            rule |= {"kind": "status", "status": rng.choice([500, 502, 503])}
        elif kind == "timeout":  # held past the client's timeout, then applied: the client cannot know it was
            rule |= {"kind": "latency", "latency_ms": CLIENT_TIMEOUT_S * 1000 + rng.randint(200, 1500),
                     "times": rng.randint(1, 2)}
        elif kind == "drop":
            rule |= {"kind": "drop_after_write", "times": rng.randint(1, 2)}
            method = rng.choice(["POST", "PUT", "PATCH", "DELETE"])
        elif kind == "spike":
            rule |= {"kind": "latency", "latency_ms": rng.randint(100, 1500), "times": rng.randint(1, 5)}
        else:
            rule |= {"kind": "garbage", "body": rng.choice(["html", "truncated_json", "success_false", "wrong_shape"]),
                     "apply": rng.random() < 0.5, "times": 1}
        if method:
            rule["method"] = method
        rules.append(rule)
    return rules


@dataclass
class Outcome:
    seed: int
    op: str
    rules: list[dict[str, Any]]
    injected: dict[str, int]  # faults that fired, by kind
    faulty: str  # "succeeded", "failed correctly", "failed badly"
    faulty_seconds: float
    faulty_error: str  # the faulty run's error lines
    converged: bool
    duplicates: int
    orphans: int
    missing: int
    preview_empty: bool
    problems: list[str] = field(default_factory=list)
    evidence: str = ""  # the end of a faulty run's output that failed badly, to see why


def judge(run_code: int, output: str) -> tuple[str, list[str]]:
    """How a faulty run ended, and what was wrong with how it failed."""
    problems = []
    if "Traceback (most recent call last)" in output:
        problems.append("a Python traceback in the output")
    leaked = [s for s in SECRETS if s in output]
    if leaked:
        problems.append(f"{len(leaked)} secret value(s) in the output")
    if run_code == 0:
        return ("succeeded" if not problems else "failed badly"), problems
    if "error:" not in output:
        problems.append("failed without an error line")
    return ("failed correctly" if not problems else "failed badly"), problems


def error_lines(output: str) -> str:
    said = [line.strip() for line in output.splitlines() if "error:" in line]
    return " / ".join(dict.fromkeys(said))[:1500]


def one_seed(seed: int, ref: Reference, workdir: Path, log: Any = print) -> list[Outcome]:
    rng = random.Random(f"faults/{seed}")
    server: EmulatorServer = _server()
    faults = server.app.state.faults
    outcomes = []
    try:
        project = Project(workdir / f"seed-{seed}", server.url, fast=False, extra_env=SETTINGS)
        for op in OPS:
            if op == "update":
                project.set_revision(2)
            action = project.destroy if op == "destroy" else project.up
            rules = schedule(rng)
            faults.reset_stats()
            for rule in rules:
                faults.add(rule)
            try:
                faulty = action(timeout=HANG_LIMIT_S)
                verdict, faulty_problems = judge(faulty.returncode, faulty.output)
                faulty_seconds, said = faulty.seconds, error_lines(faulty.output)
                evidence = faulty.output[-4000:] if verdict == "failed badly" else ""
            except RuntimeError as hung:  # Project.cli raises when the run outlives its timeout
                verdict, faulty_problems, faulty_seconds, said = "failed badly", [str(hung)], HANG_LIMIT_S, ""
                evidence = ""
            injected = faults.stats()["faults_injected"]
            faults.clear()
            final = action()
            counts, empty, problems = _check(project, server, ref.holds[op], op)
            if final.returncode != 0:
                problems.insert(0, f"the plain {op} after the faults failed: {error_lines(final.output)}")
            problems += [f"faulty run: {p}" for p in faulty_problems]
            outcome = Outcome(seed, op, rules, injected, verdict, round(faulty_seconds, 1), said, not problems,
                              counts["duplicates"], counts["orphans"], counts["missing"], empty, problems, evidence)
            ending = "converged" if outcome.converged else "NOT converged: " + "; ".join(problems)
            log(f"seed {seed} {op}: {sum(injected.values())} faults ({', '.join(sorted(injected))}), faulty run "
                f"{verdict} in {faulty_seconds:.1f}s, {ending}")
            outcomes.append(outcome)
    finally:
        server.stop()
    return outcomes


def campaign(seeds: int, workdir: Path, first_seed: int = 1, log: Any = print) -> tuple[list[Outcome], Reference]:
    ref = reference(False, workdir, extra_env=SETTINGS)  # the default mode, the campaign's client settings
    log(f"uninterrupted: up {ref.seconds['up']:.1f}s, update {ref.seconds['update']:.1f}s, destroy "
        f"{ref.seconds['destroy']:.1f}s")
    outcomes: list[Outcome] = []
    for seed in range(first_seed, first_seed + seeds):
        outcomes += one_seed(seed, ref, workdir, log)
    return outcomes, ref


PREAMBLE = """# Reliability report

Written by `bench/fault_campaign.py` (the full campaign: `--seeds 50`; CI runs 2 seeds in
tests/e2e/test_fault_campaign.py). The other reliability and security checks are tests that run in CI on every
change, each failing on the defect it guards against:

- garbage answers (HTML page, JSON cut short, `success: false`, another shape) on every operation of each service:
  tests/provider/test_garbage_answers.py, and through the engine tests/e2e/test_garbage_engine.py;
- property-based (hypothesis): `check` over every resource type (tests/unit/test_check_properties.py) and random
  requests to every emulator endpoint (tests/emulator/test_endpoint_properties.py);
- two stacks deploying at once and concurrent rule updates on one template: tests/e2e/test_concurrency.py;
- TLS verification, `mailinfra:caBundle`, `allowInsecureHttp`: tests/provider/test_tls.py;
- the secrets audit of a full lifecycle at `--debug -v=9`: tests/e2e/test_secrets_audit.py;
- the emulator's own hardening: tests/emulator/test_emulator_security.py.

## Fault campaign
"""


def report(outcomes: list[Outcome], ref: Reference, seeds: int, seconds: float) -> str:
    lines = [PREAMBLE, f"Seeds: {seeds} (each: a faulty `up`, update and `destroy` of bench/campaign, every resource "
             f"type of the three services). Default mode, client timeout {CLIENT_TIMEOUT_S:.0f} s, 6 attempts per "
             f"request. Whole campaign: {seconds / 60:.0f} min.", "",
             "| op | runs | faults injected | faulty run succeeded | failed correctly | failed badly | converged "
             "| duplicates | orphans | missing | next preview empty | faulty run s (median / max) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for op in OPS:
        rows = [o for o in outcomes if o.op == op]
        if not rows:
            continue
        durations = sorted(o.faulty_seconds for o in rows)
        lines.append(
            f"| {op} | {len(rows)} | {sum(sum(o.injected.values()) for o in rows)} | "
            f"{sum(o.faulty == 'succeeded' for o in rows)} | {sum(o.faulty == 'failed correctly' for o in rows)} | "
            f"{sum(o.faulty == 'failed badly' for o in rows)} | {sum(o.converged for o in rows)} | "
            f"{sum(o.duplicates for o in rows)} | {sum(o.orphans for o in rows)} | {sum(o.missing for o in rows)} | "
            f"{sum(o.preview_empty for o in rows)} | {durations[len(durations) // 2]:.1f} / {durations[-1]:.1f} |")
    by_kind: Counter[str] = Counter()
    for outcome in outcomes:
        by_kind.update(outcome.injected)
    lines += ["", "Faults injected by kind: " + ", ".join(f"{kind} {n}" for kind, n in sorted(by_kind.items())) + "."]
    failed = [o for o in outcomes if not o.converged]
    lines += ["", f"Convergence: {len(outcomes) - len(failed)}/{len(outcomes)}."]
    lines += [f"- seed {o.seed} {o.op}: {'; '.join(o.problems)[:600]}" for o in failed]
    said = Counter(o.faulty_error.split(" / ")[0][:160] for o in outcomes if o.faulty == "failed correctly")
    if said:
        lines += ["", "How the faulty runs that failed said so (first error line, most frequent first):", ""]
        lines += [f"- {n} x `{text}`" for text, n in said.most_common(12)]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=BENCH / "RELIABILITY.md")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (projects, backends) to inspect")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mailinfra-faults-"))
    started = time.perf_counter()
    try:
        outcomes, ref = campaign(args.seeds, workdir, args.first_seed)
    finally:
        if args.keep:
            print(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    text = report(outcomes, ref, args.seeds, time.perf_counter() - started)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    print(text)
    return 0 if all(o.converged and o.faulty != "failed badly" for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
