"""What the ownership journal (pulumi_mailinfra.ownership) adds to each create: one durable SQLite write before the
request. Measured on this machine's disk, per create, and set against one API round trip at 20 and 100 ms.

    .venv/bin/python bench/bench_journal.py [--creates 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from pulumi_mailinfra import ownership


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--creates", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["MAILINFRA_OWNERSHIP_JOURNAL"] = str(Path(folder) / "creates.sqlite")
        timings = []
        for i in range(args.creates):
            started = time.perf_counter()
            ownership.set_out_to_create(f"RelayServer http://api/relay_servers relay-{i}", "org/project/dev: x")
            timings.append((time.perf_counter() - started) * 1000)
    median, p95 = statistics.median(timings), sorted(timings)[int(len(timings) * 0.95)]
    print(f"journal write per create: median {median:.2f} ms, p95 {p95:.2f} ms over {args.creates} creates")
    for latency in (20, 100):
        print(f"  vs one API round trip at {latency} ms: {median / latency:.1%} (a create is at least one round trip)")


if __name__ == "__main__":
    main()
