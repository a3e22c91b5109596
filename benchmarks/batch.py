"""Batch throughput: questions per minute through `localgpt batch`, against one `localgpt ask` per question.

Both run in the same invocation, on the same index, with the default model and settings unless
told otherwise. The baseline (a fresh process per question: index and model loaded every time)
is what a user scripting `ask` in a loop gets.

    localgpt ingest --source-dir source_documents --db db
    python benchmarks/batch.py --db db --count 200 --baseline 3 [--time-limit 900]

With --time-limit the batch is interrupted (Ctrl-C, as a user would) when the time is up and the
rate is computed from the answers written so far; rerunning the batch command resumes it.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO

TOPICS = [
    "What is the monthly rent?",
    "How large is the security deposit?",
    "How much notice ends the lease?",
    "What is the early termination fee?",
    "Which pets are allowed?",
    "How fast are heating faults repaired?",
    "How much water does the kettle hold?",
    "How often should the kettle be descaled?",
    "What does error E1 mean?",
    "What does error E3 mean?",
    "What does error E5 mean?",
    "How long does the keep-warm function last?",
    "What are the core working hours?",
    "How many days a week can I work remotely?",
    "How large is the home-office stipend?",
    "When must expense reports be submitted?",
    "When do engineers join the on-call rotation?",
    "How many standing desks are there?",
    "Where is the projector?",
    "Who owns the first-aid kits?",
]


def questions(count: int) -> list[dict]:
    return [{"id": f"q{n:03d}", "question": TOPICS[n % len(TOPICS)]} for n in range(count)]


def run_batch(db: str, items: list[dict], work: Path, extra: list[str], time_limit: float | None) -> dict:
    source = work / "questions.jsonl"
    source.write_text("".join(json.dumps(q) + "\n" for q in items))
    output = work / "answers.jsonl"
    cmd = [sys.executable, str(REPO / "localgpt.py"), "batch", str(source), "-o", str(output), "--db", db, *extra]
    started = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = process.communicate(timeout=time_limit)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate()
    wall = time.perf_counter() - started
    records = [json.loads(line) for line in output.read_text().splitlines() if line.strip()]
    answering = sum(r["timings"]["total_s"] for r in records)
    return {
        "exit": process.returncode,
        "answered": len(records),
        "wall_s": wall,
        "answering_s": answering,
        "summary": out.strip().splitlines()[0] if out.strip() else err.strip().splitlines()[-1],
    }


def run_baseline(db: str, items: list[dict], extra: list[str]) -> list[float]:
    seconds = []
    for item in items:
        cmd = [sys.executable, str(REPO / "localgpt.py"), "ask", "--json", "--db", db, *extra, item["question"]]
        started = time.perf_counter()
        subprocess.run(cmd, cwd=REPO, capture_output=True, check=True)
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default="db")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--baseline", type=int, default=3, help="questions asked one process each (0: none)")
    parser.add_argument("--time-limit", type=float, default=None, help="seconds before the batch is interrupted")
    parser.add_argument("extra", nargs="*", help="more options for batch and ask, after --")
    args = parser.parse_args()
    items = questions(args.count)
    with tempfile.TemporaryDirectory() as tmp:
        baseline = run_baseline(args.db, items[: args.baseline], args.extra) if args.baseline else []
        result = run_batch(args.db, items, Path(tmp), args.extra, args.time_limit)
    print(f"batch: {result['summary']}")
    print(f"batch: {result['answered']}/{args.count} answered in {result['wall_s']:.1f} s wall (exit {result['exit']})")
    batch_rate = 60 * result["answered"] / result["wall_s"]
    per_question = result["answering_s"] / max(result["answered"], 1)
    print(
        f"batch: {batch_rate:.1f} questions/minute over the wall time, start-up included; "
        f"{per_question:.2f} s per question answering (retrieve + generate), {60 / per_question:.1f} questions/minute"
    )
    if baseline:
        median = statistics.median(baseline)
        print(
            f"ask per question (baseline, {len(baseline)} runs): median {median:.1f} s, {60 / median:.1f} questions/minute"
        )
        print(f"ratio batch/baseline throughput: {batch_rate / (60 / median):.1f}x")


if __name__ == "__main__":
    main()
