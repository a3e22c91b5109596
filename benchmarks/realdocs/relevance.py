"""How well the top dense relevance alone separates answerable from unanswerable questions.

    python benchmarks/realdocs/relevance.py --db /tmp/rd-db

For each question of answerable.jsonl and unanswerable.jsonl, the cosine relevance of the
best dense hit; prints its spread per group and, for a few thresholds, how many answerable
questions a refusal below the threshold would refuse and how many unanswerable ones it would
still answer (near-topic and off-topic apart). A baseline for the refusal work of issue #14.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

HERE = Path(__file__).resolve().parent
THRESHOLDS = (0.2, 0.3, 0.35, 0.4, 0.45, 0.5)


def _load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _spread(values: list[float]) -> str:
    v = sorted(values)
    return (
        f"min {v[0]:.2f}  p10 {v[len(v) // 10]:.2f}  median {statistics.median(v):.2f}  "
        f"p90 {v[9 * len(v) // 10]:.2f}  max {v[-1]:.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="the index the collection was ingested into")
    args = parser.parse_args(argv)
    from core.settings import load_settings
    from retrieval import open_retriever

    answerable = _load(HERE / "answerable.jsonl")
    unanswerable = _load(HERE / "unanswerable.jsonl")
    top = {}
    with open_retriever(load_settings({"db": args.db})) as retriever:
        for item in answerable + unanswerable:
            hits = retriever.search(item["question"], k=1, mode="dense")
            top[item["id"]] = hits[0].relevance if hits else 0.0
    groups = {
        "answerable": [top[o["id"]] for o in answerable],
        "unanswerable, near topic": [top[o["id"]] for o in unanswerable if o["near_topic"]],
        "unanswerable, off topic": [top[o["id"]] for o in unanswerable if not o["near_topic"]],
    }
    for name, values in groups.items():
        print(f"{name:<26}{len(values):>4}  {_spread(values)}")
    a, near, off = groups.values()
    for t in THRESHOLDS:
        print(
            f"refuse below {t:.2f}: answerable refused {sum(x < t for x in a)}/{len(a)}, "
            f"unanswerable answered: near {sum(x >= t for x in near)}/{len(near)}, off {sum(x >= t for x in off)}/{len(off)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
