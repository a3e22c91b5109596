"""Reciprocal rank fusion: one ranking from several, by rank alone (scores need no calibration)."""
from __future__ import annotations

from typing import Hashable, Sequence

# The constant of Cormack, Clarke & Buettcher (2009); it damps the weight of the very top ranks.
RRF_K = 60


def reciprocal_rank_fusion(rankings: Sequence[Sequence[Hashable]], k: int = RRF_K) -> list[tuple[Hashable, float]]:
    """Items of all rankings ordered by the sum of 1 / (k + rank), rank counted from 1.

    Ties keep the order in which items were first seen (earlier rankings first).
    """
    scores: dict[Hashable, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    order = {item: n for n, item in enumerate(scores)}
    return sorted(scores.items(), key=lambda pair: (-pair[1], order[pair[0]]))
