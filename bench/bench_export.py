"""Benchmark: `mailinfra export` and its round trip at N objects. The emulator is filled through the API (half
GreenArrow relay servers, half Cleanmail: domains with 4 users each), then `mailinfra export` writes the program,
then that program is `up` as a new stack (every object taken over: none may be created or deleted), then a
preview (must be empty).

    .venv/bin/python bench/bench_export.py --sizes 100 500
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailinfra_cli.devtools import offline_env, select_stack
from pulumi_mailinfra.cleanmail.client import CleanmailClient
from pulumi_mailinfra.config import ServiceSettings
from pulumi_mailinfra.emulator import EmulatorServer
from pulumi_mailinfra.greenarrow.client import GreenArrowClient

USER, PASSWORD, TOKEN = "admin", "bench-pw", "bench-token"
USERS_PER_DOMAIN = 4


def fill(url: str, n: int) -> int:
    """N objects: n/2 relay servers, then domains of 1 + 4 users until n. Returns how many were made."""
    ga = GreenArrowClient(ServiceSettings(url=url, username=USER, password=PASSWORD))
    cm = CleanmailClient(ServiceSettings(url=f"{url}/cleanmail", token=TOKEN))
    made = 0
    for i in range(n // 2):
        ga.create("/relay_servers", {"relay_server": {
            "name": f"relay-{i}", "source_ip": {"ip": f"192.0.{i // 250}.{i % 250 + 1}", "hostname": f"r{i}.example"},
            "destination": {"hostname": "smtp.example.net", "port": 25, "username": None, "password": None},
            "throttle_limits": {"max_concurrent_connections": 0, "max_messages_per_hour": 0}, "redirect": None}})
        made += 1
    d = 0
    while made < n:
        domain = cm.create("/domains", {"name": f"d{d}.bench.example", "status": "ENABLED", "quarantine": True,
                                        "retention": True, "archive": False, "defaultLanguage": "EN"})
        made += 1
        for u in range(min(USERS_PER_DOMAIN, n - made)):
            cm.create("/users", {"domainId": domain["id"], "email": f"u{u}@d{d}.bench.example", "status": "ENABLED"})
            made += 1
        d += 1
    return made


def counts(url: str) -> tuple[int, int, int]:
    ga = GreenArrowClient(ServiceSettings(url=url, username=USER, password=PASSWORD))
    cm = CleanmailClient(ServiceSettings(url=f"{url}/cleanmail", token=TOKEN))
    return (len(list(ga.list_all("/relay_servers", "relay_servers"))), len(list(cm.list_all("/domains", "domains"))),
            len(list(cm.list_all("/users", "users"))))


def run(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
        root = Path(folder)
        server = EmulatorServer(state_path=str(root / "emulator.sqlite"), ga_username=USER, ga_password=PASSWORD,
                                cleanmail_tokens=(TOKEN,)).start()
        try:
            made = fill(server.url, n)
            before = counts(server.url)
            env = offline_env(root / "backend", extra={"GREENARROW_USERNAME": USER, "GREENARROW_PASSWORD": PASSWORD,
                                                       "CLEANMAIL_TOKEN": TOKEN, "GREENARROW_URL": server.url,
                                                       "CLEANMAIL_URL": f"{server.url}/cleanmail"})
            started = time.monotonic()
            subprocess.run([sys.executable, "-m", "mailinfra_cli", "export", "--url", server.url, "--out",
                            str(root / "exported")], env=env, check=True, capture_output=True)
            export_seconds = time.monotonic() - started
            stack = select_stack(root / "exported", "adopted", env)
            started = time.monotonic()
            up = stack.up()
            up_seconds = time.monotonic() - started
            changes = up.summary.resource_changes or {}
            assert set(changes) == {"create"}, changes  # each object new to the stack, taken over
            assert counts(server.url) == before, "the round trip created or deleted objects"
            started = time.monotonic()
            stack.preview(expect_no_changes=True)
            preview_seconds = time.monotonic() - started
        finally:
            server.stop()
    return {"objects": made, "resources": changes["create"] - 1, "export_s": export_seconds,
            "round_trip_up_s": up_seconds, "preview_s": preview_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500])
    args = parser.parse_args()
    print("| objects made | resources exported | export | round-trip up | preview after |")
    print("|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        result = run(n)
        print(f"| {result['objects']:.0f} | {result['resources']:.0f} | {result['export_s']:.1f} s | "
              f"{result['round_trip_up_s']:.1f} s | {result['preview_s']:.1f} s |", flush=True)


if __name__ == "__main__":
    main()
