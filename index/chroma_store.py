"""Chroma, persistent on disk, with its telemetry off and no embedding function of its own.

It holds vectors and metadata; the text is the catalog's (index/vector_store.py says why).

Chroma's local client keeps what it loaded when it opened: another process's writes stay unseen
until it is opened again. `refresh` reopens it when its files changed (index/freshness.py), with
no read running meanwhile; a read that meets vectors changed under it (chromadb's InternalError)
reopens and tries once more, then raises `IndexBusyError`. No chromadb exception leaves this module
for those reads.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from core.filters import Filter
from core.offline import enforce_offline
from index.chroma_filter import chroma_where, sources_where
from index.chroma_search_depth import CONFIGURATION, ensure_search_depth
from index.freshness import ChangeWatch, ReadWriteLock
from index.vector_store import IndexBusyError, VectorMatch

__all__ = ["COLLECTION", "ChromaStore", "IndexBusyError"]

log = logging.getLogger(__name__)

COLLECTION = "localgpt_chunks"
SQLITE_FILE = "chroma.sqlite3"


def sqlite_files(path: Path) -> list[Path]:
    """A SQLite database and its write-ahead log: what changes when a commit lands in it."""
    return [path, path.with_name(path.name + "-wal")]


class ChromaStore:
    """`also_watch`: other files a writer changes after its vectors (the index's catalog): a reopen
    that raced with the writer's last vector commit is made good by the catalog commit after it."""

    def __init__(self, path: Path, also_watch: Sequence[Path] = ()):
        enforce_offline()
        self.path = Path(path)
        self._lock = ReadWriteLock()
        self._watch = ChangeWatch([*sqlite_files(self.path / SQLITE_FILE), *also_watch])
        self._connect()

    def _connect(self) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self._client = chromadb.PersistentClient(
            path=str(self.path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        )
        self._collection = self._client.get_or_create_collection(
            COLLECTION, embedding_function=None, configuration=CONFIGURATION
        )
        ensure_search_depth(self._collection)
        self._max_batch = max(1, int(self._client.get_max_batch_size()))

    def _reconnect(self) -> None:
        """Chroma caches, per process and path, what it found on disk when first opened. A fresh
        client reads what is there now."""
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
        self._connect()

    # -- freshness ------------------------------------------------------------
    def refresh(self, force: bool = False) -> bool:
        if not self._watch.changed(force):
            return False
        with self._lock.writing():
            self._reconnect()
            self._watch.seen()  # opening a client writes to its own files: not a change by another writer
        log.info("vector store %s reopened: another process wrote to it", self.path)
        return True

    def _read(self, what: Callable[[], Any]) -> Any:
        """`what()` under the read lock; when Chroma finds its files changed under it (an ingest by
        another process committed a moment ago), once more after reopening."""
        from chromadb.errors import InternalError

        try:
            with self._lock.reading():
                return what()
        except InternalError as exc:
            log.info("vector store %s changed under a read (%s): reopening it", self.path, exc)
        self.refresh(force=True)
        try:
            with self._lock.reading():
                return what()
        except InternalError as again:
            raise IndexBusyError(
                f"The index at {self.path.parent} is being written by an ingest right now and its vectors "
                "could not be read. Ask again in a moment."
            ) from again

    # -- writes -----------------------------------------------------------------
    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict]) -> None:
        with self._lock.reading():  # "reading": writes by this process share the client; a reopen waits
            for start in range(0, len(ids), self._max_batch):
                end = start + self._max_batch
                self._collection.upsert(
                    ids=list(ids[start:end]),
                    embeddings=np.asarray(vectors[start:end], dtype=np.float32),
                    metadatas=list(metadatas[start:end]),
                )

    def delete_sources(self, sources: Sequence[str]) -> None:
        with self._lock.reading():
            for start in range(0, len(sources), 100):
                self._collection.delete(where=sources_where(sources[start : start + 100]))

    def delete_ids(self, ids: Sequence[str]) -> None:
        with self._lock.reading():
            for start in range(0, len(ids), self._max_batch):
                self._collection.delete(ids=list(ids[start : start + self._max_batch]))

    # -- reads ------------------------------------------------------------------
    def query(self, vector: np.ndarray, k: int, where: Filter | None = None) -> list[VectorMatch]:
        """The k nearest vectors: ids and scores (asking Chroma for metadata too costs 2.5x at 100k chunks)."""
        if k <= 0:
            return []
        clause = chroma_where(where)

        def run():
            # No count() first: it costs 7-8 ms at 100k chunks, and an empty collection answers [] anyway.
            return self._collection.query(
                query_embeddings=[np.asarray(vector, dtype=np.float32)],
                n_results=k,
                where=clause,
                include=["distances"],
            )

        result = self._read(run)
        return [VectorMatch(id=i, score=1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0])]

    def ids(self) -> set[str]:
        def run() -> set[str]:
            found: set[str] = set()
            offset, page = 0, 10_000
            while True:
                batch = self._collection.get(include=[], limit=page, offset=offset)["ids"]
                found.update(batch)
                if len(batch) < page:
                    return found
                offset += page

        return self._read(run)

    def ids_of_sources(self, sources: Sequence[str]) -> set[str]:
        def run() -> set[str]:
            found: set[str] = set()
            for start in range(0, len(sources), 100):
                where = sources_where(sources[start : start + 100])
                found.update(self._collection.get(where=where, include=[])["ids"])
            return found

        return self._read(run)

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        result = self._read(lambda: self._collection.get(ids=list(ids), include=["embeddings"]))
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(result["ids"], result["embeddings"])}

    def count(self) -> int:
        return int(self._read(lambda: self._collection.count()))
