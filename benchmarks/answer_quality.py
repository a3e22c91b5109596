"""Answer quality through the shipped path (`Session.ask`, what `ask` runs), per collection.

    python benchmarks/answer_quality.py --db DB --set ANSWERABLE.jsonl [--set ...]
        --unanswerable FILE.jsonl [--cross-collection] [--answer-style auto|quote|generate]
        [--limit N] [--out rows.jsonl]

For each collection (the top folder of a question's `source`, or its `collection` field; the
shared dev set's questions are "dev"), prints:

- fact in the answer: the answer holds the reference fact (evaluation/answers.py `has_fact`);
- fact in the evidence: a shown evidence sentence holds it;
- answered without the fact: shown, not refused, and the fact is not in it;
- answerable refused;
- fact retrieved: an expected string is in the retrieved passages (the ceiling);
- unanswerable answered, near-topic and off-topic (unanswerable questions near a collection
  count for it; off-topic ones only in the total);
- `ask` median time (inside the process: search and answer).

--cross-collection: each collection's questions are answered with an evidence-selection model
fitted on the *other* collections only (benchmarks/fit_selection.py, from --cache), so that the
figures say what the shipped model would do on documents it never saw.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path

from common import on_path

on_path()

from evaluation.answers import answer_row, rate  # noqa: E402
from fit_selection import collection_of, fit, gather, load_questions  # noqa: E402


def score(q: dict, result, answerable: bool) -> dict:
    row = {
        "id": q.get("id"),
        "question": q["question"],
        "collection": collection_of(q) if answerable else (q.get("collection") or ""),
        "answerable": answerable,
        "near_topic": q.get("near_topic"),
        "closest": [h.chunk.citation() for h in result.closest],
        "seconds": result.timings.get("total_s"),
    }
    row.update(answer_row(q, result, answerable))
    return row


def share(rows: list[dict], key: str) -> str:
    return rate(rows, key, aligned=True)


def report(rows: list[dict]) -> None:
    by = defaultdict(list)
    for r in rows:
        by[r["collection"]].append(r)
    names = sorted(n for n in by if n)
    header = (
        f"{'collection':<11} {'fact in answer':>14} {'fact in evid.':>14} {'no fact shown':>14} "
        f"{'ans. refused':>14} {'retrieved':>14} {'near answered':>14} {'off answered':>14} {'median s':>8}"
    )
    print(header)
    for name in [*names, "ALL"]:
        part = rows if name == "ALL" else by[name]
        ans = [r for r in part if r["answerable"]]
        near = [r for r in part if not r["answerable"] and r["near_topic"]]
        off = [r for r in (rows if name == "ALL" else []) if not r["answerable"] and not r["near_topic"]]
        seconds = [r["seconds"] for r in part if r["seconds"] is not None]
        print(
            f"{name:<11} {share(ans, 'fact_in_answer'):>14} {share(ans, 'fact_in_evidence'):>14} "
            f"{share(ans, 'without_fact'):>14} {share(ans, 'refused'):>14} {share(ans, 'fact_retrieved'):>14} "
            f"{share(near, 'answered'):>14} {share(off, 'answered'):>14} "
            f"{statistics.median(seconds) if seconds else 0:>8.2f}"
        )
    refusals = defaultdict(int)
    for r in rows:
        if r["refused"]:
            refusals[(r["answerable"], r["refused_by"])] += 1
    print(
        "refused by: "
        + ", ".join(f"{'answerable' if a else 'unanswerable'}/{b}: {n}" for (a, b), n in sorted(refusals.items()))
    )


def main() -> None:
    from core.settings import load_settings
    from answering import open_session
    from generation import selection
    from generation.selection import SelectionModel

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--set", type=Path, action="append", required=True)
    parser.add_argument("--unanswerable", type=Path, action="append", default=[])
    parser.add_argument("--cross-collection", action="store_true")
    parser.add_argument("--cache", type=Path, help="fit_selection.py's candidate cache (made when missing)")
    parser.add_argument("--answer-style", default="auto")
    parser.add_argument("--min-evidence", type=float, help="instead of the setting (0: never refuse on it)")
    parser.add_argument("--min-score", type=float, help="instead of the setting")
    parser.add_argument("--limit", type=int, default=0, help="at most this many questions of each file")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    answerable = load_questions(args.set)
    unanswerable = load_questions(args.unanswerable)
    if args.limit:
        answerable, unanswerable = answerable[: args.limit], unanswerable[: args.limit]
    models: dict[str, SelectionModel] = {}
    if args.cross_collection:
        import pickle

        if args.cache and args.cache.exists():
            cases = pickle.loads(args.cache.read_bytes())
        else:
            cases = gather(args.db, answerable)
            if args.cache:
                args.cache.write_bytes(pickle.dumps(cases))
        for name in {c["collection"] for c in cases}:
            models[name] = SelectionModel.from_json(fit([c for c in cases if c["collection"] != name]))
        models[""] = SelectionModel.from_json(fit(cases))
    settings = load_settings(
        {
            "db": args.db,
            "answer_style": args.answer_style,
            "min_evidence": args.min_evidence,
            "min_score": args.min_score,
        }
    )
    rows = []
    started = time.perf_counter()
    with open_session(settings) as session:
        for q, is_answerable in [(q, True) for q in answerable] + [(q, False) for q in unanswerable]:
            name = collection_of(q) if is_answerable else (q.get("collection") or "")
            with selection.using(models.get(name) or models.get("")):
                result = session.ask(q["question"])
            rows.append(score(q, result, is_answerable))
    print(
        f"{len(rows)} questions in {time.perf_counter() - started:.0f} s, answer style {args.answer_style}"
        + (", cross-collection selection models" if args.cross_collection else ", the shipped selection model")
    )
    report(rows)
    if args.out:
        args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


if __name__ == "__main__":
    main()
