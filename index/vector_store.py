"""The interface a vector store offers the other stages.

Chroma on disk is the one we ship; Chroma's client/server mode (a team sharing one
index) is another implementation of the same few methods, chosen by a setting.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence

import numpy as np


@dataclass(frozen=True)
class VectorMatch:
    id: str
    score: float  # cosine similarity, higher is closer
    text: str  # "" when asked without content
    metadata: dict[str, Any]


class VectorStore(Protocol):
    def upsert(self, ids: Sequence[str], vectors: np.ndarray, texts: Sequence[str], metadatas: Sequence[dict]) -> None: ...

    def delete_sources(self, sources: Sequence[str]) -> None: ...

    def delete_ids(self, ids: Sequence[str]) -> None: ...

    def query(self, vector: np.ndarray, k: int, where: dict | None = None, content: bool = True) -> list[VectorMatch]:
        """The k nearest, closest first; content=False may leave text and metadata empty."""

    def ids(self) -> set[str]: ...

    def ids_of_sources(self, sources: Sequence[str]) -> set[str]: ...

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]: ...

    def count(self) -> int: ...
