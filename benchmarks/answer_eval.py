"""Answer quality on the dev set: answered correctly with a valid citation, and refused when it should be.

Each dev document is ingested alone into its own index. Its own questions are answerable
there; the other document's questions are not, and the right reply to them is a refusal.

    python benchmarks/answer_eval.py [--eval-dir ../shared/eval/dev] [--work /tmp/answer-eval]
                                     [--min-score X] [--limit N] [--out results.jsonl]

Prints, per index and overall: answerable questions answered with the fact, with a valid
citation, with a citation to a passage holding an expected string, refused wrongly;
unanswerable questions refused (by the relevance threshold, or by the model saying so);
how often the model wrote markers at all and how many pointed to no passage; and, for
the relevance threshold, the refusal rates a range of `min_score` values would give.

"Contains the fact" is a heuristic, written for any question set: the answer must contain
every number-like token (digits, part codes such as MG-311) of an expected string; an
expected string without any must have most of its content words in the answer.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

from common import REPO, on_path

on_path()

from evaluation.answers import has_fact, holds_expected, matches, rate  # noqa: E402


def ingest_alone(doc: Path, work: Path, settings_for) -> Path:
    from ingest.pipeline import run_ingest

    src = work / f"src_{doc.stem}"
    db = work / f"db_{doc.stem}"
    if not db.exists():
        src.mkdir(parents=True, exist_ok=True)
        shutil.copy(doc, src / doc.name)
        report = run_ingest(settings_for(db, source_dir=src))
        if report.exit_code:
            raise SystemExit(f"ingest of {doc} failed: {report.failed}")
    return db


def evaluate(question: dict, result, answerable: bool) -> dict:
    cited_passages = result.sources()
    row = {
        "id": question["id"],
        "query": question["query"],
        "answerable": answerable,
        "refused": result.refused,
        "refused_by": result.refused_by,
        "text": result.text,
        "cited": result.cited,
        "citation_method": result.citation_method,
        "invalid_markers": result.invalid_markers,
        "top_relevance": max((h.relevance for h in result.retrieved if h.relevance is not None), default=None),
        "timings": result.timings,
    }
    if answerable:
        row["fact"] = (not result.refused) and matches(
            question["expected"], question["match"], lambda e: has_fact(result.text, e)
        )
        row["valid_citation"] = bool(result.cited)
        row["cites_fact_passage"] = any(holds_expected(h.chunk.text, question["expected"]) for h in cited_passages)
        row["fact_passage_given"] = any(holds_expected(h.chunk.text, question["expected"]) for h in result.passages)
        row["correct"] = row["fact"] and row["cites_fact_passage"]
    return row


def summarise(rows: list[dict]) -> None:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    generated = [r for r in rows if not r["refused"] or r["refused_by"] == "model"]
    print(f"answerable ({len(ans)}):")
    for key in ("fact", "valid_citation", "cites_fact_passage", "correct", "refused", "fact_passage_given"):
        print(f"  {key:<20} {rate(ans, key)}")
    model_cited = [r for r in ans if r["citation_method"] == "model" and r["cited"]]
    overlap = [r for r in ans if r["citation_method"] == "overlap"]
    print(
        f"  citations by the model itself: {len(model_cited)}/{len(ans)}; attributed by overlap: {len(overlap)}/{len(ans)}"
    )
    print(f"unanswerable ({len(una)}):")
    print(f"  refused              {rate(una, 'refused')}")
    print(
        f"  refused by threshold {sum(r['refused_by'] == 'threshold' for r in una)}, by the model {sum(r['refused_by'] == 'model' for r in una)}"
    )
    with_markers = [r for r in generated if r["citation_method"] == "model" or r["invalid_markers"]]
    invalid = [r for r in generated if r["invalid_markers"]]
    print(
        f"generated answers {len(generated)}: the model wrote a marker in {len(with_markers)}, wrote an invalid marker {len(invalid)} "
        f"({sum(len(r['invalid_markers']) for r in invalid)} markers dropped)"
    )
    firsts = [r["timings"]["first_token_s"] for r in rows if "first_token_s" in r["timings"]]
    if firsts:
        print(f"first token median {statistics.median(firsts):.2f}s over {len(firsts)} answers")
    tops_a = [r["top_relevance"] for r in ans if r["top_relevance"] is not None]
    tops_u = [r["top_relevance"] for r in una if r["top_relevance"] is not None]
    if tops_a and tops_u:
        print("threshold sweep (top relevance): min_score  answerable-kept  unanswerable-refused")
        for t in [x / 100 for x in range(10, 32, 2)]:
            kept = sum(v >= t for v in tops_a)
            refused = sum(v < t for v in tops_u)
            print(f"  {t:.2f}  {kept}/{len(tops_a)}  {refused}/{len(tops_u)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval" / "dev")
    parser.add_argument("--work", type=Path, default=Path("/tmp/answer-eval"))
    parser.add_argument("--min-score", type=float, default=None, help="Override the relevance threshold.")
    parser.add_argument("--limit", type=int, default=0, help="Only the first N questions of each set.")
    parser.add_argument("--only", choices=["answerable", "unanswerable"], default=None)
    parser.add_argument("--out", type=Path, default=None, help="Write one JSON line per question here.")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--max-tokens", type=int, default=None)
    args = parser.parse_args()

    from core.offline import enforce_offline
    from core.settings import load_settings
    from answering import Session, warm_up
    from generation import load_llm
    from retrieval import open_retriever

    enforce_offline()

    def settings_for(db: Path, **more):
        return load_settings(
            {"db": db, "min_score": args.min_score, "threads": args.threads, "max_tokens": args.max_tokens, **more}
        )

    args.work.mkdir(parents=True, exist_ok=True)
    sets = {}
    for questions in sorted(args.eval_dir.glob("*.jsonl")):
        rows = [json.loads(line) for line in questions.read_text().splitlines() if line.strip()]
        sets[questions.stem] = rows
    docs = sorted((args.eval_dir / "docs").glob("*"))
    # A question set belongs to the document whose text holds its expected strings.
    from ingest.loaders import load_file

    owner: dict[str, Path] = {}
    for doc in docs:
        text = " ".join(s.text for s in load_file(doc))
        for name, rows in sets.items():
            if holds_expected(text, rows[0]["expected"]):
                owner[name] = doc
    llm = None
    results: list[dict] = []
    started = time.perf_counter()
    for name, doc in owner.items():
        db = ingest_alone(doc, args.work, settings_for)
        settings = settings_for(db)
        if llm is None:
            llm = load_llm(settings)
            warm_up(llm)
        with open_retriever(settings) as retriever:
            session = Session(retriever, llm, settings)  # what `ask` runs: the answer service
            for set_name, rows in sets.items():
                answerable = set_name == name
                if args.only and (args.only == "answerable") != answerable:
                    continue
                for q in rows[: args.limit or None]:
                    result = session.ask(q["query"])
                    row = evaluate(q, result, answerable)
                    row["index"] = doc.name
                    results.append(row)
                    mark = "ok " if row.get("correct") or (not answerable and row["refused"]) else "BAD"
                    print(
                        f"{mark} [{doc.stem[:8]}] {q['query'][:60]!r} -> {result.text[:150]!r} cited={result.cited}",
                        file=sys.stderr,
                        flush=True,
                    )
    print(f"{len(results)} questions in {time.perf_counter() - started:.0f}s")
    summarise(results)
    if args.out:
        args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results))


if __name__ == "__main__":
    main()
