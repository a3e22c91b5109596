"""BM25 in SQL (what the database index uses) against PostgreSQL's own full-text search, on the same
database index, in the same run: recall@1/5/10 of the chunks each returns on a question set, and
latency p50/p95.

Full-text search here is the best form of it we know for questions: `to_tsvector('english', text)`
in a GIN index, the question's words OR-ed (`plainto_tsquery` with `&` turned into `|`, as BM25
takes any word), ranked by `ts_rank_cd` (normalization 1: by length). It is built in a scratch
table of the schema (dropped at the end); the index itself is not changed. Both are scored on the
chunk texts they return (no widening into passages), so the figures compare the two rankings
only; `localgpt eval` scores passages and gives higher figures.

    python benchmarks/pg_fulltext.py --index-url 'postgresql://…?schema=realdocs' benchmarks/realdocs/answerable.jsonl
    python benchmarks/pg_fulltext.py --index-url 'postgresql://…?schema=synth100000' --latency-only
"""

from __future__ import annotations

import argparse
import statistics
import time

from common import on_path

on_path()

from core.types import Chunk  # noqa: E402
from evaluation.metrics import percentile, score_question  # noqa: E402
from evaluation.qa import load_qa  # noqa: E402
from index import open_index  # noqa: E402

SCRATCH = "fulltext_bench"


def build_fulltext(database) -> float:
    """The scratch table of tsvectors with its GIN index; seconds it took."""
    started = time.perf_counter()
    with database.transaction() as conn:
        conn.execute(f"DROP TABLE IF EXISTS {database.prefix}{SCRATCH}")
        conn.execute(
            f"CREATE TABLE {database.prefix}{SCRATCH} AS "
            f"SELECT rowid, to_tsvector('english', text) AS doc FROM {database.prefix}chunks"
        )
        conn.execute(f"CREATE INDEX ON {database.prefix}{SCRATCH} USING gin (doc)")
        conn.execute(f"ANALYZE {database.prefix}{SCRATCH}")
    return time.perf_counter() - started


def fulltext(database, question: str, k: int) -> list[tuple[str, str, dict]]:
    """The k chunks full-text search ranks first: (id, text, meta)."""
    with database.connection() as conn:
        return conn.execute(
            f"""
            WITH q AS (SELECT replace(plainto_tsquery('english', %s)::text, '&', '|') AS text)
            SELECT c.id, c.text, c.meta
            FROM {database.prefix}{SCRATCH} AS f
            JOIN {database.prefix}chunks AS c ON c.rowid = f.rowid, q
            WHERE q.text <> '' AND f.doc @@ q.text::tsquery
            ORDER BY ts_rank_cd(f.doc, q.text::tsquery, 1) DESC, c.id
            LIMIT %s
            """,
            (question, k),
        ).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-url", required=True)
    parser.add_argument("qa", nargs="*")
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--latency-only", action="store_true", help="synthetic questions from the chunks' words")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with open_index("", index_url=args.index_url) as index:
        catalog, database = index.catalog, index.catalog.db
        print(f"{catalog.chunk_count():,} chunks; full-text index built in {build_fulltext(database):.1f} s")
        if args.latency_only:
            import random

            rng = random.Random(11)
            words = " ".join(
                t for t, _ in list(catalog.texts_and_meta(sorted(catalog.chunk_ids())[:500]).values())
            ).split()
            questions = [
                "what is the " + " ".join(rng.choices(words, k=rng.randint(3, 8))) + "?" for _ in range(args.queries)
            ]
            items = []
        else:
            items = [item for path in args.qa for item in load_qa(path)]
            questions = [item.question for item in items]
        times = {"bm25 in SQL": [], "full-text search": []}
        found = {"bm25 in SQL": [], "full-text search": []}
        for question in questions:  # interleaved: load from elsewhere hits both alike
            started = time.perf_counter()
            hits = catalog.lexical(question, args.k)
            times["bm25 in SQL"].append((time.perf_counter() - started) * 1000)
            content = catalog.texts_and_meta([cid for cid, _ in hits])
            found["bm25 in SQL"].append([Chunk.from_metadata(cid, *content[cid]) for cid, _ in hits if cid in content])
            started = time.perf_counter()
            rows = fulltext(database, question, args.k)
            times["full-text search"].append((time.perf_counter() - started) * 1000)
            found["full-text search"].append([Chunk.from_metadata(cid, text, meta) for cid, text, meta in rows])
        with database.transaction() as conn:
            conn.execute(f"DROP TABLE IF EXISTS {database.prefix}{SCRATCH}")
    print(f"{len(questions)} questions, k={args.k}")
    for name in times:
        line = f"  {name:<18} p50 {percentile(times[name], 50):7.1f} ms  p95 {percentile(times[name], 95):7.1f} ms"
        if items:
            scores = [score_question(item, chunks) for item, chunks in zip(items, found[name])]
            recall = {c: statistics.mean(s.recall[c] for s in scores) for c in (1, 5, 10)}
            line += f"  recall@1/5/10 {recall[1]:.3f} / {recall[5]:.3f} / {recall[10]:.3f}"
        print(line)


if __name__ == "__main__":
    main()
