"""Chroma, persistent on disk, with its telemetry off and no embedding function of its own.

It holds vectors and metadata; the text is the catalog's (index/vector_store.py says why)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from core.errors import LocalGPTError
from core.offline import enforce_offline
from core.filters import Filter
from index.chroma_filter import chroma_where, sources_where
from index.vector_store import VectorMatch

COLLECTION = "localgpt_chunks"


class IndexBusyError(LocalGPTError):
    """A query met an index whose first vectors an ingest is writing right now."""

    http_status = 503


class ChromaStore:
    def __init__(self, path: Path):
        enforce_offline()
        self.path = Path(path)
        self._connect()

    def _connect(self) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self._client = chromadb.PersistentClient(
            path=str(self.path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        )
        self._collection = self._client.get_or_create_collection(
            COLLECTION, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )
        self._max_batch = max(1, int(self._client.get_max_batch_size()))

    def _reconnect(self) -> None:
        """Chroma caches, per process and path, what it found on disk when first opened: a reader
        that opened the store while an ingest had not yet written any vector keeps seeing "nothing
        on disk". A fresh client reads what is there now."""
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
        self._connect()

    def reopen(self) -> None:
        """Read the store afresh from disk: what another process (an ingest) wrote since it was opened."""
        self._reconnect()

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict]) -> None:
        for start in range(0, len(ids), self._max_batch):
            end = start + self._max_batch
            self._collection.upsert(
                ids=list(ids[start:end]),
                embeddings=np.asarray(vectors[start:end], dtype=np.float32),
                metadatas=list(metadatas[start:end]),
            )

    def delete_sources(self, sources: Sequence[str]) -> None:
        for start in range(0, len(sources), 100):
            self._collection.delete(where=sources_where(sources[start : start + 100]))

    def delete_ids(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), self._max_batch):
            self._collection.delete(ids=list(ids[start : start + self._max_batch]))

    def query(self, vector: np.ndarray, k: int, where: Filter | None = None) -> list[VectorMatch]:
        """The k nearest vectors: ids and scores (asking Chroma for metadata too costs 2.5x at 100k chunks)."""
        if k <= 0:
            return []
        clause = chroma_where(where)
        from chromadb.errors import InternalError

        def run():
            # No count() first: it costs 7-8 ms at 100k chunks, and an empty collection answers [] anyway.
            return self._collection.query(
                query_embeddings=[np.asarray(vector, dtype=np.float32)],
                n_results=k,
                where=clause,
                include=["distances"],
            )

        try:
            result = run()
        except InternalError as exc:
            if "Nothing found on disk" not in str(exc):
                raise
            self._reconnect()
            try:
                result = run()
            except InternalError as again:
                raise IndexBusyError(
                    f"The index at {self.path.parent} is being written by an ingest that has not saved its first "
                    "vectors yet. Ask again in a moment."
                ) from again
        return [VectorMatch(id=i, score=1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0])]

    def ids(self) -> set[str]:
        found: set[str] = set()
        offset, page = 0, 10_000
        while True:
            batch = self._collection.get(include=[], limit=page, offset=offset)["ids"]
            found.update(batch)
            if len(batch) < page:
                return found
            offset += page

    def ids_of_sources(self, sources: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(sources), 100):
            found.update(self._collection.get(where=sources_where(sources[start : start + 100]), include=[])["ids"])
        return found

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        result = self._collection.get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(result["ids"], result["embeddings"])}

    def count(self) -> int:
        return int(self._collection.count())
