"""Retrieval latency at 10k, 100k and 1M chunks: dense (the foundation's search, our baseline),
then lexical search alone, hybrid (convex fusion, each hit widened to its passage) and hybrid
with a `--where` filter, for each lexical index, in the same run:

- FTS5 plain: SQLite's bm25() over every row matching any term (the index before the pruning);
- FTS5 pruned: the rarest terms choose the rows, the common ones only add (index/lexical.py);
- Tantivy: top-k with block-max WAND (index/lexical_tantivy.py), today's default.

Also each lexical index's disk, its build time and the memory a process gains by searching it,
and what one write of 5,000 chunks costs each (the FTS5 triggers, a Tantivy sync).

Synthetic chunks are written through the index layer (Chroma + catalog, as ingest writes
them): ~150 words each drawn from a Zipf-distributed vocabulary, random unit vectors.
Query times exclude embedding the question; that is measured apart with the bundled
model on real questions. Indexes are cached under ~/.cache/localgpt-bench/retrieval-synth/.

    python benchmarks/retrieval.py                 # 10k and 100k
    python benchmarks/retrieval.py --sizes 1000000 --queries 100   # 25 min to build, cached after
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import resource
import shutil
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

from common import on_path

on_path()

from core.settings import load_settings  # noqa: E402
from core.types import Chunk  # noqa: E402
from embeddings import load_embedder  # noqa: E402
from evaluation.metrics import percentile  # noqa: E402
import index.lexical as fts5_lexical  # noqa: E402
from index import open_index  # noqa: E402
from index.catalog import FTS5, LEXICAL_KEY, TANTIVY, FileRecord  # noqa: E402
from index.lexical_tantivy import LEXICAL_DIR  # noqa: E402
from index.store import IndexInfo  # noqa: E402
from retrieval.retriever import Retriever, SearchOptions, SearchRequest  # noqa: E402

CACHE = Path.home() / ".cache" / "localgpt-bench" / "retrieval-synth"
CHUNKS_PER_FILE = 5000
WORDS_PER_CHUNK = 150
VOCABULARY = 30_000
DIMS = 384
REAL_QUESTIONS = [
    "What is the notice period in the lease?",
    "How often should the kettle be descaled?",
    "What does error ERR-4031 mean?",
    "Which clause covers early termination of the contract?",
    "How many days of annual leave do employees get?",
]


def vocabulary(rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "shi", "vo", "pe", "da", "zu", "gri", "mon", "tel", "bar", "quo"]
    words: set[str] = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choice(syllables, size=int(rng.integers(2, 5)))))
    ranks = np.arange(1, VOCABULARY + 1)
    weights = 1.0 / (ranks + 2.7)  # Zipf-Mandelbrot, like word frequencies in text
    return sorted(words), weights / weights.sum()


def build(db: Path, size: int, settings, seed: int = 7) -> None:
    """A synthetic index of `size` chunks in `db` (kept if already built)."""
    marker = db / "synthetic.json"
    if marker.exists() and json.loads(marker.read_text()).get("size") == size:
        return
    shutil.rmtree(db, ignore_errors=True)
    db.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(str(db / "catalog.sqlite"))) as conn, conn:
        # Made with FTS5 as its lexical index (an index from before Tantivy), so that both can be
        # measured on the same chunks: Tantivy's index is built beside it (`build_tantivy`).
        conn.execute("CREATE TABLE info (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO info(key, value) VALUES (?, ?)", (LEXICAL_KEY, FTS5))
    rng = np.random.default_rng(seed)
    words, probs = vocabulary(rng)
    info = load_embedder(settings).info
    started = time.perf_counter()
    with open_index(db, write=True) as index:
        index.check_compatible(
            IndexInfo(info.name, info.fingerprint, info.dimensions, settings.chunk_tokens, settings.chunk_overlap), True
        )
        for f in range(0, size, CHUNKS_PER_FILE):
            n = min(CHUNKS_PER_FILE, size - f)
            source = f"synthetic/part-{f // CHUNKS_PER_FILE:04d}.txt"
            picks = rng.choice(len(words), size=(n, WORDS_PER_CHUNK), p=probs)
            texts = [" ".join(words[i] for i in row) + f" code ERR-{int(rng.integers(1000, 9999))}" for row in picks]
            chunks = [Chunk.make(t, source, i, {"page": i // 10 + 1}) for i, t in enumerate(texts)]
            vectors = rng.standard_normal((n, DIMS)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            # A fresh index: vectors, then the catalog rows (as Index.replace_file writes them,
            # without the journal and the delete of a previous version, which cost time here).
            index.vectors.upsert([c.id for c in chunks], vectors, [c.metadata() for c in chunks])
            index.catalog.replace_file(FileRecord(source, f"h{f}", n, f), chunks)
            print(f"  built {f + n}/{size} chunks ({time.perf_counter() - started:.0f}s)", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    marker.write_text(json.dumps({"size": size, "build_s": round(time.perf_counter() - started, 1)}))


def build_tantivy(db: Path) -> dict:
    """Tantivy's index of the same chunks, beside the FTS5 one (kept if built): its build time."""
    marker = db / "tantivy.json"
    if marker.exists() and (db / LEXICAL_DIR).exists():
        return json.loads(marker.read_text())
    with open_index(db, write=True) as index:
        started = time.perf_counter()
        chunks = index.catalog.chunk_count()
        # The rebuild an old index gets on its next ingest, without the switch that drops FTS5.
        index.words.rebuild(index.catalog, switch=False)
        index.words.close()
        built = {"build_s": round(time.perf_counter() - started, 1), "chunks": chunks}
        index.catalog.connection().execute("DELETE FROM lexical_changes")
    marker.write_text(json.dumps(built))
    return built


