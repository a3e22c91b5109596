"""Answer quality with the bundled models on a mixed collection of real documents: five rates.

    python benchmarks/answers.py --collection DIR --db DB [--set NAME=ANSWERABLE.jsonl ...]
                                 [--unanswerable FILE.jsonl ...] [--evidence-only] [--sweep] [--out rows.jsonl]

DIR is ingested into DB once (reused when DB exists). Every question goes through what `ask`
does (search, evidence, generation, checks) and is scored:

- fact in the answer: the answer holds the reference fact (the expected string's figures, or
  most of its words; evaluation/answers.py `has_fact`);
- fact in the evidence: a quoted evidence sentence holds it;
- wrong answer shown: answered (not refused) without the fact;
- answerable refused;
- unanswerable answered (for the questions of --unanswerable files).

--evidence-only skips the model: evidence and refusals only (seconds, not minutes).
--sweep prints evidence@1 and the refusal error rates for other signal weights and thresholds,
from the same candidates (to choose WEIGHTS and --min-evidence; docs/answers.md).
The shared dev set (../shared/eval/dev) is read with --set dev-atlas=... etc.; put its docs in DIR.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from pathlib import Path

from common import on_path

on_path()

from evaluation.answers import answer_row, has_fact, holds_expected, matches, rate  # noqa: E402


def load_rows(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for row in rows:
        row.setdefault("question", row.get("query"))
    return rows


def ensure_index(collection: Path, db: Path, settings_for) -> None:
    from ingest.pipeline import run_ingest

    if db.exists():
        return
    started = time.perf_counter()
    report = run_ingest(settings_for(db, source_dir=collection))
    print(f"ingested {collection} in {time.perf_counter() - started:.0f}s: {report.summary()}", file=sys.stderr)


def score_row(q: dict, result, answerable: bool) -> dict:
    row = {
        "id": q.get("id"),
        "question": q["question"],
        "answerable": answerable,
        "reworded": q.get("reworded"),
        "generated": result.generated,
        "withheld": result.withheld,
        "timings": result.timings,
    }
    row.update(answer_row(q, result, answerable))
    return row


def summarise(name: str, rows: list[dict]) -> None:
    ans = [r for r in rows if r["answerable"]]
    una = [r for r in rows if not r["answerable"]]
    print(f"\n== {name}: {len(ans)} answerable, {len(una)} unanswerable")
    if ans:
        for label, key in (
            ("fact in the answer", "fact_in_answer"),
            ("fact in the evidence", "fact_in_evidence"),
            ("wrong answer shown", "without_fact"),
            ("answerable refused", "refused"),
            ("fact retrieved (top k)", "fact_retrieved"),
        ):
            print(f"  {label:<24} {rate(ans, key)}")
        for flag in (True, False):
            part = [r for r in ans if r.get("reworded") is flag]
            if part and len(part) < len(ans):
                print(
                    f"  reworded={flag}: fact in answer {rate(part, 'fact_in_answer')}, in evidence {rate(part, 'fact_in_evidence')}"
                )
        methods = {}
        for r in ans:
            methods.setdefault(r["method"], []).append(r)
        print(
            "  by method: "
            + "; ".join(
                f"{m or '-'} {len(rs)} (fact {sum(x['fact_in_answer'] for x in rs)})" for m, rs in methods.items()
            )
        )
    if una:
        print(f"  {'unanswerable answered':<24} {rate(una, 'answered')}")
    chosen = [r for r in ans if "model_top1" in r]
    if chosen:
        print(
            f"  evidence@1: ours {rate(chosen, 'ours_top1')}, the model's pick among 4 {rate(chosen, 'model_top1')}, "
            f"any of the 4 {rate(chosen, 'any_top4')}"
        )
    totals = [r["timings"].get("total_s") for r in rows if r["timings"].get("total_s") is not None]
    if totals:
        print(f"  answer time median {statistics.median(totals):.2f}s")


def sweep(cases: list[dict]) -> None:
    """Evidence@1 and refusal errors for other weights and thresholds, from cached candidates."""
    from generation.evidence import WEIGHTS

    print(
        "\nweights (similarity, coverage, kind, passage, before) -> evidence@1 among answerable with the fact retrieved"
    )
    grid = [0.0, 0.15, 0.3, 0.45, 0.6]
    results = []
    for ws, wc, wk, wp, wb in itertools.product(
        grid, grid, [0.0, 0.05, 0.1, 0.2], [0.0, 0.1, 0.2], [0.0, 0.1, 0.2, 0.3]
    ):
        if ws + wc == 0:
            continue
        weights = {"similarity": ws, "coverage": wc, "kind": wk, "passage": wp, "before": wb}
        total = sum(weights.values())
        weights = {k: v / total for k, v in weights.items()}
        hit = 0
        n = 0
        for case in cases:
            if not case["answerable"] or not case["candidates"]:
                continue
            n += 1
            best = max(case["candidates"], key=lambda c: sum(weights[k] * c["signals"][k] for k in weights))
            hit += best["holds"]
        results.append((hit / max(n, 1), weights))
    results.sort(key=lambda r: -r[0])
    current = {k: v / sum(WEIGHTS.values()) for k, v in WEIGHTS.items()}
    for score, weights in results[:8]:
        print(f"  {score:.3f}  " + ", ".join(f"{k}={v:.2f}" for k, v in weights.items()))
    now = [r for r in results if all(abs(r[1][k] - current[k]) < 1e-6 for k in current)]
    if now:
        print(f"  current weights: {now[0][0]:.3f}")
    print("\nrefusal: min_score x min_evidence -> answerable refused, unanswerable answered")
    ans = [c for c in cases if c["answerable"]]
    una = [c for c in cases if not c["answerable"]]
    for ms in (0.2, 0.25, 0.3, 0.35, 0.4):
        cells = []
        for me in (0.0, 0.3, 0.35, 0.4, 0.45, 0.5):

            def refused(c, ms=ms, me=me):
                return c["top_relevance"] < ms or c["best"] is None or c["best"] < me

            cells.append(f"{me:.2f}: {sum(map(refused, ans))}/{len(ans)} {sum(not refused(c) for c in una)}/{len(una)}")
        print(f"  min_score {ms:.2f} | " + " | ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collection", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=FILE", help="answerable questions")
    parser.add_argument("--unanswerable", action="append", default=[], type=Path)
    parser.add_argument("--evidence-only", action="store_true")
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--min-score", type=float, default=None)
    parser.add_argument("--min-evidence", type=float, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--model-choice",
        action="store_true",
        help="Also measure the model choosing among the top 4 sentences (a GBNF grammar allows only 1-4).",
    )
    args = parser.parse_args()

    from core.offline import enforce_offline
    from core.settings import load_settings
    from generation import AnswerOptions, answer, load_llm
    from generation.answer import relevance
    from generation.evidence import score_candidates
    from generation.question import read_question
    from retrieval import SearchRequest, open_retriever

    enforce_offline()

    def settings_for(db: Path, **more):
        return load_settings(
            {"db": db, "min_score": args.min_score, "min_evidence": args.min_evidence, "threads": args.threads, **more}
        )

    ensure_index(args.collection, args.db, settings_for)
    settings = settings_for(args.db)
    sets = [(name, Path(path), True) for name, path in (s.split("=", 1) for s in args.set)]
    sets += [(path.stem, path, False) for path in args.unanswerable]
    llm = None if args.evidence_only else load_llm(settings)
    all_rows, cases = [], []
    started = time.perf_counter()
    with open_retriever(settings) as retriever:
        embed = retriever.embedder.embed
        for name, path, answerable in sets:
            rows = []
            for q in load_rows(path)[: args.limit or None]:
                vector = retriever.embedder.embed_query(q["question"])
                hits = retriever.run(SearchRequest(q["question"]), vector)
                if args.sweep:
                    relevant = [h for h in hits if relevance(h) >= 0.0]
                    ranked = score_candidates(read_question(q["question"]), relevant, embed, vector)
                    cases.append(
                        {
                            "answerable": answerable,
                            "top_relevance": max((relevance(h) for h in hits), default=0.0),
                            "best": ranked[0].score if ranked else None,
                            "candidates": [
                                {
                                    "signals": c.signals,
                                    "holds": answerable
                                    and (
                                        matches(
                                            q["expected"], q.get("match", "any"), lambda e, c=c: has_fact(c.text, e)
                                        )
                                        or holds_expected(c.text, q["expected"])
                                    ),
                                }
                                for c in ranked
                            ]
                            if answerable
                            else [],
                        }
                    )
                if args.evidence_only:
                    result = _evidence_only(q["question"], hits, settings, embed, vector, retriever.index.word_counts)
                else:
                    result = answer(
                        q["question"],
                        hits,
                        llm,
                        AnswerOptions.of(settings),
                        embed=embed,
                        question_vector=vector,
                        word_counts=retriever.index.word_counts,
                    )
                row = score_row(q, result, answerable)
                row["set"] = name
                if args.model_choice and answerable and result.evidence:
                    row.update(_model_choice(q, hits, settings, embed, vector))
                rows.append(row)
                ok = row.get("fact_in_answer") if answerable else not row["answered"]
                print(
                    f"{'ok ' if ok else 'BAD'} [{name}] {q['question'][:70]!r} -> {result.text[:140]!r}",
                    file=sys.stderr,
                    flush=True,
                )
            all_rows += rows
    print(
        f"{len(all_rows)} questions in {time.perf_counter() - started:.0f}s "
        f"(min_score {settings.min_score}, min_evidence {settings.min_evidence})"
    )
    by_set: dict[str, list] = {}
    for r in all_rows:
        by_set.setdefault(r["set"], []).append(r)
    answerable_names = [n for n, _, a in sets if a]
    unanswerable_rows = [r for r in all_rows if not r["answerable"]]
    for name in answerable_names:
        summarise(f"{name} (+ every unanswerable set)", by_set[name] + unanswerable_rows)
    if args.sweep:
        with_fact = [c for c in cases if not c["answerable"] or any(x["holds"] for x in c["candidates"])]
        sweep(with_fact)
    if args.out:
        args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in all_rows))


_CHOOSER = {}


def _model_choice(q, hits, settings, embed, vector) -> dict:
    """Evidence@1 by our ranking and by the model picking among our top 4 (grammar-constrained)."""
    from generation import load_llm
    from generation.answer import relevance
    from generation.evidence import score_candidates
    from generation.question import read_question
    from generation.sentences import one_line
    from llama_cpp import LlamaGrammar

    if "llm" not in _CHOOSER:
        _CHOOSER["llm"] = load_llm(settings)
        _CHOOSER["grammar"] = LlamaGrammar.from_string("root ::= [1-4]", verbose=False)
    llm = _CHOOSER["llm"]
    relevant = [h for h in hits if relevance(h) >= settings.min_score]
    top = score_candidates(read_question(q["question"]), relevant, embed, vector)[:4]
    listing = "\n".join(f"{i}. {one_line(c.text)}" for i, c in enumerate(top, start=1))
    messages = [
        {"role": "system", "content": "You pick the sentence that answers the question."},
        {
            "role": "user",
            "content": f"Sentences:\n{listing}\n\nQuestion: {q['question']}\n"
            "Which sentence answers the question? Reply with its number only.",
        },
    ]
    llama = llm._load()
    reply = llama.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0, grammar=_CHOOSER["grammar"])
    pick = int(reply["choices"][0]["message"]["content"].strip() or 1) - 1

    def holds(text):
        return matches(q["expected"], q.get("match", "any"), lambda e: has_fact(text, e)) or holds_expected(
            text, q["expected"]
        )

    return {
        "ours_top1": holds(top[0].text),
        "model_top1": holds(top[min(pick, len(top) - 1)].text),
        "any_top4": any(holds(c.text) for c in top),
    }


def _evidence_only(question, hits, settings, embed, vector, word_counts):
    """What `answer` decides before it calls the model: refused, or the quoted evidence."""
    from generation.answer import Answer, quoted_answer, relevance, to_quote
    from generation.evidence import choose_evidence, score_candidates
    from generation.question import read_question

    relevant = [h for h in hits if relevance(h) >= settings.min_score]
    if not relevant:
        return Answer(question, "", refused=True, refused_by="threshold", answer_method="refused", retrieved=hits)
    from generation.question import unknown_share

    if unknown_share(question, word_counts) >= settings.max_unknown:
        return Answer(question, "", refused=True, refused_by="unknown_words", answer_method="refused", retrieved=hits)
    ranked = score_candidates(read_question(question), relevant, embed, vector)
    evidence = choose_evidence(ranked, relevant)
    if not evidence or evidence[0].score < settings.min_evidence:
        return Answer(question, "", refused=True, refused_by="evidence", answer_method="refused", retrieved=hits)
    quoted = to_quote(evidence, read_question(question))
    return Answer(
        question,
        quoted_answer(quoted),
        relevant,
        cited=[e.n for e in quoted],
        retrieved=hits,
        evidence=evidence,
        answer_method="quoted",
    )


if __name__ == "__main__":
    main()
