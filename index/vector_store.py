"""The interface a vector store offers the other stages.

Chroma on disk is the one we ship; Chroma's client/server mode (a team sharing one
index) is another implementation of the same few methods, chosen by a setting.

The store holds each chunk's vector and its metadata (for filters), not its text: the
catalog (index/catalog.py) holds the text, once, with its full-text index. Text in Chroma
cost 2/3 of every write (its own full-text index over it) and was never read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

import numpy as np

from core.filters import Filter


@dataclass(frozen=True)
class VectorMatch:
    id: str
    score: float  # cosine similarity, higher is closer
    text: str = ""  # filled from the catalog by the caller that needs it
    metadata: dict[str, Any] = field(default_factory=dict)


class VectorStore(Protocol):
    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict]) -> None: ...

    def delete_sources(self, sources: Sequence[str]) -> None: ...

    def delete_ids(self, ids: Sequence[str]) -> None: ...

    def query(self, vector: np.ndarray, k: int, where: Filter | None = None) -> list[VectorMatch]:
        """The k nearest (passing the metadata filter `where`), closest first: ids and scores.

        `where` holds exact values and ranges only (no source globs or folders: index/vector_query.py
        resolves those); each store translates it into its own query language (index/chroma_filter.py)."""

    def ids(self) -> set[str]: ...

    def ids_of_sources(self, sources: Sequence[str]) -> set[str]: ...

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]: ...

    def count(self) -> int: ...
