"""Fusing the dense and the BM25 rankings into one.

Two ways, both weighted:

- reciprocal rank fusion (RRF): the sum of weight / (k + rank), by rank alone;
- convex combination: the sum of weight * score, each list's scores rescaled to 0..1 over its
  own candidates (min-max), an item missing from a list getting 0 from it.

`bm25_weight` gives BM25's share (dense gets the rest). `adaptive_bm25_weight` (raising it for
questions holding code-like terms) was measured and is not used: it did not pay (docs/retrieval.md).
"""

from __future__ import annotations

import re
from typing import Hashable, Sequence

# The constant of Cormack, Clarke & Buettcher (2009); it damps the weight of the very top ranks.
RRF_K = 60

FUSIONS = ("rrf", "convex")

# A term that is code rather than prose: holds a digit, an underscore, a dot or :: inside,
# parentheses, a leading dash (an option), or capitals after its first letter (camelCase, ALLCAPS).
_CODE_LIKE = re.compile(r"\d|_|\w[.:]+\w|\(|^--?\w|^\w+[A-Z]")


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Hashable]], k: int = RRF_K, weights: Sequence[float] | None = None
) -> list[tuple[Hashable, float]]:
    """Items of all rankings ordered by the sum of weight / (k + rank), rank counted from 1.

    Ties keep the order in which items were first seen (earlier rankings first).
    """
    weights = weights or [1.0] * len(rankings)
    scores: dict[Hashable, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    order = {item: n for n, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda pair: (-pair[1], order[pair[0]]))


def _min_max(scored: Sequence[tuple[Hashable, float]]) -> dict[Hashable, float]:
    if not scored:
        return {}
    values = [s for _, s in scored]
    low, high = min(values), max(values)
    span = high - low
    return {item: ((s - low) / span if span > 0 else 1.0) for item, s in scored}


def convex_fusion(
    scored: Sequence[Sequence[tuple[Hashable, float]]], weights: Sequence[float]
) -> list[tuple[Hashable, float]]:
    """Items of all lists ordered by the weighted sum of their min-max rescaled scores.

    Each list is (item, score) pairs, higher better, on any scale. Ties keep first-seen order.
    """
    fused: dict[Hashable, float] = {}
    for pairs, weight in zip(scored, weights):
        for item, value in _min_max(pairs).items():
            fused[item] = fused.get(item, 0.0) + weight * value
    for pairs in scored:
        for item, _ in pairs:
            fused.setdefault(item, 0.0)
    order = {item: n for n, item in enumerate(fused)}
    return sorted(fused.items(), key=lambda pair: (-pair[1], order[pair[0]]))


def code_like(term: str) -> bool:
    """Whether a question word looks like code, a number or an option rather than prose."""
    return bool(_CODE_LIKE.search(term.strip("?!,;\"'`")))


def adaptive_bm25_weight(question: str, base: float, boost: float) -> float:
    """BM25's share for this question: `base`, plus `boost` when it holds a code-like term, at most 0.9."""
    words = question.split()
    if any(code_like(w) for w in words):
        return min(0.9, base + boost)
    return base


def fuse(
    dense: Sequence[tuple[Hashable, float]],
    lexical: Sequence[tuple[Hashable, float]],
    method: str,
    bm25_weight: float,
) -> list[tuple[Hashable, float]]:
    """One ranking from the dense and BM25 (item, score) lists, best first."""
    weights = (1.0 - bm25_weight, bm25_weight)
    if method == "convex":
        return convex_fusion([dense, lexical], weights)
    # RRF: weights scaled so that 0.5/0.5 gives the classic unweighted sum.
    return reciprocal_rank_fusion([[i for i, _ in dense], [i for i, _ in lexical]], weights=[2 * w for w in weights])
