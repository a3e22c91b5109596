"""The `Ranker` protocol: anything that scores (question, passage) pairs, higher is more relevant.

A retriever is given one ranker, made once (`load_ranker`) and shared by every thread and search
that uses it. The one we ship is a local cross-encoder (retrieval/rerank.py); another (a different
model family, a server) is one class with a `score` method, returned by `load_ranker`.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np


class Ranker(Protocol):
    def score(self, question: str, passages: Sequence[str]) -> np.ndarray:
        """One score per passage, in their order; higher is more relevant (the ranker's own scale).
        Called from several threads at once: an implementation that cannot run so serializes itself."""


def load_ranker(path: str, device: str = "auto") -> Ranker | None:
    """The ranker a --reranker setting names (a local cross-encoder folder), or None for none.
    Checks the folder now; the model itself loads on first use."""
    if not path:
        return None
    from retrieval.rerank import Reranker

    return Reranker(path, device=device)
