"""Fit the evidence-selection model (generation/selection.py) and report it with cross-collection validation.

    python benchmarks/fit_selection.py --db DB --set FILE.jsonl [--set ...] [--write] [--cache F.pkl]

For every answerable question of the sets, the index is searched as `ask` searches it, every
sentence of the relevant passages becomes a candidate with its signals, and a candidate is
labelled positive when it holds one of the question's expected strings (case and spaces
ignored). A question's collection is the top folder of its `source` (or its `collection` field).

Reported, per collection and overall, among the questions whose fact is in the passages:
evidence@1 and evidence@3 (the best, or one of the best three, candidates holds the fact), for

- `previous`: the hand-set weights of the previous release (generation.selection.FALLBACK);
- `cross-collection`: for each collection, a model fitted on all the *other* collections;
- `fitted on all`: the model fitted on every collection (what --write ships; its own training
  set, so optimistic).

The model is linear over standardised signals, fitted listwise (a softmax over each question's
candidates, numpy, L2-regularised), then scaled to a probability (Platt) for --min-evidence. --write saves it to
generation/selection_model.json with the figures of this run.
"""

from __future__ import annotations

import argparse
import json
import pickle
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from common import on_path

on_path()


def normal(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def collection_of(q: dict) -> str:
    if q.get("collection"):
        return q["collection"]
    source = q.get("source") or ""
    if "/" in source:
        return source.split("/", 1)[0]
    return q.get("corpus") or "dev"


def load_questions(paths: list[Path]) -> list[dict]:
    out = []
    for path in paths:
        for line in path.read_text().splitlines():
            if line.strip():
                q = json.loads(line)
                q["question"] = q.get("question") or q.get("query")
                if not q.get("collection") and not q.get("source"):
                    q["collection"] = "dev"
                out.append(q)
    return out


def gather(db: Path, questions: list[dict]) -> list[dict]:
    """Each question's candidates: signals and labels (what search and selection see, no model)."""
    from core.settings import load_settings
    from generation.answer import relevance
    from generation.question import read_question
    from generation.selection import FEATURES, signals_of
    from retrieval import SearchRequest, open_retriever

    settings = load_settings({"db": db})
    cases = []
    with open_retriever(settings) as retriever:
        catalog = retriever.index.catalog
        chunks = catalog.chunk_count()
        for q in questions:
            vector = retriever.embedder.embed_query(q["question"])
            hits = retriever.run(SearchRequest(q["question"]), vector)
            relevant = [h for h in hits if relevance(h) >= settings.min_score]
            asked = read_question(q["question"], retriever.index.word_counts, chunks)
            found = signals_of(asked, relevant, retriever.embedder.embed, vector)
            expected = [normal(e) for e in q["expected"]]
            labels = [any(e in normal(c.text) for e in expected) for c in found]
            cases.append(
                {
                    "id": q.get("id"),
                    "collection": collection_of(q),
                    "x": np.array([[c.signals.get(f, 0.0) for f in FEATURES] for c in found]).reshape(
                        -1, len(FEATURES)
                    ),
                    "y": np.array(labels, dtype=float),
                    "n": [c.n for c in found],
                }
            )
    return cases


# Signals measured but left out of the model: each is nearly a copy of another (coverage by index
# rarity of coverage by rarity among the candidates; the heading's similarity of the framed
# sentence's), and a pair of near-copies gets weights of opposite signs that break apart where the
# copies differ (an index too small for index rarity).
LEFT_OUT = ("coverage_index", "similarity_head")


def fit(cases: list[dict], l2: float = 1.0, steps: int = 300, left_out: tuple[str, ...] = LEFT_OUT) -> dict:
    """A listwise logistic model: for each question, a softmax over its candidates is fitted to put
    its probability on the sentences that hold the fact (conditional logit, L2-regularised, on
    standardised signals); then one scale and bias (Platt, fitted on each question's best candidate)
    turn the score into the probability that the best sentence holds the answer, for --min-evidence."""
    from generation.selection import FEATURES

    keep = [i for i, f in enumerate(FEATURES) if f not in left_out]
    cases = [{**c, "x": c["x"][:, keep]} for c in cases]
    usable = [c for c in cases if len(c["y"]) and c["y"].any()]
    x = np.vstack([c["x"] for c in cases if len(c["y"])])
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    groups = [((c["x"] - mean) / scale, c["y"]) for c in usable]
    w = np.zeros(len(keep))
    rate = 0.5
    for _ in range(steps):
        grad = l2 * w / max(1, len(groups))
        for z, y in groups:
            logits = z @ w
            logits -= logits.max()
            p = np.exp(logits)
            p /= p.sum()
            q = p * y
            q /= q.sum()
            grad += z.T @ (p - q) / len(groups)
        w -= rate * grad
    # Platt scaling on each question's best candidate: p(the best sentence holds the fact), the
    # quantity --min-evidence refuses on. Questions whose fact is in no candidate count as misses.
    every = [((c["x"] - mean) / scale, c["y"]) for c in cases if len(c["y"])]
    tops = [(z @ w, y) for z, y in every]
    scores = np.array([s.max() for s, _ in tops])
    labels = np.array([float(y[int(np.argmax(s))]) for s, y in tops])
    a, b = 1.0, 0.0
    for _ in range(500):
        p = 1 / (1 + np.exp(-(a * scores + b)))
        a -= 0.1 * np.mean((p - labels) * scores)
        b -= 0.1 * np.mean(p - labels)
    return {
        "features": [FEATURES[i] for i in keep],
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "weights": (a * w).tolist(),
        "bias": float(b),
    }


def evidence_at(cases: list[dict], model) -> dict:
    """evidence@1 and @3 among cases whose fact is in some candidate."""
    from generation.selection import FEATURES

    at1 = at3 = counted = 0
    for c in cases:
        if not c["y"].any():
            continue
        counted += 1
        scores = np.array([model.probability(dict(zip(FEATURES, row))) for row in c["x"]])
        order = np.argsort(-scores, kind="stable")
        at1 += bool(c["y"][order[0]])
        at3 += bool(c["y"][order[:3]].any())
    return {"n": counted, "at1": at1 / counted if counted else 0.0, "at3": at3 / counted if counted else 0.0}


def main() -> None:
    from generation.selection import FALLBACK, MODEL_FILE, SelectionModel

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--set", type=Path, action="append", required=True, help="answerable questions (JSONL)")
    parser.add_argument("--cache", type=Path, help="keep the candidates here between runs")
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--write", action="store_true", help=f"save the model fitted on all to {MODEL_FILE}")
    args = parser.parse_args()

    if args.cache and args.cache.exists():
        cases = pickle.loads(args.cache.read_bytes())
    else:
        cases = gather(args.db, load_questions(args.set))
        if args.cache:
            args.cache.write_bytes(pickle.dumps(cases))
    by = defaultdict(list)
    for c in cases:
        by[c["collection"]].append(c)
    everything = SelectionModel.from_json(fit(cases, args.l2))
    rows = {}
    print(
        f"{'collection':<12} {'questions':>9} {'fact in passages':>16}   previous @1/@3   cross-collection @1/@3   fitted on all @1/@3"
    )
    pooled = {"previous": [], "cross": [], "all": []}
    for name in sorted(by):
        held = by[name]
        others = [c for c in cases if c["collection"] != name]
        cross = SelectionModel.from_json(fit(others, args.l2))
        prev, cv, own = evidence_at(held, FALLBACK), evidence_at(held, cross), evidence_at(held, everything)
        rows[name] = {"questions": len(held), "previous": prev, "cross_collection": cv, "fitted_on_all": own}
        for key, value in (("previous", prev), ("cross", cv), ("all", own)):
            pooled[key].append(value)
        print(
            f"{name:<12} {len(held):>9} {prev['n']:>16}   {prev['at1']:.3f}/{prev['at3']:.3f}      "
            f"{cv['at1']:.3f}/{cv['at3']:.3f}              {own['at1']:.3f}/{own['at3']:.3f}"
        )

    def pool(values):
        n = sum(v["n"] for v in values)
        return {
            "n": n,
            "at1": sum(v["at1"] * v["n"] for v in values) / n if n else 0.0,
            "at3": sum(v["at3"] * v["n"] for v in values) / n if n else 0.0,
        }

    total = {k: pool(v) for k, v in pooled.items()}
    print(
        f"{'all':<12} {len(cases):>9} {total['previous']['n']:>16}   "
        f"{total['previous']['at1']:.3f}/{total['previous']['at3']:.3f}      "
        f"{total['cross']['at1']:.3f}/{total['cross']['at3']:.3f}              "
        f"{total['all']['at1']:.3f}/{total['all']['at3']:.3f}"
    )
    for name, weight in sorted(zip(everything.features, everything.weights), key=lambda p: -abs(p[1])):
        print(f"  {name:<18} {weight:+.3f}")
    if args.write:
        MODEL_FILE.write_text(
            json.dumps(
                {
                    "about": "generation/selection.py's evidence model; made by benchmarks/fit_selection.py",
                    "sets": [str(p) for p in args.set],
                    "per_collection": rows,
                    "pooled": total,
                    "model": everything.to_json(),
                },
                indent=1,
            )
            + "\n"
        )
        print(f"wrote {MODEL_FILE}")


if __name__ == "__main__":
    main()
