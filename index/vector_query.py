"""A filtered vector query: the catalog resolves a filter's source globs and folders into the
files they match, and the store, which matches exact values only, is asked batch by batch."""

from __future__ import annotations

import numpy as np

from core.filters import Filter
from index.catalog import Catalog
from index.sql_filter import matching_sources
from index.vector_store import VectorMatch, VectorStore

# Sources per store query when a glob matches many files.
SOURCE_BATCH = 1000


def query_filtered(store: VectorStore, catalog: Catalog, vector: np.ndarray, k: int, flt: Filter) -> list[VectorMatch]:
    """The k nearest chunks passing `flt`, closest first (ids and scores)."""
    sources = matching_sources(catalog.connection(), flt)
    if sources is None:
        return store.query(vector, k, where=flt)
    matches: list[VectorMatch] = []
    for start in range(0, len(sources), SOURCE_BATCH):
        matches.extend(store.query(vector, k, where=flt.with_exact_sources(sources[start : start + SOURCE_BATCH])))
    matches.sort(key=lambda m: -m.score)
    return matches[:k]
