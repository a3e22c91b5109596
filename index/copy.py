"""Copy an index to another place: a folder index into PostgreSQL (a team moving to `--index-url`),
or back. Nothing is embedded again: each file's chunks and their vectors move as they are, through
the destination's own crash-safe write (`Index.write_files`), a batch of files at a time.

The destination ends holding exactly the source's files, folders and failures: a file it already
holds with the same content hash is left alone, one the source lacks is removed. So a copy that
was killed, run again, finishes where it stopped, and a copy run later brings the destination up
to date. The destination must be empty or built with the same embedding model and chunking.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from core.errors import IndexMismatchError
from index.store import Index

# What an index records about itself that describes its own place, not what built it.
_PLACE_KEYS = {"vector_store", "chroma_url", "chroma_collection", "lexical_index", "pg_schema"}
FILES_PER_BATCH = 50


@dataclass
class CopyReport:
    copied: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    chunks: int = 0


def _check_same_build(source: Index, dest: Index) -> None:
    mine, theirs = source.catalog.info(), dest.catalog.info()
    if "embedding_fingerprint" not in theirs or not dest.catalog.chunk_count():
        return
    for key in ("embedding_fingerprint", "embedding_precision", "chunk_tokens", "chunk_overlap", "index_text"):
        if mine.get(key) != theirs.get(key):
            raise IndexMismatchError(
                f"{dest.path} was built differently ({key}: {theirs.get(key)!r}, the source has {mine.get(key)!r}). "
                "Copy into an empty index (another --to, or another ?schema=)."
            )


def copy_index(source: Index, dest: Index, on_batch: Callable[[int], None] | None = None) -> CopyReport:
    """Make `dest` (opened for writing) hold what `source` holds; returns what was done."""
    _check_same_build(source, dest)
    report = CopyReport()
    dest.catalog.set_info({k: v for k, v in source.catalog.info().items() if k not in _PLACE_KEYS})
    have = {root.path for root in dest.catalog.roots()}
    for root in source.catalog.roots():
        if root.path not in have:
            dest.catalog.add_root(root.path, root.label)
    files, held = source.catalog.files(), dest.catalog.files()
    report.removed = sorted(set(held) - set(files))
    dest.remove_files(report.removed)
    wanted = []
    for name, record in sorted(files.items()):
        if name in held and held[name].content_hash == record.content_hash:
            report.unchanged += 1
        else:
            wanted.append(record)
    bulk = getattr(dest.vectors, "deferred_search_index", None)  # a store that builds its graph once, at the end
    with bulk() if bulk is not None else contextlib.nullcontext():
        _copy_files(source, dest, wanted, report, on_batch)
    for root in source.catalog.roots():
        dest.catalog.set_failures(root.path, list(source.catalog.failures(root.path).values()))
        if root.last_ingest is not None:
            dest.catalog.set_root_ingested(root.path)
    return report


def _copy_files(source: Index, dest: Index, wanted: list, report: CopyReport, on_batch) -> None:
    dims = int(source.catalog.info().get("dimensions") or 0)
    for start in range(0, len(wanted), FILES_PER_BATCH):
        batch = wanted[start : start + FILES_PER_BATCH]
        entries, vectors = [], []
        for record in batch:
            chunks = source.catalog.get_chunks(sorted(source.catalog.chunk_ids_of([record.source])))
            ordered = sorted(chunks.values(), key=lambda c: c.chunk_index)
            stored = source.vectors_of([c.id for c in ordered])
            missing = [c.id for c in ordered if c.id not in stored]
            if missing:
                raise IndexMismatchError(
                    f"{source.path}: {record.source} has {len(missing)} chunk(s) without a vector. Run "
                    "`localgpt ingest` on it first (it repairs the index), then copy again."
                )
            entries.append((record, ordered))
            vectors.extend(stored[c.id] for c in ordered)
        matrix = np.asarray(vectors, dtype=np.float32) if vectors else np.zeros((0, dims), dtype=np.float32)
        dest.write_files(entries, matrix)
        report.copied += [record.source for record in batch]
        report.chunks += sum(len(chunks) for _, chunks in entries)
        if on_batch:
            on_batch(len(report.copied))
