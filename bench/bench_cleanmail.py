"""Benchmark: N Cleanmail domains, each with a policy, DKIM and 5 users (8 resources a domain), under the real
CLI against the emulator with a fixed injected latency; beside the engine floor (the same resources through
no-op dynamic providers that record the same inputs and computed outputs, so the same state) and the API
floor (a plain httpx script making the same calls, 4 threads).

    .venv/bin/python bench/bench_cleanmail.py --sizes 20 100 --latency-ms 5

Same columns and targets as bench_greenarrow.py: no-op preview 0 requests, up within 1.2x of the engine
floor, requests equal to the API floor."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import measure, run_sizes

from mailinfra_cli.devtools import offline_env, select_stack
from pulumi_mailinfra.emulator import EmulatorServer

TOKEN = "bench-token"
USERS = 5
PER_DOMAIN = 3 + USERS


def domain_body(i: int, tag: str) -> dict[str, Any]:
    return {"name": f"{tag}{i}.bench.example", "status": "ENABLED", "quarantine": True, "retention": True,
            "archive": False, "defaultLanguage": "EN", "outgoingSubnets": [f"10.{i // 250}.{i % 250}.0/24"]}


def real_program(n: int) -> Callable[[], None]:
    def program() -> None:
        from pulumi_mailinfra import cleanmail

        for i in range(n):
            domain = cleanmail.Domain(f"domain-{i}", name=f"real{i}.bench.example", default_language="EN",
                                      quarantine=True, retention=True, archive=False,
                                      outgoing_subnets=[f"10.{i // 250}.{i % 250}.0/24"])
            cleanmail.DomainPolicy(f"policy-{i}", domain_id=domain.id, name="executives", quarantine=True,
                                   retention=False, incoming=True, spam_score=4.0)
            cleanmail.DomainDkim(f"dkim-{i}", domain_id=domain.id)
            for u in range(USERS):
                cleanmail.User(f"user-{i}-{u}", domain_id=domain.id, email=f"u{u}@real{i}.bench.example",
                               password=f"pw-{i}-{u}")

    return program


def floor_program(n: int) -> Callable[[], None]:
    def program() -> None:
        import pulumi
        from noop_provider import (
            NoopDkimProvider,
            NoopDomainProvider,
            NoopPolicyProvider,
            NoopResource,
            NoopUserProvider,
        )

        for i in range(n):  # the same dependency graph as the real program: the rest waits for the domain
            domain = NoopResource(f"domain-{i}", {**domain_body(i, "floor"), "ignore_mx": False}, NoopDomainProvider)
            NoopResource(f"policy-{i}", {"domain_id": domain.id, "name": "executives", "quarantine": True,
                                         "retention": False, "incoming": True, "spam_score": 4.0}, NoopPolicyProvider)
            NoopResource(f"dkim-{i}", {"domain_id": domain.id, "selector": "protect"}, NoopDkimProvider)
            for u in range(USERS):
                NoopResource(f"user-{i}-{u}", {"domain_id": domain.id, "email": f"u{u}@floor{i}.bench.example",
                                               "password": pulumi.Output.secret("pw")}, NoopUserProvider)

    return program


def run_cli(label: str, n: int, program: Callable[[], None], server: EmulatorServer, workdir: Path,
            env: dict[str, str]) -> dict[str, dict[str, Any]]:
    from pulumi import automation as auto

    project = f"bench-cleanmail-{label}-{n}"
    (workdir / project).mkdir()
    (workdir / project / "Pulumi.yaml").write_text(f"name: {project}\nruntime: python\n")
    stack = select_stack(workdir / project, "bench", env, program)
    stack.set_config("mailinfra:cleanmailUrl", auto.ConfigValue(f"{server.url}/cleanmail"))
    stack.set_config("mailinfra:cleanmailToken", auto.ConfigValue(TOKEN, secret=True))
    results = measure(stack, server.url, env, project, n * PER_DOMAIN)
    stack.workspace.remove_stack("bench")
    return results


def run_api_floor(n: int, server: EmulatorServer) -> dict[str, dict[str, Any]]:
    """The calls a perfect client makes: the domains first (the rest need their ids), then the rest."""
    api = f"{server.url}/cleanmail"
    client = httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, limits=httpx.Limits(max_connections=8))
    admin = httpx.Client(base_url=f"{server.url}/_emulator")
    results: dict[str, dict[str, Any]] = {}

    def run(calls: list[Callable[[], Any]]) -> list[Any]:
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(lambda c: c(), calls))

    admin.post("/stats/reset")
    started = time.perf_counter()
    domains = [r.json()["id"] for r in run([lambda i=i: client.post(f"{api}/domains", json=domain_body(i, "api"))
                                            for i in range(n)])]
    policy = {"name": "executives", "quarantine": True, "retention": False, "incoming": True, "spamScore": 4.0}
    made = run([
        *[lambda d=d: client.post(f"{api}/domains/{d}/policies", json=policy) for d in domains],
        *[lambda d=d: client.post(f"{api}/domains/{d}/dkim") for d in domains],
        *[lambda i=i, d=d, u=u: client.post(f"{api}/users", json={
            "email": f"u{u}@api{i}.bench.example", "status": "ENABLED", "domainId": d, "password": "pw"})
          for i, d in enumerate(domains) for u in range(USERS)],
    ])
    results["up"] = {"seconds": time.perf_counter() - started, "requests": admin.get("/stats").json()["requests"]}
    policies = [r.json()["id"] for r in made[:n]]
    users = [r.json()["id"] for r in made[2 * n:]]
    results["preview"] = {"seconds": 0.0, "requests": 0}
    for op, verb in (("refresh", "GET"), ("destroy", "DELETE")):
        admin.post("/stats/reset")
        started = time.perf_counter()
        run([*[lambda u=u, v=verb: client.request(v, f"{api}/users/{u}") for u in users],
             *[lambda p=p, v=verb: client.request(v, f"{api}/policies/{p}") for p in policies],
             *[lambda d=d, v=verb: client.request(v, f"{api}/domains/{d}/dkim") for d in domains]])
        run([lambda d=d, v=verb: client.request(v, f"{api}/domains/{d}") for d in domains])
        results[op] = {"seconds": time.perf_counter() - started, "requests": admin.get("/stats").json()["requests"]}
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--latency-ms", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "cleanmail.md")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mailinfra-bench-"))
    env = offline_env(workdir / "backend", extra={"PYTHONPATH": os.pathsep.join(sys.path[:2])})
    title = (f"latency {args.latency_ms} ms per request; N domains, each with a policy, DKIM and {USERS} users "
             f"({PER_DOMAIN} resources a domain)")
    run_sizes(args.sizes, title, args.out,
              lambda: EmulatorServer(cleanmail_tokens=(TOKEN,), latency_ms=args.latency_ms).start(),
              lambda label, n, program, server: run_cli(label, n, program, server, workdir, env),
              (real_program, floor_program), run_api_floor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
