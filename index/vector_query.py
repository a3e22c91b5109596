"""A filtered vector query: the catalog resolves a filter's source globs and folders into the
files they match, and the store, which matches exact values only, applies the rest inside its
own query, batch by batch of sources."""

from __future__ import annotations

import numpy as np

from core.filters import Filter
from index.catalog import Catalog
from index.vector_store import VectorMatch, VectorStore

# Sources per store query when a glob matches many files.
SOURCE_BATCH = 1000


def store_filters(catalog: Catalog, flt: Filter | None) -> list[Filter | None]:
    """The exact filters a store is asked with for `flt`, one query each (none: nothing can match)."""
    if flt is None:
        return [None]
    sources = catalog.matching_sources(flt)
    if sources is None:
        return [flt]
    return [
        flt.with_exact_sources(sources[start : start + SOURCE_BATCH]) for start in range(0, len(sources), SOURCE_BATCH)
    ]


def query_each(store: VectorStore, vector: np.ndarray, k: int, filters: list[Filter | None]) -> list[VectorMatch]:
    """The k nearest over the store queries of `filters` (ids and scores), closest first."""
    if len(filters) == 1:
        return store.query(vector, k, where=filters[0])
    matches: list[VectorMatch] = []
    for where in filters:
        matches.extend(store.query(vector, k, where=where))
    matches.sort(key=lambda m: -m.score)
    return matches[:k]


def query_filtered(store: VectorStore, catalog: Catalog, vector: np.ndarray, k: int, flt: Filter) -> list[VectorMatch]:
    """The k nearest chunks passing `flt`, closest first (ids and scores)."""
    return query_each(store, vector, k, store_filters(catalog, flt))
