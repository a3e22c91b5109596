"""`ask` on an idle machine and beside one busy process: the new thread default against the old one.

    python benchmarks/threads.py [--db DB] [--repeats 3]

Runs `localgpt ask --json` as a user would (a new process each time), alternating the old
default (`--threads` = every CPU core) with the new one (`--threads 0`: the cores free when the
model loads), first with nothing else running, then beside one process that keeps one core
busy. Prints the median first-token time (from the question to the first token, retrieval and
model load included) and total wall time of each, and the ratio new/old in each condition.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import REPO, ingest_samples

QUESTION = "What is the notice period in the lease?"


def spin(stop) -> None:
    while not stop.is_set():
        sum(range(10_000))


def ask(db: Path, threads: int) -> tuple[float, float]:
    started = time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            str(REPO / "localgpt.py"),
            "ask",
            "--db",
            str(db),
            "--json",
            "--threads",
            str(threads),
            QUESTION,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    timings = json.loads(out.stdout)["timings"]
    return timings.get("first_token_s", float("nan")), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=Path("/tmp/threads-bench-db"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not args.db.exists():
        ingest_samples(args.db)
    cores = len(os.sched_getaffinity(0))
    ask(args.db, 0)  # warm the page cache and the model caches
    for condition in ("idle", "one busy process"):
        stop = multiprocessing.Event()
        busy = multiprocessing.Process(target=spin, args=(stop,)) if condition != "idle" else None
        if busy:
            busy.start()
            time.sleep(1.0)
        runs = {"old": [], "new": []}
        try:
            for _ in range(args.repeats):
                runs["old"].append(ask(args.db, cores))
                runs["new"].append(ask(args.db, 0))
        finally:
            if busy:
                stop.set()
                busy.join()
        med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)) for k, v in runs.items()}
        print(f"{condition} ({cores} cores, {args.repeats} runs each):")
        print(f"  old default (--threads {cores}): first token {med['old'][0]:.2f} s, total {med['old'][1]:.2f} s")
        print(f"  new default (--threads 0):      first token {med['new'][0]:.2f} s, total {med['new'][1]:.2f} s")
        print(
            f"  new/old: first token {med['new'][0] / med['old'][0]:.2f}x, total {med['new'][1] / med['old'][1]:.2f}x"
        )


if __name__ == "__main__":
    main()
