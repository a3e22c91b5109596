"""Finding passages for a question: dense, BM25 or hybrid, then optional reranking and MMR.

question -> embed once
  dense:  nearest vectors (the vector store)            score = cosine
  bm25:   BM25 through the lexical index (Tantivy)      score = BM25 (higher is better)
  hybrid: both candidate lists fused (fusion.py)        score = fused score
-> reranker (a `Ranker`, optional)                      score = the reranker's
-> MMR (optional): reorders for diversity, keeps the scores above
-> passages (small-to-big, passages.py): each hit widened with its neighbours; a hit
   already inside a better hit's passage is left out (its text is shown there)
-> top k, each with `relevance` = cosine to the question, whatever the mode

Each arrow is one function of retrieval/steps.py; `Retriever.run` calls them in order.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.settings import Settings
from core.types import Hit
from embeddings import Embedder, load_embedder
from index import Index, open_configured_index
from index.store import IndexInfo
from retrieval import steps
from retrieval.options import MODES, Plan, SearchOptions, SearchRequest, check_mode, plan
from retrieval.ranker import Ranker, load_ranker

__all__ = ["MODES", "Retriever", "SearchOptions", "SearchRequest", "check_mode", "open_retriever"]

log = logging.getLogger(__name__)


@dataclass
class Retriever:
    """An open index, the embedder that built it and the ranker, if any; reused across questions
    (chat, batch, each of serve's threads)."""

    index: Index
    embedder: Embedder
    options: SearchOptions = dataclasses.field(default_factory=SearchOptions)
    ranker: Ranker | None = None

    def search(
        self,
        question: str,
        k: int | None = None,
        where: Any = None,
        *,
        mode: str | None = None,
        mmr: bool | None = None,
        rerank: bool | None = None,
    ) -> list[Hit]:
        """The k best passages for `question`, best first: `run` of a `SearchRequest` with these fields."""
        return self.run(SearchRequest(question, k, where, mode, mmr, rerank))

    def plan(self, request: SearchRequest) -> Plan:
        """The request resolved against the options: an unknown mode or a malformed filter raises
        SearchOptionError, as does reranking without a reranker."""
        resolved = plan(request, self.options)
        if resolved.rerank and self.ranker is None:
            self.ranker = load_ranker(self.options.reranker, self.options.device)
        return resolved

    def validate(self, request: SearchRequest) -> Plan:
        """`plan`, and a filter on a metadata key no passage has refused (naming the keys there are):
        what every front end checks of a user's request, before its first question (chat, batch,
        serve) or its search (`search`)."""
        resolved = self.plan(request)
        self.index.check_keys(resolved.where)
        return resolved

    def run(self, request: SearchRequest, vector: np.ndarray | None = None) -> list[Hit]:
        """The passages a request asks for, best first; `vector` is the question's embedding when the
        caller has it already (evaluation times retrieval apart from embedding; the answer reuses it)."""
        p = self.plan(self.scoped(request))
        self.index.refresh()
        if vector is None:
            vector = self.embedder.embed_query(p.question)
        nearest, lexical = steps.gather(self.index, p, vector)
        ranked = steps.fuse(p, nearest, lexical)
        if p.rerank:
            ranked = steps.rerank(self.ranker, p.question, ranked)
        known: dict[str, np.ndarray] = {}
        if p.mmr:
            ranked, known = steps.diversify(self.index, ranked, p.depth if p.passage_chars > 0 else p.k, len(vector))
        ranked = steps.widen(self.index, ranked, p.k, p.passage_chars)
        return steps.relevance(self.index, vector, ranked, known)

    def scoped(self, request: SearchRequest) -> SearchRequest:
        """`request` without its readable folders when they are every folder the index holds (a user
        who may read everything): the same hits, without the cost of a filter that passes all. (Every
        file belongs to a folder once the index has one: `Catalog.add_root` gives it the older ones.)"""
        if request.folders is None:
            return request
        held = {root.path for root in self.index.catalog.roots()}
        return dataclasses.replace(request, folders=None) if held and held <= request.folders else request

    def over(self, index: Index) -> "Retriever":
        """This retriever on another connection to the same index (serve: one per thread), sharing
        the embedder, the options and the ranker."""
        return dataclasses.replace(self, index=index)

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> "Retriever":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_retriever(settings: Settings) -> Retriever:
    """Open the index for reading; refuses an embedding model other than the one that built it."""
    options = SearchOptions.of(settings).check()
    index = open_configured_index(settings)
    try:
        embedder = load_embedder(settings, index.recorded_precision())
        info = embedder.info
        index.check_compatible(
            IndexInfo(
                info.name,
                info.fingerprint,
                info.dimensions,
                settings.chunk_tokens,
                settings.chunk_overlap,
                embedder.precision,
            ),
            for_writing=False,
        )
        ranker = load_ranker(options.reranker, options.device)
    except Exception:
        index.close()
        raise
    return Retriever(index=index, embedder=embedder, options=options, ranker=ranker)
