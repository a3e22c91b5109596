"""Time to the first text of `localgpt ask`, as a whole new process, default against the previous default.

    python benchmarks/ask_latency.py [--db DB] [--runs 5] [--question Q ...]

Each run starts `localgpt ask` afresh (a cold process: imports, index, models), reads its stdout
and notes when the first byte of the answer arrives and when the process ends. The two styles
alternate (ABBA), so that the machine's load falls on both alike:

- `auto` (the default): the bundled model's answers are quoted evidence, no generation;
- `generate` (the previous default): the bundled model writes, each claim checked.

Without --db the sample documents are ingested into a temporary index first. Prints medians
and the ratio; run it on an idle machine (the load is printed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, ingest_samples

QUESTIONS = ["What is the notice period in the lease?", "How often should the kettle be descaled?"]


def first_text(db: Path, question: str, style: str) -> tuple[float, float]:
    command = [sys.executable, str(REPO / "localgpt.py"), "ask", "--db", str(db), "--answer-style", style, question]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=REPO)
    assert proc.stdout is not None
    proc.stdout.read(1)
    first = time.perf_counter() - started
    proc.stdout.read()
    proc.wait()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {proc.returncode}")
    return first, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path)
    parser.add_argument("--runs", type=int, default=5, help="runs of each style per question")
    parser.add_argument("--question", action="append")
    args = parser.parse_args()
    questions = args.question or QUESTIONS
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db if args.db is not None else ingest_samples(Path(tmp) / "db")
        times: dict[str, list[tuple[float, float]]] = {"auto": [], "generate": []}
        for run in range(args.runs):
            order = ("auto", "generate") if run % 2 == 0 else ("generate", "auto")
            for question in questions:
                for style in order:
                    times[style].append(first_text(db, question, style))
    print(f"load average before and after: {os.getloadavg()[0]:.2f} (1 min)")
    print(f"{len(questions)} questions x {args.runs} runs each, new process every time")
    med = {s: (statistics.median(t[0] for t in v), statistics.median(t[1] for t in v)) for s, v in times.items()}
    for style, (first, total) in med.items():
        print(f"  {style:<9} first text {first:.2f} s   whole ask {total:.2f} s   (median)")
    print(
        f"  auto / generate: first text {med['auto'][0] / med['generate'][0]:.2f}x, whole {med['auto'][1] / med['generate'][1]:.2f}x"
    )


if __name__ == "__main__":
    main()
