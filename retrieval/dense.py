"""Dense search: nearest chunks by cosine in the vector store, with metadata filters."""

from __future__ import annotations

import numpy as np

from core.filters import Filter
from index.catalog import Catalog
from index.vector_query import query_filtered
from index.vector_store import VectorMatch, VectorStore

# A filtered search first asks for this many times more unfiltered neighbours and keeps
# those that pass: Chroma's own metadata filter costs time in proportion to the rows it
# matches (~0.7 s for 10k of 100k rows on our loaded 2-core machine). If too few pass it
# asks once more, wider by the share that passed (at most OVERFETCH_MAX); only when
# that is not enough does Chroma filter.
OVERFETCH = 8
OVERFETCH_MIN = 200
OVERFETCH_MAX = 2000


def _with_content(matches: list[VectorMatch], catalog: Catalog) -> list[VectorMatch]:
    """The matches with their text and metadata, from the catalog (the store holds neither text
    nor, for what it returns, metadata); a match the catalog no longer lists is dropped."""
    content = catalog.texts_and_meta([m.id for m in matches])
    return [VectorMatch(m.id, m.score, *content[m.id]) for m in matches if m.id in content]


def dense_search(
    store: VectorStore, catalog: Catalog, vector: np.ndarray, k: int, flt: Filter | None = None
) -> list[VectorMatch]:
    """The k nearest chunks with their text and metadata, best first. The store filters only when
    the nearest neighbours, filtered here, hold too few that pass."""
    if k <= 0:
        return []
    if flt is None:
        return _with_content(store.query(vector, k), catalog)
    wide = max(k * OVERFETCH, OVERFETCH_MIN)
    while True:
        nearest = store.query(vector, wide)
        kept = [m for m in _with_content(nearest, catalog) if flt.matches(m.metadata)]
        # Exact whenever k pass: a filtered chunk closer than the k-th kept one is closer than
        # a chunk in the unfiltered list, so it is in that list too. Also exact when the list
        # is shorter than asked for: it was the whole index.
        if len(kept) >= k or len(nearest) < wide:
            return kept[:k]
        # Some passed: ask once more, as wide as the share that passed suggests, if affordable.
        wider = int(wide * k / len(kept) * 1.5) if kept else 0
        if wide >= OVERFETCH_MAX or not kept or wider > 2 * OVERFETCH_MAX:
            break
        wide = min(wider, OVERFETCH_MAX)
    return _with_content(query_filtered(store, catalog, vector, k, flt), catalog)


def cosine_to(vector: np.ndarray, others: dict[str, np.ndarray]) -> dict[str, float]:
    """Cosine similarity of `vector` to each stored vector."""
    q = np.asarray(vector, dtype=np.float32)
    qn = float(np.linalg.norm(q)) or 1.0
    out = {}
    for cid, v in others.items():
        vn = float(np.linalg.norm(v)) or 1.0
        out[cid] = float(np.dot(q, v) / (qn * vn))
    return out