def disk_mb(db: Path) -> dict:
    with contextlib.closing(sqlite3.connect(str(db / "catalog.sqlite"))) as conn:
        fts = conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'chunks_fts%'").fetchone()[0] or 0
    tantivy = sum(f.stat().st_size for f in (db / LEXICAL_DIR).iterdir())
    return {"fts5": round(fts / 1e6, 1), "tantivy": round(tantivy / 1e6, 1)}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_cost(db: Path, engine: str) -> float:
    """Seconds to write one 5,000-chunk file again (same chunks) into the catalog and `engine`'s
    lexical index: FTS5's triggers inside the transaction, or the transaction then a Tantivy sync."""
    with open_index(db, write=True) as index:
        source = "synthetic/part-0000.txt"
        record = index.catalog.files()[source]
        sql = index.catalog.connection()
        rows = sql.execute(
            "SELECT rowid, id, text, meta, head FROM chunks WHERE source = ? ORDER BY chunk_index", (source,)
        ).fetchall()
        chunks = [Chunk.from_metadata(i, t, json.loads(m)) for _, i, t, m, _ in rows]
        sql.execute("DELETE FROM lexical_changes")
        if engine == TANTIVY:
            index.catalog.lexical_engine = lambda: TANTIVY
            saved = [
                r[0] for r in sql.execute("SELECT sql FROM sqlite_master WHERE name IN ('chunks_ai', 'chunks_ad')")
            ]
            sql.execute("DROP TRIGGER chunks_ai")  # with Tantivy the catalog writes no FTS5 rows
            sql.execute("DROP TRIGGER chunks_ad")
        started = time.perf_counter()
        index.catalog.replace_file(record, chunks)
        if engine == TANTIVY:
            index.settle_lexical()
        took = time.perf_counter() - started
        if engine == TANTIVY:
            # Untimed: the FTS5 rows back in step (same texts, new rowids), its triggers back.
            sql.executemany(
                "INSERT INTO chunks_fts(chunks_fts, rowid, head, text) VALUES ('delete', ?, ?, ?)",
                [(rowid, head, text) for rowid, _, text, _, head in rows],
            )
            sql.execute(
                "INSERT INTO chunks_fts(rowid, head, text) SELECT rowid, head, text FROM chunks WHERE source = ?",
                (source,),
            )
            for statement in saved:
                sql.execute(statement)
            index.catalog.lexical_engine = lambda: FTS5
        sql.execute("DELETE FROM lexical_changes")
        index.words.close()
    return took


def queries(count: int, seed: int = 11) -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    words, probs = vocabulary(np.random.default_rng(7))
    out = []
    for _ in range(count):
        n = int(rng.integers(3, 9))
        text = "what is the " + " ".join(words[i] for i in rng.choice(len(words), size=n, p=probs)) + "?"
        vector = rng.standard_normal(DIMS).astype(np.float32)
        out.append((text, vector / np.linalg.norm(vector)))
    return out


