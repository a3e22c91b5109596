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
narrow for any affordable width goes to the store at once. When the catalog holds in memory the
few ids a filter passes, the store is not asked to search the graph at all: those chunks are
compared with the question one by one (index/subset_search.py).

A caller may need fewer than k (`least`: a hybrid search fuses 50 nearest, but shows a few): the
first ask then stops at the store's search depth (DEPTH) when that is very likely to give `least`,
and whatever passes within it is kept, up to k. The list is still exact, only shorter: no passing
chunk closer than a kept one is left out. A user who may read 1 folder of 10 at 100k chunks asks
for 500 neighbours instead of 750 (10.4 against 15.5 ms in Chroma; 50 cost 7.3 ms) and keeps
about 50 of them.
"""

from __future__ import annotations

import numpy as np

from core.filters import Filter
from index.catalog import Catalog
from index.chroma_search_depth import EF_SEARCH
from index.subset_search import Subsets
from index.vector_store import VectorMatch, VectorStore

OVERFETCH = 8
OVERFETCH_MIN = 200
OVERFETCH_MAX = 2000
# Sources per store query when a glob matches many files.
SOURCE_BATCH = 1000
# Neighbours a store returns at about the cost of its own search depth (Chroma's ef_search,
# index/chroma_search_depth.py; pgvector's is the same, index/pg_vectors.py SEARCH_DEPTH); asking
# for more makes it search deeper.
DEPTH = EF_SEARCH


def first_width(k: int, share: float | None, least: int | None = None) -> int:
    """How many unfiltered neighbours to ask for first, to keep k (at least `least`) that pass;
    0: too few pass for any affordable width."""
    least = k if least is None else min(least, k)
    wide = max(k * OVERFETCH, OVERFETCH_MIN)
    if share is None:
        return wide
    if share <= 0:
        return 0
    enough = least / share * 1.5  # very likely to hold `least` that pass
    if enough > 2 * OVERFETCH_MAX:
        return 0
    full = k / share * 1.5  # very likely to hold k
    return max(wide, min(int(full), max(int(enough), DEPTH), OVERFETCH_MAX))


def nearest_passing(
    store: VectorStore,
    catalog: Catalog,
    vector: np.ndarray,
    k: int,
    flt: Filter | None,
    share: float | None = None,
    least: int | None = None,
    subsets: Subsets | None = None,
) -> list[VectorMatch]:
    """The nearest chunks passing `flt`, closest first (ids and scores): k of them, or at least
    `least` (fewer only when fewer pass). `share`: about what share of the chunks passes, if known;
    `subsets`: where a few chunks pass, search those exactly (index/subset_search.py)."""
    if k <= 0:
        return []
    if flt is None:
        return store.query(vector, k)
    known = catalog.passing_now(flt)
    if known is not None and subsets is not None:
        exact = subsets.nearest(store, flt, known, vector, k)
        if exact is not None:
            return exact
    least = k if least is None else max(1, min(least, k))
    wide = first_width(k, share, least)
    while wide:
        nearest = store.query(vector, wide)
        if known is not None:
            passing = {m.id for m in nearest if m.id in known}
        else:
            passing = catalog.passing([m.id for m in nearest], flt)
        kept = [m for m in nearest if m.id in passing]
        # Exact whenever `least` pass: a passing chunk closer than the last kept one is closer
        # than a chunk in the unfiltered list, so it is in that list too. Also exact when the
        # list is shorter than asked for: it was the whole index.
        if len(kept) >= least or len(nearest) < wide:
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
