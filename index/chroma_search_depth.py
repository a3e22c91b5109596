"""How deep Chroma's HNSW graph is searched (`ef_search`): one value for the local store and the
server's collections, set when a collection is made and brought up to date when one is opened.

Chroma's default, 100, missed the nearest chunk often on real questions (a question's vector lies
far from every chunk's, where HNSW is least exact). On the planted-fact dev set with distractors
(2,022 chunks) the top 10 held the chunk with the fact for 12 to 18 of 24 questions, a different
number in each process that opened the same index, where an exact search finds 21; with 500 the
top 10 was the exact search's, the same in every process (docs/retrieval.md, "Search depth").
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

EF_SEARCH = 500
CONFIGURATION = {"hnsw": {"space": "cosine", "ef_search": EF_SEARCH}}


def current_depth(collection) -> int | None:
    hnsw = (getattr(collection, "configuration_json", None) or {}).get("hnsw") or {}
    return hnsw.get("ef_search")


def ensure_search_depth(collection) -> None:
    """Give an existing collection (made before this setting, or with Chroma's default) our depth.
    A failure (another process holds Chroma's database a moment) leaves it as it was, and the
    next open tries again."""
    depth = current_depth(collection)
    if depth is None or depth == EF_SEARCH:
        return
    try:
        collection.modify(configuration={"hnsw": {"ef_search": EF_SEARCH}})
        log.info("vector search depth (HNSW ef_search) set to %d, was %d", EF_SEARCH, depth)
    except Exception as exc:  # noqa: BLE001 - chromadb raises several kinds; none must stop a search
        log.warning("could not set the vector search depth to %d (%s); searching at %d", EF_SEARCH, exc, depth)
