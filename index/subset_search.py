"""Exact nearest neighbours among the few chunks a filter lets through, from their vectors held in
memory: a user who may read a small part of a large index searches that part in full.

The vector store's graph search (HNSW) is built over every chunk, so a filter that passes a tenth
of them needs ~10x the neighbours asked for (index/vector_query.py): at 100k chunks, 500 cost
8.4 ms against 6.4 ms for 50 (Chroma 1.5.9), and Chroma's own filter 89 ms. When the catalog
holds the ids passing a filter in memory (index/passing_sets.py) and they are at most SUBSET_MAX,
their vectors are read from the store once and the question is compared with each of them: for
10k chunks of 384 dimensions, under 1 ms, and exact where the graph search is approximate.

The vectors are keyed by the filter and checked against the exact set of ids passing it now, so a
changed folder (a chunk added, removed or moved: a moved chunk has a new id) reads them again. A
chunk's id is a hash of its source, position and text, and an index has one embedding model, so
the same ids always have the same vectors. One `Subsets` serves every thread of an index.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from core.filters import Filter
from index.vector_store import VectorMatch, VectorStore

# Most chunks searched this way for one filter (384 float32 dimensions: 30 MB).
SUBSET_MAX = 20_000
# Most filters whose vectors are kept at once; the oldest go first.
SUBSETS_MAX = 4


@dataclass(frozen=True)
class Subset:
    ids: frozenset[str]  # the ids passing the filter when it was read
    order: list[str]  # the ids with a vector in the store, in matrix order
    matrix: np.ndarray  # their unit vectors, one row each


class Subsets:
    """The vectors of a few filters' passing chunks, shared by an index's threads."""

    def __init__(self, limit: int = SUBSET_MAX, subsets: int = SUBSETS_MAX):
        self.limit = limit
        self.subsets = subsets
        self._held: dict[Filter, Subset] = {}
        self._lock = threading.Lock()

    def nearest(
        self, store: VectorStore, flt: Filter, ids: frozenset[str], vector: np.ndarray, k: int
    ) -> list[VectorMatch] | None:
        """The k chunks of `ids` nearest to `vector`, closest first, scored by cosine as the store
        scores them; None when `ids` are more than this searches."""
        if len(ids) > self.limit:
            return None
        subset = self._subset(store, flt, ids)
        if not subset.order or k <= 0:
            return []
        query = np.asarray(vector, dtype=np.float32)
        query = query / (np.linalg.norm(query) or 1.0)
        scores = subset.matrix @ query
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [VectorMatch(id=subset.order[i], score=float(scores[i])) for i in top]

    def _subset(self, store: VectorStore, flt: Filter, ids: frozenset[str]) -> Subset:
        with self._lock:
            held = self._held.get(flt)
        if held is not None and (held.ids is ids or held.ids == ids):
            return held
        found = store.vectors(sorted(ids))
        order = sorted(found)
        if order:
            matrix = np.stack([found[i] for i in order]).astype(np.float32)
            matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        else:
            matrix = np.zeros((0, 0), dtype=np.float32)
        subset = Subset(ids, order, matrix)
        with self._lock:
            self._held.pop(flt, None)
            while len(self._held) >= self.subsets:
                self._held.pop(next(iter(self._held)))
            self._held[flt] = subset
        return subset
