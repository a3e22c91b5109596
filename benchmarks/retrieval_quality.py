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
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import load_settings  # noqa: E402
from evaluation.metrics import CUTOFFS, score_question  # noqa: E402
from evaluation.qa import load_qa  # noqa: E402
from retrieval import open_retriever  # noqa: E402
from retrieval.fusion import adaptive_bm25_weight, fuse, reciprocal_rank_fusion  # noqa: E402
from retrieval.lexical import bm25_search  # noqa: E402
from retrieval.passages import passages_for  # noqa: E402

POOL = 50
DEPTH = 10


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
    args = parser.parse_args()
    settings = load_settings({"db": args.db})
    items, reworded = load_groups(args.qa)
    chosen = variants()
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k in args.only.split(",")}
    results: dict[str, dict[str, list]] = {}
    with open_retriever(settings) as retriever:
        catalog = retriever.index.catalog
        conn = catalog.connection()
        for n, item in enumerate(items):
            vector = retriever.embedder.embed_query(item.question)
            dense = [(m.id, m.score) for m in retriever.index.vectors.query(vector, POOL)]
            lexical = [(m.id, m.score) for m in bm25_search(conn, item.question, POOL)]
            for name, make in chosen.items():
                ranked = [cid for cid, _ in make(item.question, dense, lexical)][: 2 * DEPTH]
                chunks_by_id = catalog.get_chunks(ranked)
                chunks = [chunks_by_id[c] for c in ranked if c in chunks_by_id]
                plain = chunks[:DEPTH]
                # small-to-big, as the retriever does: a chunk inside a better hit's passage is left out
                kept, passages = [], []
                for c in chunks:
                    if any(o.source == c.source and p.first_index <= c.chunk_index <= p.last_index for o, p in zip(kept, passages)):
                        continue
                    passages.append(passages_for(catalog, [c])[0])
                    kept.append(c)
                    if len(kept) == DEPTH:
                        break
                for label, cs, texts in ((name + " | chunk", plain, None), (name + " | passage", kept, [p.text for p in passages])):
                    score = score_question(item, cs, DEPTH, texts)
                    chars = sum(len(t) for t in (texts or [c.text for c in cs])) / max(len(cs), 1)
                    results.setdefault(label, {}).setdefault("rows", []).append((score, chars, reworded[n]))
    table = {}
    for label, data in results.items():
        rows = data["rows"]
        for group, keep in (("all", lambda r: True), ("reworded", lambda r: r is True), ("literal", lambda r: r is False)):
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
