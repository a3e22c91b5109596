"""The embedding stage on a GPU: which device and backend our Embedder picks, whether its vectors match
the CPU's, and chunks/s on the GPU against the same machine's CPU, in the same run.

    python benchmarks/gpu_embed.py --texts chunks.jsonl [--model DIR] [--reference ref.npy] [--runs 3]

--texts: JSON lines with a "text" field (real chunks, e.g. from an index's catalog: --export-from DB writes
them). --reference: float32 vectors of the first rows, made on another machine's CPU with
`--write-reference` (the index's vectors): the GPU's must match them. Nothing here needs the network.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import time
from pathlib import Path

import numpy as np

from common import on_path

on_path()

from embeddings.embedder import Embedder, gpu_may_exist, new_index_precision  # noqa: E402


def export_chunks(db: Path, out: Path, count: int) -> None:
    """`count` chunk texts from an index's catalog, spread over its files."""
    with sqlite3.connect(db / "catalog.sqlite") as con:
        rows = con.execute("SELECT text FROM chunks ORDER BY (rowid * 7919) % 10007 LIMIT ?", (count,)).fetchall()
    out.write_text("".join(json.dumps({"text": text}) + "\n" for (text,) in rows), encoding="utf-8")
    print(f"wrote {len(rows)} chunks to {out}")


def timed(embedder: Embedder, texts: list[str], runs: int) -> float:
    """Median chunks/s of `runs` passes over all texts (after one warm-up batch)."""
    embedder.embed(texts[:64])
    rates = []
    for _ in range(runs):
        started = time.perf_counter()
        embedder.embed(texts)
        if embedder.device == "cuda":
            import torch

            torch.cuda.synchronize()
        rates.append(len(texts) / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=Path, required=True)
    parser.add_argument(
        "--model", type=Path, default=None, help="a sentence-transformers folder (default: the bundled one)"
    )
    parser.add_argument("--reference", type=Path, default=None)
    parser.add_argument(
        "--write-reference",
        type=int,
        default=0,
        metavar="N",
        help="write the first N vectors (CPU) to --reference and stop",
    )
    parser.add_argument(
        "--export-from", type=Path, default=None, metavar="DB", help="write --texts from an index and stop"
    )
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.export_from:
        return export_chunks(args.export_from, args.texts, args.count)
    if args.model is None:
        from embeddings.bundled import bundled_embedding_model_path

        args.model = bundled_embedding_model_path()
    texts = [json.loads(line)["text"] for line in args.texts.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.write_reference:
        cpu = Embedder(args.model, device="cpu", backend="torch")
        np.save(args.reference, cpu.embed(texts[: args.write_reference]))
        return print(f"wrote {args.write_reference} float32 CPU vectors (torch) to {args.reference}")

    auto = Embedder(args.model)  # what ingest does with the defaults
    print(f"gpu_may_exist: {gpu_may_exist()}; new index precision: {new_index_precision('auto', 'auto', args.model)}")
    print(f"auto picks: device {auto.device}, backend {auto.backend}, compute {auto.compute}, batch {auto.batch_size}")
    if args.reference is not None and args.reference.exists():
        reference = np.load(args.reference)
        got = auto.embed(texts[: len(reference)])
        cosine = np.sum(got * reference, axis=1)
        print(
            f"against the other machine's CPU vectors ({len(reference)}): cosine min {cosine.min():.6f}, "
            f"median {np.median(cosine):.6f}; top-1 neighbour agrees for "
            f"{np.mean(np.argmax(got @ reference.T, axis=1) == np.arange(len(reference))):.3f}"
        )
    print(f"{len(texts)} chunks, median of {args.runs} passes each")
    cpu = Embedder(args.model, device="cpu", backend="torch")
    cpu_rate = timed(cpu, texts, args.runs)
    print(f"cpu torch float32 (batch {cpu.batch_size}): {cpu_rate:8.1f} chunks/s   (baseline)")
    for batch in (32, 128):
        gpu = Embedder(args.model, device=auto.device, batch_size=batch)
        rate = timed(gpu, texts, args.runs)
        print(f"{gpu.device} {gpu.backend} (batch {batch}): {rate:8.1f} chunks/s   {rate / cpu_rate:6.1f}x the cpu")


if __name__ == "__main__":
    main()
