"""Benchmark: `mailinfra export` and its round trip over every exportable type. The emulator is filled through
the API with N units of `mailinfra_cli/hand_filled.py` (each: a template with two rules, two relays, two routes,
a domain with three platforms and six secrets, policies, an account with its options, signature and sender list,
DKIM, aliases, an option, an email alias, two filters, a sender list with an expired rule, users access, an
administrator with a token, and a soft-deleted domain), then `mailinfra export` writes the program, then that
program is `up` as a new stack with the printed secrets set (every object taken over: every record on the server
must be unchanged), then a preview (must be empty). `--latency-ms` adds that much to every API request.

    .venv/bin/python bench/bench_export.py --units 3 15 --latency-ms 20
"""

from __future__ import annotations

import argparse
import copy
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi import automation as auto

from mailinfra_cli import hand_filled
from mailinfra_cli.devtools import offline_env, select_stack
from pulumi_mailinfra.cleanmail.client import CleanmailClient
from pulumi_mailinfra.config import ServiceSettings
from pulumi_mailinfra.emulator import EmulatorServer
from pulumi_mailinfra.greenarrow.client import GreenArrowClient

USER, PASSWORD, TOKEN = "admin", "bench-pw", "bench-token"


def records(server: EmulatorServer) -> dict[str, Any]:
    return copy.deepcopy({"greenarrow": server.greenarrow._objects, "cleanmail": server.cleanmail._objects})


def run(units: int, latency_ms: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
        root = Path(folder)
        server = EmulatorServer(state_path=str(root / "emulator.sqlite"), ga_username=USER, ga_password=PASSWORD,
                                cleanmail_tokens=(TOKEN,)).start()
        try:
            ga = GreenArrowClient(ServiceSettings(url=server.url, username=USER, password=PASSWORD))
            cm = CleanmailClient(ServiceSettings(url=f"{server.url}/cleanmail", token=TOKEN))
            hand_filled.fill(ga, cm, units)
            before = records(server)
            server.app.state.faults.latency_ms = latency_ms  # from here on: what export and the round trip see
            server.app.state.faults.reset_stats()
            env = offline_env(root / "backend", extra={"GREENARROW_USERNAME": USER, "GREENARROW_PASSWORD": PASSWORD,
                                                       "CLEANMAIL_TOKEN": TOKEN, "GREENARROW_URL": server.url,
                                                       "CLEANMAIL_URL": f"{server.url}/cleanmail"})
            started = time.monotonic()
            printed = subprocess.run([sys.executable, "-m", "mailinfra_cli", "export", "--url", server.url, "--out",
                                      str(root / "exported")], env=env, check=True, capture_output=True,
                                     text=True).stdout
            export_seconds = time.monotonic() - started
            (root / "exported" / "venv").symlink_to(sys.prefix)  # this interpreter stands in for `pulumi install`
            stack = select_stack(root / "exported", "adopted", env)
            for purpose, key in re.findall(r"set the (.+?): pulumi config set --secret (\S+) \.\.\.", printed):
                kind = next(k for k, marker in SECRET_MARKERS.items() if marker in purpose)
                stack.set_config(f"exported:{key}", auto.ConfigValue(hand_filled.SECRETS[kind], secret=True))
            started = time.monotonic()
            up = stack.up()
            up_seconds = time.monotonic() - started
            changes = up.summary.resource_changes or {}
            assert set(changes) == {"create"}, changes  # each object new to the stack, taken over
            assert records(server) == before, "the round trip changed the server"
            started = time.monotonic()
            stack.preview(expect_no_changes=True)
            preview_seconds = time.monotonic() - started
            requests = server.app.state.faults.stats()["requests"]
        finally:
            server.stop()
    return {"resources": changes["create"] - 1, "export_s": export_seconds, "round_trip_up_s": up_seconds,
            "preview_s": preview_seconds, "requests": requests}


SECRET_MARKERS = {"relay": "destination password", "ldap": "LDAP bind password", "oidc": "OpenID client secret",
                  "imap": "(IMAP)", "o365": "(O365)", "exchange": "(EXCHANGE)"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, nargs="+", default=[3, 15])
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[20, 100])
    args = parser.parse_args()
    print("| units | resources exported | API latency | export | round-trip up | preview after | requests |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for latency in args.latency_ms:
        for units in args.units:
            result = run(units, latency)
            print(f"| {units} | {result['resources']:.0f} | {latency} ms | {result['export_s']:.1f} s | "
                  f"{result['round_trip_up_s']:.1f} s | {result['preview_s']:.1f} s | {result['requests']:.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