def time_mode(retriever: Retriever, qs, mode: str, k: int, where=None) -> list[tuple[float, float]]:
    for text, vector in qs[:5]:  # warm-up
        retriever.run(SearchRequest(text, k, where, mode), vector)
    times = []
    for text, vector in qs:
        started, cpu = time.perf_counter(), time.process_time()
        retriever.run(SearchRequest(text, k, where, mode), vector)
        times.append(((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("-k", type=int, default=6)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = load_settings(environ={})
    embedder = load_embedder(settings)

    # Query embedding, apart: the bundled model on real questions.
    embedder.embed_query("warm up")
    embed_ms = []
    for _ in range(4):
        for q in REAL_QUESTIONS:
            started = time.perf_counter()
            embedder.embed_query(q)
            embed_ms.append((time.perf_counter() - started) * 1000)

    qs = queries(args.queries)
    results = {
        "query_embedding_ms": {"p50": round(percentile(embed_ms, 50), 2), "p95": round(percentile(embed_ms, 95), 2)},
        "sizes": {},
    }
    for size in [int(s) for s in args.sizes.split(",")]:
        db = CACHE / f"n{size}"
        build(db, size, settings)
        tantivy_build = build_tantivy(db)
        writes = {"fts5": round(write_cost(db, FTS5), 2), "tantivy": round(write_cost(db, TANTIVY), 2)}
        with open_index(db) as fts_index, open_index(db) as tantivy_index:
            tantivy_index.catalog.lexical_engine = lambda: TANTIVY  # the same chunks, through Tantivy
            retriever = Retriever(fts_index, embedder, SearchOptions.of(settings))
            through_tantivy = Retriever(tantivy_index, embedder, SearchOptions.of(settings))
            rows = {}
            where = ("source=synthetic/*", "page=1-50")
            plain, pruned = 10**12, fts5_lexical.ROW_BUDGET
            # (name, retriever, mode, filter, FTS5 row budget)
            modes = [("dense", retriever, "dense", None, pruned)]
            for engine, searcher, budget in [
                ("FTS5 plain", retriever, plain),
                ("FTS5 pruned", retriever, pruned),
                ("Tantivy", through_tantivy, pruned),
            ]:
                modes += [
                    (f"{engine}: lexical", searcher, "bm25", None, budget),
                    (f"{engine}: hybrid", searcher, "hybrid", None, budget),
                    (f"{engine}: hybrid +filter", searcher, "hybrid", where, budget),
                ]
            memory = {}
            for engine, searcher in [("fts5", retriever), ("tantivy", through_tantivy)]:
                before = rss_mb()
                time_mode(searcher, qs[:20], "bm25", args.k)
                memory[engine] = round(rss_mb() - before, 1)
            samples = {name: [] for name, *_ in modes}
            # Interleave the modes in rounds so that load from other processes hits all alike.
            for start in range(0, len(qs), 50):
                for name, searcher, mode, flt, budget in modes:
                    fts5_lexical.ROW_BUDGET = budget
                    samples[name].extend(time_mode(searcher, qs[start : start + 50], mode, args.k, flt))
            fts5_lexical.ROW_BUDGET = pruned
            for name, pairs in samples.items():
                wall, cpu = [w for w, _ in pairs], [c for _, c in pairs]
                # CPU time: the work itself, without the waits for a core that a loaded machine adds.
                rows[name] = {
                    "p50": round(percentile(wall, 50), 2),
                    "p95": round(percentile(wall, 95), 2),
                    "p99": round(percentile(wall, 99), 2),
                    "cpu_p50": round(percentile(cpu, 50), 2),
                }
            results["sizes"][size] = {
                "chunks": fts_index.catalog.chunk_count(),
                "modes": rows,
                "lexical_disk_mb": disk_mb(db),
                "tantivy_build_s": tantivy_build["build_s"],
                "search_memory_mb": memory,
                "write_5000_chunks_s": writes,
            }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"query embedding (bundled MiniLM, not included below): p50 {results['query_embedding_ms']['p50']:.1f} ms, "
        f"p95 {results['query_embedding_ms']['p95']:.1f} ms"
    )
    for r in results["sizes"].values():
        print(f"\n{r['chunks']:,} chunks, k={args.k}, {args.queries} queries")
        print(f"  {'':<28}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'CPU p50':>9}")
        for name, v in r["modes"].items():
            print(f"  {name:<28}{v['p50']:>9.2f}{v['p95']:>9.2f}{v['p99']:>9.2f}{v['cpu_p50']:>9.2f}")
        disk, mem, writes = r["lexical_disk_mb"], r["search_memory_mb"], r["write_5000_chunks_s"]
        print(
            f"  lexical index on disk: FTS5 {disk['fts5']} MB, Tantivy {disk['tantivy']} MB; Tantivy built in "
            f"{r['tantivy_build_s']} s; memory gained by searching: FTS5 {mem['fts5']} MB, Tantivy {mem['tantivy']} MB; "
            f"writing 5,000 chunks again: FTS5 {writes['fts5']} s, Tantivy {writes['tantivy']} s"
        )


if __name__ == "__main__":
    main()
