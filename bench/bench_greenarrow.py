"""Benchmark: N relay servers + a few templates, under the real CLI, against the emulator with a fixed
injected latency; side by side with the engine floor (same resources through a no-op dynamic provider)
and the API floor (a plain httpx script making the same calls).

    .venv/bin/python bench/bench_greenarrow.py --sizes 50 200 500 --latency-ms 5

Reports per operation: wall time, HTTP requests (emulator counter), state bytes per resource, peak RSS
of the dynamic-provider process. Targets: no-op preview sends 0 requests; `up` within 1.2x of the engine
floor; state within 1 KB per resource of the floor."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import measure, run_sizes

from mailinfra_cli.devtools import offline_env, select_stack
from pulumi_mailinfra.emulator import EmulatorServer

USER, PASSWORD = "admin", "bench-pw"
TEMPLATES = 3


def relay_props(i: int, tag: str) -> dict[str, Any]:
    return {
        "name": f"{tag}-relay-{i}",
        "source_ip": {"ip": f"10.{i // 250}.{i % 250}.1", "hostname": f"out{i}.example.com"},
        "destination": {"hostname": f"dest{i}.example.net", "port": 587, "username": "relay",
                        "password": f"pw-{i}"},
        "throttle_limits": {"max_concurrent_connections": 4, "max_messages_per_hour": 1000},
        "redirect": None,
    }


def template_props(i: int, tag: str) -> dict[str, Any]:
    return {"name": f"{tag}-template-{i}", "default": {"max_concurrent_connections": 5, "max_messages_per_hour": 0},
            "rules": [{"domains": [f"d{i}.example.com"], "max_concurrent_connections": 2,
                       "max_messages_per_hour": 60, "throttle_program": None}]}


def real_program(n: int) -> Callable[[], None]:
    def program() -> None:
        from pulumi_mailinfra import greenarrow

        for i in range(n):
            greenarrow.RelayServer(f"relay-{i}", **relay_props(i, "real"))
        for i in range(TEMPLATES):
            greenarrow.ThrottlingTemplate(f"template-{i}", **template_props(i, "real"))

    return program


def floor_program(n: int) -> Callable[[], None]:
    def program() -> None:
        import pulumi
        from noop_provider import NoopResource

        for i in range(n):
            props = relay_props(i, "floor")
            props["destination"] = {**props["destination"], "password": pulumi.Output.secret("pw")}
            NoopResource(f"relay-{i}", props)
        for i in range(TEMPLATES):
            NoopResource(f"template-{i}", template_props(i, "floor"))

    return program


def run_cli(label: str, n: int, program: Callable[[], None], server: EmulatorServer, workdir: Path,
            env: dict[str, str]) -> dict[str, dict[str, Any]]:
    from pulumi import automation as auto

    project = f"bench-{label}-{n}"
    (workdir / project).mkdir()
    (workdir / project / "Pulumi.yaml").write_text(f"name: {project}\nruntime: python\n")
    stack = select_stack(workdir / project, "bench", env, program)
    stack.set_config("mailinfra:greenarrowUrl", auto.ConfigValue(server.url))
    stack.set_config("mailinfra:greenarrowUsername", auto.ConfigValue(USER))
    stack.set_config("mailinfra:greenarrowPassword", auto.ConfigValue(PASSWORD, secret=True))
    results = measure(stack, server.url, env, project, n + TEMPLATES)
    stack.workspace.remove_stack("bench")
    return results


def run_api_floor(n: int, server: EmulatorServer) -> dict[str, dict[str, Any]]:
    """The same calls a perfect client would make, with 4 threads like the provider server."""
    from concurrent.futures import ThreadPoolExecutor

    api = f"{server.url}/ga/api/v3/eng"
    client = httpx.Client(auth=(USER, PASSWORD), limits=httpx.Limits(max_connections=8))
    admin = httpx.Client(base_url=f"{server.url}/_emulator")
    results: dict[str, dict[str, Any]] = {}
    ids: dict[str, list[int]] = {}

    def timed(op: str, calls: list[Callable[[], Any]]) -> list[Any]:
        admin.post("/stats/reset")
        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            out = list(pool.map(lambda c: c(), calls))
        results[op] = {"seconds": time.perf_counter() - started, "requests": admin.get("/stats").json()["requests"]}
        return out

    created = timed("up", [
        *[lambda i=i: client.post(f"{api}/relay_servers", json={"relay_server": relay_props(i, "api")})
          for i in range(n)],
        *[lambda i=i: client.post(f"{api}/throttling_templates", json={"throttling_template": template_props(i, "api")})
          for i in range(TEMPLATES)],
    ])
    ids["relay_servers"] = [r.json()["data"]["relay_server"]["id"] for r in created[:n]]
    ids["throttling_templates"] = [r.json()["data"]["throttling_template"]["id"] for r in created[n:]]
    results["preview"] = {"seconds": 0.0, "requests": 0}
    every = [(kind, i) for kind, values in ids.items() for i in values]
    timed("refresh", [lambda k=k, i=i: client.get(f"{api}/{k}/{i}") for k, i in every])
    timed("destroy", [lambda k=k, i=i: client.delete(f"{api}/{k}/{i}") for k, i in every])
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--latency-ms", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "greenarrow.md")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="mailinfra-bench-"))
    env = offline_env(workdir / "backend", extra={"PYTHONPATH": os.pathsep.join(sys.path[:2])})
    title = f"latency {args.latency_ms} ms per request; {TEMPLATES} templates besides N relay servers"
    run_sizes(args.sizes, title, args.out,
              lambda: EmulatorServer(ga_username=USER, ga_password=PASSWORD, latency_ms=args.latency_ms).start(),
              lambda label, n, program, server: run_cli(label, n, program, server, workdir, env),
              (real_program, floor_program), run_api_floor)
    return 0


if __name__ == "__main__":
    sys.exit(main())
