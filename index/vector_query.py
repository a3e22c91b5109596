"""A filtered vector query, inside the index: the vector store's nearest neighbours, kept when the
catalog's SQL passes them; the store filters itself only when too few pass.

Chroma's own metadata filter costs 100-400 ms at 100k chunks whatever it matches (chromadb 1.5.9,
measured 2026-12-01), an unfiltered query of 400 neighbours 5 ms, and the catalog checks 400 ids
against a filter in 2 ms. So a filtered search first asks for OVERFETCH times more unfiltered
neighbours and keeps those that pass; if too few pass it asks once more, wider by the share that
passed (at most OVERFETCH_MAX); only when that is not enough is the store asked to filter, with
the filter's source globs and folders resolved by the catalog into the files they match (a store
matches exact values only), batch by batch of sources. Given the share of chunks that pass (from a
sample, `Catalog.share_passing`), the first ask is as wide as that share needs, and a filter too
narrow for any affordable width goes to the store at once.
"""

from __future__ import annotations

import numpy as np

from core.filters import Filter
from index.catalog import Catalog
from index.vector_store import VectorMatch, VectorStore

OVERFETCH = 8
OVERFETCH_MIN = 200
OVERFETCH_MAX = 2000
# Sources per store query when a glob matches many files.
SOURCE_BATCH = 1000


def first_width(k: int, share: float | None) -> int:
    """How many unfiltered neighbours to ask for first; 0: too few pass for any affordable width."""
    wide = max(k * OVERFETCH, OVERFETCH_MIN)
    if share is None:
        return wide
    needed = k / share * 1.5 if share > 0 else float("inf")
    if needed > 2 * OVERFETCH_MAX:
        return 0
    return max(wide, min(int(needed), OVERFETCH_MAX))


def nearest_passing(
    store: VectorStore, catalog: Catalog, vector: np.ndarray, k: int, flt: Filter | None, share: float | None = None
) -> list[VectorMatch]:
    """The k nearest chunks passing `flt`, closest first (ids and scores). `share`: about what share
    of the chunks passes, if known."""
    if k <= 0:
        return []
    if flt is None:
        return store.query(vector, k)
    wide = first_width(k, share)
    while wide:
        nearest = store.query(vector, wide)
        passing = catalog.passing([m.id for m in nearest], flt)
        kept = [m for m in nearest if m.id in passing]
        # Exact whenever k pass: a passing chunk closer than the k-th kept one is closer than
        # a chunk in the unfiltered list, so it is in that list too. Also exact when the list
        # is shorter than asked for: it was the whole index.
        if len(kept) >= k or len(nearest) < wide:
            return kept[:k]
        # Some passed: ask once more, as wide as the share that passed suggests, if affordable.
        wider = int(wide * k / len(kept) * 1.5) if kept else 0
        if wide >= OVERFETCH_MAX or not kept or wider > 2 * OVERFETCH_MAX:
            break
        wide = min(wider, OVERFETCH_MAX)
    return query_filtered(store, catalog, vector, k, flt)


def store_filters(catalog: Catalog, flt: Filter) -> list[Filter]:
    """The exact filters a store is asked with for `flt`, one query each (none: no file matches)."""
    sources = catalog.matching_sources(flt)
    if sources is None:
        return [flt]
    return [flt.with_exact_sources(sources[i : i + SOURCE_BATCH]) for i in range(0, len(sources), SOURCE_BATCH)]


def query_filtered(store: VectorStore, catalog: Catalog, vector: np.ndarray, k: int, flt: Filter) -> list[VectorMatch]:
    """The k nearest chunks passing `flt`, closest first (ids and scores), the store filtering."""
    matches: list[VectorMatch] = []
    for where in store_filters(catalog, flt):
        matches.extend(store.query(vector, k, where=where))
    matches.sort(key=lambda m: -m.score)
    return matches[:k]
