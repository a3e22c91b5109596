"""Maximal marginal relevance: pick passages that are relevant and unlike those already picked."""

from __future__ import annotations

import numpy as np

# Weight of relevance against novelty; 1.0 is the plain ranking.
MMR_LAMBDA = 0.7


def _unit(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)


def mmr_order(relevance: np.ndarray, vectors: np.ndarray, k: int, lam: float = MMR_LAMBDA) -> list[int]:
    """Indices of up to k candidates in MMR order.

    `relevance` is the candidates' score for the question in the search's own mode,
    rescaled here to 0..1 so that BM25 and fused scores weigh like cosines;
    `vectors` their embeddings (one row each), which measure how alike two passages are.
    """
    n = len(relevance)
    if n == 0 or k <= 0:
        return []
    rel = np.asarray(relevance, dtype=np.float64)
    span = rel.max() - rel.min()
    rel = (rel - rel.min()) / span if span > 0 else np.ones(n)
    unit = _unit(np.asarray(vectors, dtype=np.float64))
    similarity = unit @ unit.T
    chosen: list[int] = [int(np.argmax(rel))]
    closest = similarity[chosen[0]].copy()  # each candidate's highest similarity to a chosen one
    while len(chosen) < min(k, n):
        value = lam * rel - (1.0 - lam) * closest
        value[chosen] = -np.inf
        pick = int(np.argmax(value))
        chosen.append(pick)
        closest = np.maximum(closest, similarity[pick])
    return chosen
