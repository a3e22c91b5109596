"""The steps of a search, in order, each one function of plain data (retrieval/retriever.py runs them):

gather     the index's nearest and BM25 candidates (index/search.py), the filter inside its queries
fuse       one ranking from the two lists (fusion.py), cut to the plan's depth
rerank     the ranker's scores replace the ranking's (ranker.py), when asked
diversify  MMR reorders for diversity, keeping the scores (mmr.py), when asked
widen      each hit widened to its passage; a hit inside a better hit's passage is left out (passages.py)
relevance  every hit's cosine to the question, whatever the mode (from the stored vectors where needed)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Protocol, Sequence

import numpy as np

from core.types import Chunk, Hit, Passage
from index.search import Candidate
from retrieval.fusion import fuse as fuse_rankings
from retrieval.mmr import mmr_order
from retrieval.options import Plan
from retrieval.passages import passages_for
from retrieval.ranker import Ranker

log = logging.getLogger(__name__)


class Searchable(Protocol):
    """What the steps ask of the index (index/store.py `Index`)."""

    def gather(
        self,
        question: str,
        vector: np.ndarray,
        k: int,
        where,
        dense: bool = True,
        lexical: bool = True,
        least: int | None = None,
    ) -> tuple[list[Candidate], list[Candidate]]: ...

    def vectors_of(self, ids: Sequence[str]) -> dict[str, np.ndarray]: ...

    def neighbours(self, source: str, low: int, high: int) -> dict[int, str]: ...


@dataclass(frozen=True)
class Ranked:
    """A candidate on its way to a hit: its score in this search, its cosine to the question once known."""

    chunk: Chunk
    score: float
    relevance: float | None = None
    passage: Passage | None = None


def gather(index: Searchable, plan: Plan, vector: np.ndarray) -> tuple[list[Candidate], list[Candidate]]:
    """(nearest, lexical): each list's `plan.pool` best, as the plan's mode asks; under a filter
    the nearest may stop short of the pool, never of the plan's depth (index/vector_query.py)."""
    return index.gather(
        plan.question, vector, plan.pool, plan.where, dense=plan.dense, lexical=plan.lexical, least=plan.depth
    )


def fuse(plan: Plan, nearest: list[Candidate], lexical: list[Candidate]) -> list[Ranked]:
    """One ranking of the plan's depth: fused in hybrid mode, else the one list gathered. A chunk the
    vector search found carries its cosine as relevance."""
    if plan.mode == "hybrid":
        ids = fuse_rankings(
            [(c.id, c.score) for c in nearest], [(c.id, c.score) for c in lexical], plan.fusion, plan.bm25_weight
        )[: plan.depth]
    else:
        ids = [(c.id, c.score) for c in (nearest if plan.mode == "dense" else lexical)[: plan.depth]]
    chunks = {c.id: c.chunk for c in (*nearest, *lexical)}
    cosine = {c.id: c.score for c in nearest}
    return [Ranked(chunks[cid], score, relevance=cosine.get(cid)) for cid, score in ids]


def rerank(ranker: Ranker, question: str, ranked: list[Ranked]) -> list[Ranked]:
    """The candidates in the ranker's order, with its scores."""
    if not ranked:
        return ranked
    scores = ranker.score(question, [r.chunk.text for r in ranked])
    rescored = [replace(r, score=float(s)) for r, s in zip(ranked, scores)]
    return sorted(rescored, key=lambda r: -r.score)


def diversify(
    index: Searchable, ranked: list[Ranked], keep: int, dims: int
) -> tuple[list[Ranked], dict[str, np.ndarray]]:
    """Up to `keep` candidates in MMR order, and the stored vectors it read (the relevance step reuses them)."""
    if not ranked:
        return ranked, {}
    vectors = index.vectors_of([r.chunk.id for r in ranked])
    matrix = np.stack([vectors.get(r.chunk.id, np.zeros(dims, dtype=np.float32)) for r in ranked])
    order = mmr_order(np.array([r.score for r in ranked]), matrix, keep)
    return [ranked[i] for i in order], vectors


def widen(index: Searchable, ranked: list[Ranked], k: int, passage_chars: int) -> list[Ranked]:
    """The first k candidates with their passages, leaving out any inside a better one's passage;
    with `passage_chars` 0, the first k as they are."""
    if passage_chars <= 0:
        return ranked[:k]
    kept: list[Ranked] = []
    for r in ranked:
        c = r.chunk
        if any(
            o.chunk.source == c.source and o.passage.first_index <= c.chunk_index <= o.passage.last_index for o in kept
        ):
            continue
        kept.append(replace(r, passage=passages_for(index, [c], passage_chars)[0]))
        if len(kept) == k:
            break
    return kept


def relevance(
    index: Searchable, vector: np.ndarray, ranked: list[Ranked], known: dict[str, np.ndarray] | None = None
) -> list[Hit]:
    """The hits, each with its cosine to the question: for those BM25 alone found, from the stored
    vectors (`known`: those read already)."""
    known = known or {}
    missing = [r.chunk.id for r in ranked if r.relevance is None and r.chunk.id not in known]
    stored = {**known, **(index.vectors_of(missing) if missing else {})}
    cosines = cosine_to(
        vector, {r.chunk.id: stored[r.chunk.id] for r in ranked if r.relevance is None and r.chunk.id in stored}
    )
    hits = []
    for r in ranked:
        value = r.relevance
        if value is None:
            if r.chunk.id not in cosines:
                log.warning("chunk %s has no stored vector; run ingest again to repair the index", r.chunk.id)
            value = cosines.get(r.chunk.id, 0.0)
        hits.append(Hit(r.chunk, r.score, relevance=value, passage=r.passage))
    return hits


def cosine_to(vector: np.ndarray, others: dict[str, np.ndarray]) -> dict[str, float]:
    """Cosine similarity of `vector` to each stored vector."""
    q = np.asarray(vector, dtype=np.float32)
    qn = float(np.linalg.norm(q)) or 1.0
    out = {}
    for cid, v in others.items():
        vn = float(np.linalg.norm(v)) or 1.0
        out[cid] = float(np.dot(q, v) / (qn * vn))
    return out
