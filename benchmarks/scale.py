"""The servers against in-process, in one run, on this machine (both ends on loopback).

    python benchmarks/scale.py [--files 30] [--vectors 100000] [--queries 200] [--repeats 5] [--parts ingest,ask,scale]

1. Ingest: the same real corpus (Python library pages, HTML) ingested into an index whose
   vectors are in-process (--db/chroma) and one whose vectors are in `chroma run` on
   loopback: wall time and chunks/s. Then the store alone: the same vectors upserted into
   a fresh collection of each, vectors/s.
2. Search: the same questions (chunk vectors) against both stores (top 8), p50/p95;
   and hybrid `Retriever.search` end to end on both indexes.
3. Ask: the same GGUF (the bundled SmolLM2) in-process (llama-cpp-python) and behind
   llama-cpp-python's OpenAI-compatible server, the same packed prompt, alternating:
   first token and tokens/s (pieces of the stream; each is one token for both).
4. Scale: --vectors synthetic 384-dim unit vectors in the server and in-process, search
   p50/p95 (1,000,000 takes about ten times as long to load as 100,000: pass it when there is time).

Medians and ratios (server / in-process) are printed at the end.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from common import chroma_server, llama_server, on_path, percentile

on_path()
CORPUS = Path("/work/corpus/x/usr/share/doc/python3.11-doc/html/library")
QUESTIONS = [
    "How do I parse command line arguments?",
    "What does functools.lru_cache do?",
    "How can I read a CSV file?",
    "How do I start a thread?",
    "What is a context manager?",
]


def timed_queries(store, vectors: np.ndarray, k: int = 8) -> list[float]:
    times = []
    for vector in vectors:
        t = time.perf_counter()
        store.query(vector, k)
        times.append((time.perf_counter() - t) * 1000)
    return times


def latencies(results: dict, name: str, server_ms: list[float], local_ms: list[float]) -> None:
    """p50 and p95 of both, as results[name with {q} filled in] = (server, in-process, "ms")."""
    for q in (50, 95):
        results[name.format(q=q)] = (percentile(server_ms, q), percentile(local_ms, q), "ms")


def upsert_rate(store, ids: list[str], vectors: np.ndarray, metadatas: list[dict], batch: int = 5000) -> float:
    t = time.perf_counter()
    for s in range(0, len(ids), batch):
        store.upsert(ids[s : s + batch], vectors[s : s + batch], metadatas[s : s + batch])
    return len(ids) / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=30)
    parser.add_argument("--vectors", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--parts", default="ingest,ask,scale", help="ingest (and search), ask, scale: which to run")
    args = parser.parse_args()
    parts = set(args.parts.split(","))

    from core.offline import enforce_offline
    from core.settings import load_settings
    from index import open_index
    from index.chroma_remote import ChromaServerStore
    from index.chroma_store import ChromaStore
    from ingest.pipeline import run_ingest
    from retrieval import open_retriever

    enforce_offline()
    tmp = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    results: dict[str, tuple[float, float, str]] = {}  # name -> (server, in-process, unit)
    servers: list = []  # common.Server, closed at the end
    try:
        chroma = chroma_server(tmp / "chroma-data", log=tmp / "chroma.log")
        servers.append(chroma.start(timeout=180))
        url = chroma.url

        # 1. Ingest, same corpus.
        docs = tmp / "docs"
        docs.mkdir()
        for path in sorted(CORPUS.glob("*.html"))[: args.files]:
            shutil.copy(path, docs / path.name)
        timings: dict[str, list[float]] = {"in-process": [], "server": []}
        dbs: dict[str, Path] = {}
        for round_, name in enumerate(("in-process", "server", "server", "in-process")):  # ABBA: load drifts
            db = tmp / f"db-{name}-{round_}"  # a fresh folder each time (Chroma caches a path per process)
            settings = load_settings(
                {"db": db, "source_dir": docs, **({"chroma_url": url} if name == "server" else {})}, environ={}
            )
            t = time.perf_counter()
            report = run_ingest(settings)
            timings[name].append(time.perf_counter() - t)
            dbs[name] = db
            chunks = sum(o.chunks for o in report.outcomes)
            print(
                f"ingest {name}: {chunks} chunks in {timings[name][-1]:.1f} s ({chunks / timings[name][-1]:.1f} chunks/s)",
                flush=True,
            )
        results["ingest wall time, mean of 2 (s)"] = (
            statistics.mean(timings["server"]),
            statistics.mean(timings["in-process"]),
            "s",
        )

        with open_index(dbs["in-process"]) as index:
            ids = sorted(index.vectors.ids())
            found = index.vectors.vectors(ids)
            vectors = np.stack([found[i] for i in ids])
        metas = [{"source": f"s{n % 50}"} for n in range(len(ids))]
        local = ChromaStore(tmp / "store-local")
        remote = ChromaServerStore(url, "bench_store", must_exist=False)
        rates = {
            "server": upsert_rate(remote, ids, vectors, metas),
            "in-process": upsert_rate(local, ids, vectors, metas),
        }
        results[f"store upsert, {len(ids)} real vectors (vectors/s)"] = (rates["server"], rates["in-process"], "/s")

        # 2. Search.
        rng = np.random.default_rng(0)
        queries = vectors[rng.choice(len(vectors), size=min(args.queries, len(vectors)), replace=False)]
        for store in (remote, local):
            timed_queries(store, queries[:10])  # warm
        server_ms, local_ms = timed_queries(remote, queries), timed_queries(local, queries)
        latencies(results, f"store query top-8 p{{q}}, {len(ids)} vectors (ms)", server_ms, local_ms)
        hybrid = {}
        for name, extra in (("server", {"chroma_url": url}), ("in-process", {})):
            with open_retriever(load_settings({"db": dbs[name], **extra}, environ={})) as retriever:
                retriever.search(QUESTIONS[0])
                times = []
                for _ in range(4):
                    for q in QUESTIONS:
                        t = time.perf_counter()
                        retriever.search(q)
                        times.append((time.perf_counter() - t) * 1000)
                hybrid[name] = statistics.median(times)
        results["hybrid search end to end, median (ms)"] = (hybrid["server"], hybrid["in-process"], "ms")

        # 3. Ask: the same GGUF in-process and behind llama-cpp-python's server.
        if "ask" in parts:
            ask_bench(args, tmp, dbs["in-process"], servers, results)

        # 4. Many synthetic vectors.
        if "scale" in parts:
            scale_bench(args, tmp, url, rng, results)
    finally:
        for server in servers:
            server.close()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\n{'measure':<52} {'server':>10} {'in-process':>11} {'server/in-process':>18}")
    for name, (server, inproc_value, _unit) in results.items():
        print(f"{name:<52} {server:>10.2f} {inproc_value:>11.2f} {server / inproc_value:>17.2f}x")


def ask_bench(args, tmp: Path, db: Path, servers: list, results: dict) -> None:
    from core.settings import load_settings
    from generation.backends.bundled import bundled_llm_path
    from generation.backends.local_gguf import LlamaCppLLM
    from generation.backends.openai_llm import OpenAICompatibleLLM
    from generation.prompt import pack_prompt
    from retrieval import open_retriever

    served_by = llama_server(tmp, n_ctx=2048, threads=2)
    servers.append(served_by.start(timeout=180))
    inproc = LlamaCppLLM(bundled_llm_path(), n_ctx=2048, threads=2)
    served = OpenAICompatibleLLM(f"{served_by.url}/v1", fallback_n_ctx=2048)
    with open_retriever(load_settings({"db": db}, environ={})) as retriever:
        prompts = [
            pack_prompt(q, retriever.search(q)[:3], inproc, args.max_tokens, excerpt_sentences=3).messages
            for q in QUESTIONS
        ]
    gen: dict[str, dict[str, list[float]]] = {
        "server": {"first": [], "tps": []},
        "in-process": {"first": [], "tps": []},
    }
    for _ in range(args.repeats):
        for messages in prompts:
            for name, llm in (("in-process", inproc), ("server", served)):
                t = time.perf_counter()
                first, pieces = None, 0
                for _piece in llm.stream_chat(messages, args.max_tokens, 0.0, 1.1):
                    pieces += 1
                    first = first or time.perf_counter()
                end = time.perf_counter()
                if first is None:
                    continue
                gen[name]["first"].append((first - t) * 1000)
                if pieces > 1:
                    gen[name]["tps"].append((pieces - 1) / (end - first))
    results["ask: first token, median (ms)"] = (
        statistics.median(gen["server"]["first"]),
        statistics.median(gen["in-process"]["first"]),
        "ms",
    )
    results["ask: tokens/s after the first, median"] = (
        statistics.median(gen["server"]["tps"]),
        statistics.median(gen["in-process"]["tps"]),
        "/s",
    )
    servers.remove(served_by)
    served_by.close()


def scale_bench(args, tmp: Path, url: str, rng, results: dict) -> None:
    from index.chroma_remote import ChromaServerStore
    from index.chroma_store import ChromaStore

    n = args.vectors
    synth = rng.standard_normal((n, 384)).astype(np.float32)
    synth /= np.linalg.norm(synth, axis=1, keepdims=True)
    synth_ids = [f"v{i}" for i in range(n)]
    synth_meta = [{"source": f"s{i % 1000}"} for i in range(n)]
    big_remote = ChromaServerStore(url, "bench_big", must_exist=False)
    big_local = ChromaStore(tmp / "store-big")
    loads = {
        "server": upsert_rate(big_remote, synth_ids, synth, synth_meta),
        "in-process": upsert_rate(big_local, synth_ids, synth, synth_meta),
    }
    results[f"{n} synthetic vectors: load (vectors/s)"] = (loads["server"], loads["in-process"], "/s")
    qs = rng.standard_normal((args.queries, 384)).astype(np.float32)
    qs /= np.linalg.norm(qs, axis=1, keepdims=True)
    timed_queries(big_remote, qs[:10])
    timed_queries(big_local, qs[:10])
    server_ms, local_ms = timed_queries(big_remote, qs), timed_queries(big_local, qs)
    latencies(results, f"{n} synthetic vectors: query top-8 p{{q}} (ms)", server_ms, local_ms)


if __name__ == "__main__":
    main()
