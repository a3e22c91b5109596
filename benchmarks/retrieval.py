"""Retrieval latency at 10k and 100k chunks: dense (the foundation's search, our baseline),
BM25 (SQLite FTS5), the previous hybrid (RRF, chunks alone) and today's (convex fusion, each
hit widened to its passage), measured in the same run.

Synthetic chunks are written through the index layer (Chroma + catalog, as ingest writes
them): ~150 words each drawn from a Zipf-distributed vocabulary, random unit vectors.
Query times exclude embedding the question; that is measured apart with the bundled
model on real questions. Indexes are cached under ~/.cache/localgpt-bench/retrieval-synth/.

    python benchmarks/retrieval.py                 # 10k and 100k
    python benchmarks/retrieval.py --sizes 10000 --queries 200
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
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
from index import open_index  # noqa: E402
from index.catalog import FileRecord  # noqa: E402
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
        with open_index(db) as index:
            retriever = Retriever(index, embedder, SearchOptions.of(settings))
            # The previous default: unweighted RRF over the same candidates, hits without passages.
            previous = Retriever(
                index, embedder, SearchOptions.of(settings.replace(fusion="rrf", bm25_weight=0.5, passage_chars=0))
            )
            rows = {}
            # Interleave the modes in rounds so that load from other processes hits all alike.
            modes = [
                ("dense", retriever, "dense", None),
                ("bm25", retriever, "bm25", None),
                ("hybrid (previous)", previous, "hybrid", None),
                ("hybrid", retriever, "hybrid", None),
                ("hybrid +filter", retriever, "hybrid", ("source=synthetic/*", "page=1-50")),
            ]
            samples = {name: [] for name, *_ in modes}
            for start in range(0, len(qs), 50):
                for name, searcher, mode, where in modes:
                    samples[name].extend(time_mode(searcher, qs[start : start + 50], mode, args.k, where))
            for name, pairs in samples.items():
                wall, cpu = [w for w, _ in pairs], [c for _, c in pairs]
                # CPU time: the work itself, without the waits for a core that a loaded machine adds.
                rows[name] = {
                    "p50": round(percentile(wall, 50), 2),
                    "p95": round(percentile(wall, 95), 2),
                    "cpu_p50": round(percentile(cpu, 50), 2),
                }
            rows["hybrid/dense p50 ratio"] = round(rows["hybrid"]["p50"] / rows["dense"]["p50"], 2)
            rows["hybrid/previous p50 ratio"] = round(rows["hybrid"]["p50"] / rows["hybrid (previous)"]["p50"], 2)
            results["sizes"][size] = {"chunks": index.catalog.chunk_count(), "modes": rows}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"query embedding (bundled MiniLM, not included below): p50 {results['query_embedding_ms']['p50']:.1f} ms, "
        f"p95 {results['query_embedding_ms']['p95']:.1f} ms"
    )
    for r in results["sizes"].values():
        print(f"\n{r['chunks']:,} chunks, k={args.k}, {args.queries} queries  (dense = baseline)")
        for name, v in r["modes"].items():
            if isinstance(v, dict):
                print(
                    f"  {name:<18} p50 {v['p50']:>7.2f} ms   p95 {v['p95']:>7.2f} ms   (CPU time p50 {v['cpu_p50']:>7.2f} ms)"
                )
        print(
            f"  hybrid / dense p50: {r['modes']['hybrid/dense p50 ratio']}x, "
            f"hybrid / previous hybrid p50: {r['modes']['hybrid/previous p50 ratio']}x"
        )


if __name__ == "__main__":
    main()
