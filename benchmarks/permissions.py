"""What a user's permissions cost a search: p50 and p95 with the readable-folders condition on (a user
who may read 1 of 10 folders) against off (the owner, every folder), on the same index, in the same
run, interleaved in rounds so that load from other processes hits both alike. Also a user who may
read all 10 (the condition present, passing everything).

The index is synthetic, written through the index layer as ingest writes it (Chroma, the catalog,
Tantivy): 10 folders of equal size, ~150 words a chunk from a Zipf-distributed vocabulary
(benchmarks/retrieval.py's), random unit vectors. Query times exclude embedding the question.
Indexes are cached under ~/.cache/localgpt-bench/permissions-synth/ (--cache).

    python benchmarks/permissions.py                        # 100k chunks, 200 queries
    python benchmarks/permissions.py --sizes 2000 --queries 20 --cache /tmp/perm   # a quick check
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

CACHE = Path.home() / ".cache" / "localgpt-bench" / "permissions-synth"
FOLDERS = 10
CHUNKS_PER_FILE = 500
WORDS_PER_CHUNK = 150
VOCABULARY = 30_000
DIMS = 384
MODES = ("dense", "bm25", "hybrid")


def vocabulary(rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    """The words and their Zipf-Mandelbrot frequencies (as benchmarks/retrieval.py draws them)."""
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "shi", "vo", "pe", "da", "zu", "gri", "mon", "tel", "bar", "quo"]
    words: set[str] = set()
    while len(words) < VOCABULARY:
        words.add("".join(rng.choice(syllables, size=int(rng.integers(2, 5)))))
    ranks = np.arange(1, VOCABULARY + 1)
    weights = 1.0 / (ranks + 2.7)
    return sorted(words), weights / weights.sum()


def folder_path(n: int) -> str:
    return f"/synthetic/folder-{n:02d}"


def build(db: Path, size: int, settings, seed: int = 7) -> None:
    """A synthetic index of `size` chunks in FOLDERS folders (kept if already built)."""
    marker = db / "synthetic.json"
    if marker.exists() and json.loads(marker.read_text()).get("size") == size:
        return
    shutil.rmtree(db, ignore_errors=True)
    rng = np.random.default_rng(seed)
    words, probs = vocabulary(rng)
    info = load_embedder(settings).info
    started = time.perf_counter()
    per_folder = max(1, size // FOLDERS)
    with open_index(db, write=True) as index:
        index.check_compatible(
            IndexInfo(info.name, info.fingerprint, info.dimensions, settings.chunk_tokens, settings.chunk_overlap), True
        )
        for folder in range(FOLDERS):
            root = index.catalog.add_root(folder_path(folder), "" if folder == 0 else f"folder-{folder:02d}")
            for start in range(0, per_folder, CHUNKS_PER_FILE):
                n = min(CHUNKS_PER_FILE, per_folder - start)
                source = root.source_of(f"part-{start // CHUNKS_PER_FILE:04d}.txt")
                picks = rng.choice(len(words), size=(n, WORDS_PER_CHUNK), p=probs)
                texts = [" ".join(words[i] for i in row) for row in picks]
                chunks = [Chunk.make(t, source, i, {"page": i // 10 + 1}) for i, t in enumerate(texts)]
                vectors = rng.standard_normal((n, DIMS)).astype(np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                record = FileRecord(source, f"h{folder}-{start}", n, start, root=root.path)
                index.write_files([(record, chunks)], vectors)
            print(
                f"  built folder {folder + 1}/{FOLDERS} ({time.perf_counter() - started:.0f}s)",
                file=sys.stderr,
                end="\r",
            )
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


def timed(retriever: Retriever, qs, mode: str, k: int, folders) -> list[float]:
    times = []
    for text, vector in qs:
        started = time.perf_counter()
        retriever.run(SearchRequest(text, k, mode=mode, folders=folders), vector)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("-k", type=int, default=6)
    parser.add_argument("--cache", type=Path, default=CACHE, help="Where the synthetic indexes are kept.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = load_settings(environ={})
    embedder = load_embedder(settings)  # its info only: the questions' vectors are given
    qs = queries(args.queries)
    variants = {
        "off (every folder)": None,
        "on, 1 of 10 folders": frozenset({folder_path(3)}),
        "on, 10 of 10 folders": frozenset(folder_path(n) for n in range(FOLDERS)),
    }
    results: dict = {}
    for size in [int(s) for s in args.sizes.split(",")]:
        db = args.cache / f"n{size}"
        build(db, size, settings)
        with open_index(db) as index:
            retriever = Retriever(index, embedder, SearchOptions.of(settings))
            for mode in MODES:  # warm-up: caches, the share-passing sample
                for folders in variants.values():
                    timed(retriever, qs[:5], mode, args.k, folders)
            samples = {(mode, name): [] for mode in MODES for name in variants}
            for start in range(0, len(qs), 25):
                for mode in MODES:
                    for name, folders in variants.items():
                        samples[(mode, name)].extend(timed(retriever, qs[start : start + 25], mode, args.k, folders))
            rows = {}
            for mode in MODES:
                off = percentile(samples[(mode, "off (every folder)")], 50)
                for name in variants:
                    wall = samples[(mode, name)]
                    p50 = percentile(wall, 50)
                    rows[f"{mode}: {name}"] = {
                        "p50": round(p50, 2),
                        "p95": round(percentile(wall, 95), 2),
                        "vs_off": round(p50 / off, 3) if off else None,
                    }
            results[size] = {"chunks": index.catalog.chunk_count(), "modes": rows}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for r in results.values():
        print(f"\n{r['chunks']:,} chunks in {FOLDERS} folders, k={args.k}, {args.queries} queries")
        print(f"  {'':<34}{'p50 ms':>9}{'p95 ms':>9}{'p50 vs off':>12}")
        for name, v in r["modes"].items():
            print(f"  {name:<34}{v['p50']:>9.2f}{v['p95']:>9.2f}{v['vs_off']:>11.2f}x")


if __name__ == "__main__":
    main()
