"""The interface a vector store offers the index (index/store.py), and its errors.

Chroma on disk is the one we ship; Chroma's client/server mode (a team sharing one
index) is another implementation of the same few methods, chosen by a setting. Every store
passes the same contract tests (tests/store_contract.py); tests/fakes.py has one in memory.

The store holds each chunk's vector and its metadata (for filters), not its text: the
catalog (index/catalog.py) holds the text, once, with its full-text index. Text in Chroma
cost 2/3 of every write (its own full-text index over it) and was never read. The index joins
the two (index/store.py, `Index.nearest`): no other stage talks to a store.

Adding a store: one module implementing `VectorStore` (its errors subclasses of
`VectorStoreError`), its filter translation (as index/chroma_filter.py), a subclass of the
contract tests, and a branch in index/location.py (with its setting in core/settings.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from core.errors import LocalGPTError
from core.filters import Filter


class VectorStoreError(LocalGPTError):
    """The vector store could not be read or written; the message says what to do."""


class IndexBusyError(VectorStoreError):
    """A query met vectors that another process (an ingest) is writing right now."""

    http_status = 503


@dataclass(frozen=True)
class VectorMatch:
    id: str
    score: float  # cosine similarity, higher is closer


class VectorStore(Protocol):
    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict]) -> None:
        """Add or replace these vectors with their metadata (flat: str, int, float, bool values)."""

    def delete_sources(self, sources: Sequence[str]) -> None:
        """Delete every vector whose metadata `source` is one of these."""

    def delete_ids(self, ids: Sequence[str]) -> None: ...

    def query(self, vector: np.ndarray, k: int, where: Filter | None = None) -> list[VectorMatch]:
        """The k nearest (passing the metadata filter `where`), closest first: ids and cosine scores.

        `where` holds exact values and ranges only: the index resolves source globs and folders to
        exact sources first. Each store translates it into its own query language
        (index/chroma_filter.py) and applies it inside its query: k results whenever k pass. (The index
        asks a store to filter only when the store's unfiltered nearest, checked by the catalog, hold
        too few that pass: index/vector_query.py.)"""

    def ids(self) -> set[str]: ...

    def ids_of_sources(self, sources: Sequence[str]) -> set[str]: ...

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those `ids` the store holds."""

    def count(self) -> int: ...

    def refresh(self, force: bool = False) -> bool:
        """Make what other writers (another process's ingest) committed visible to the next reads.

        Cheap when nothing changed; a store may skip a reopen within a second of its last look
        unless `force`. Returns whether it reopened. A store that always reads current data (a
        server) does nothing. Safe to call from several threads while others read."""
