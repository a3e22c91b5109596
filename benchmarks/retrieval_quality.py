"""Retrieval quality of fusion variants, passages and BM25 query forms, in one run over one index.

Each question is embedded once; its dense top-50 and BM25 top-50 are read once; every variant
is then computed from those lists (so variants differ only in how they use them), widened to
passages when asked, and scored on the text a user would get (as `localgpt eval` scores).

    python benchmarks/retrieval_quality.py --db DB QA.jsonl [QA2.jsonl ...] [--json OUT]

A question line may carry "reworded": true/false; the table then also gives each group.
The "old" rows are the previous default (unweighted RRF, k=60, chunk text alone).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

from common import on_path

on_path()

from core.settings import load_settings  # noqa: E402
from evaluation.metrics import CUTOFFS, score_question  # noqa: E402
from evaluation.qa import load_qa  # noqa: E402
from retrieval import open_retriever  # noqa: E402
from retrieval.fusion import adaptive_bm25_weight, fuse, reciprocal_rank_fusion  # noqa: E402
from index.lexical import bm25_search  # noqa: E402
from retrieval.passages import passages_for  # noqa: E402

POOL = 50
DEPTH = 10
RERANK_TOP = 20
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n{2,}")


def maxsim_order(embedder, vector, chunks, fused_rank_weight: float) -> tuple[list, float]:
    """The chunks reordered by their best sentence's cosine to the question (blended with their
    fused rank when fused_rank_weight > 0); and the milliseconds it took."""
    started = time.perf_counter()
    sentences, owner = [], []
    for n, c in enumerate(chunks):
        for sentence in _SENTENCE.split(c.text):
            if len(sentence.split()) >= 3:
                sentences.append(sentence)
                owner.append(n)
    best = np.full(len(chunks), -1.0)
    if sentences:
        sims = embedder.embed(sentences) @ np.asarray(vector, dtype=np.float32)
        for n, sim in zip(owner, sims):
            best[n] = max(best[n], float(sim))
    rank_score = np.array([1.0 - n / max(len(chunks), 1) for n in range(len(chunks))])
    score = (1 - fused_rank_weight) * best + fused_rank_weight * rank_score
    order = sorted(range(len(chunks)), key=lambda n: -score[n])
    return [chunks[n] for n in order], (time.perf_counter() - started) * 1000


def load_groups(paths: list[str]) -> tuple[list, list[bool | None]]:
    items, reworded = [], []
    for path in paths:
        items.extend(load_qa(path))
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                reworded.append(json.loads(line).get("reworded"))
    return items, reworded


def variants() -> dict[str, callable]:
    out = {
        "dense": lambda q, d, b: d,
        "bm25": lambda q, d, b: b,
        "rrf": lambda q, d, b: [(i, s) for i, s in reciprocal_rank_fusion([[x for x, _ in d], [x for x, _ in b]])],
    }
    for w in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        out[f"rrf w={w}"] = lambda q, d, b, w=w: fuse(d, b, "rrf", w)
        out[f"convex w={w}"] = lambda q, d, b, w=w: fuse(d, b, "convex", w)
        out[f"convex adapt {w}"] = lambda q, d, b, w=w: fuse(d, b, "convex", adaptive_bm25_weight(q, w, 0.2))
        out[f"rrf adapt {w}"] = lambda q, d, b, w=w: fuse(d, b, "rrf", adaptive_bm25_weight(q, w, 0.2))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("qa", nargs="+")
    parser.add_argument("--db", required=True)
    parser.add_argument("--only", default="", help="comma-separated variant names (default: all)")
    parser.add_argument("--json", default="")
    parser.add_argument(
        "--maxsim", default="", help="variant whose top 20 to rerank by sentence max-sim (measured apart)"
    )
    parser.add_argument("--head-weight", type=float, default=None, help="BM25 weight of the head column (0: text only)")
    args = parser.parse_args()
    settings = load_settings({"db": args.db})
    items, reworded = load_groups(args.qa)
    chosen = variants()
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k in args.only.split(",")}
    results: dict[str, dict[str, list]] = {}
    rerank_ms: list[float] = []
    with open_retriever(settings) as retriever:
        catalog = retriever.index.catalog
        conn = catalog.connection()
        if args.head_weight is not None:
            conn.execute(
                "INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('rank', ?)", (f"bm25({args.head_weight}, 1.0)",)
            )
        for n, item in enumerate(items):
            vector = retriever.embedder.embed_query(item.question)
            dense = [(m.id, m.score) for m in retriever.index.vectors.query(vector, POOL)]
            lexical = [(m.id, m.score) for m in bm25_search(conn, item.question, POOL)]
            runs = list(chosen.items())
            if args.maxsim:
                for blend in (0.5,):
                    runs.append((f"{args.maxsim} +maxsim{blend}", (args.maxsim, blend)))
            for name, make in runs:
                if isinstance(make, tuple):
                    base, blend = make
                    ranked = [cid for cid, _ in chosen[base](item.question, dense, lexical)][:RERANK_TOP]
                    chunks_by_id = catalog.get_chunks(ranked)
                    chunks, ms = maxsim_order(
                        retriever.embedder, vector, [chunks_by_id[c] for c in ranked if c in chunks_by_id], blend
                    )
                    rerank_ms.append(ms)
                else:
                    ranked = [cid for cid, _ in make(item.question, dense, lexical)][: 2 * DEPTH]
                    chunks_by_id = catalog.get_chunks(ranked)
                    chunks = [chunks_by_id[c] for c in ranked if c in chunks_by_id]
                plain = chunks[:DEPTH]
                # small-to-big, as the retriever does: a chunk inside a better hit's passage is left out
                kept, passages = [], []
                for c in chunks:
                    if any(
                        o.source == c.source and p.first_index <= c.chunk_index <= p.last_index
                        for o, p in zip(kept, passages)
                    ):
                        continue
                    passages.append(passages_for(catalog, [c])[0])
                    kept.append(c)
                    if len(kept) == DEPTH:
                        break
                for label, cs, texts in (
                    (name + " | chunk", plain, None),
                    (name + " | passage", kept, [p.text for p in passages]),
                ):
                    score = score_question(item, cs, DEPTH, texts)
                    chars = sum(len(t) for t in (texts or [c.text for c in cs])) / max(len(cs), 1)
                    results.setdefault(label, {}).setdefault("rows", []).append((score, chars, reworded[n]))
        if args.head_weight is not None:
            conn.execute("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('rank', 'bm25(1.0, 1.0)')")
    if rerank_ms:
        print(f"sentence max-sim rerank of the top {RERANK_TOP}: p50 {np.median(rerank_ms):.0f} ms per query")
    table = {}
    for label, data in results.items():
        rows = data["rows"]
        for group, keep in (
            ("all", lambda r: True),
            ("reworded", lambda r: r is True),
            ("literal", lambda r: r is False),
        ):
            picked = [(s, c) for s, c, r in rows if keep(r)]
            if not picked:
                continue
            count = len(picked)
            table.setdefault(group, {})[label] = {
                **{f"R@{k}": sum(s.recall[k] for s, _ in picked) / count for k in CUTOFFS},
                "MRR@10": sum(s.mrr for s, _ in picked) / count,
                "chars": sum(c for _, c in picked) / count,
                "n": count,
            }
    for group, rows in table.items():
        print(f"\n== {group} ({next(iter(rows.values()))['n']} questions) ==")
        print(f"{'variant':<34}{'R@1':>7}{'R@5':>7}{'R@10':>7}{'MRR':>7}{'chars':>7}")
        for label, m in rows.items():
            print(f"{label:<34}{m['R@1']:>7.3f}{m['R@5']:>7.3f}{m['R@10']:>7.3f}{m['MRR@10']:>7.3f}{m['chars']:>7.0f}")
    if args.json:
        Path(args.json).write_text(json.dumps(table, indent=1))


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\n{time.perf_counter() - started:.0f} s", file=sys.stderr)
