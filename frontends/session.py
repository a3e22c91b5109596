"""One open index and one loaded model, asked many questions (chat and batch share it)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np

from core.settings import Settings
from core.types import Hit
from generation import Answer, AnswerOptions, answer, load_llm
from generation.llm import LLM
from generation.decision import answer_style
from generation.question import vocabulary
from retrieval import Retriever, SearchRequest, open_retriever


@dataclass
class Session:
    retriever: Retriever
    llm: LLM
    settings: Settings
    where: tuple[str, ...] = ()  # --where filters, applied to every search

    def search(self, *queries: str, vectors: dict[str, np.ndarray] | None = None) -> list[Hit]:
        """The best `k` passages for any of `queries`: each passage once, at its best relevance.

        `vectors` (query -> its embedding) receives each query's vector, for the answer step to reuse."""
        queries = tuple(dict.fromkeys(q for q in queries if q))
        where = list(self.where) or None
        vectors = {} if vectors is None else vectors
        best: dict[str, Hit] = {}
        for query in queries:
            vectors[query] = vector = self.retriever.embedder.embed_query(query)
            hits = self.retriever.run(SearchRequest(query, where=where), vector)
            if len(queries) == 1:
                return hits
            for hit in hits:
                kept = best.get(hit.chunk.id)
                if kept is None or _relevance(hit) > _relevance(kept):
                    best[hit.chunk.id] = hit
        return sorted(best.values(), key=_relevance, reverse=True)[: self.settings.k]

    def answer(
        self,
        question: str,
        hits: list[Hit],
        on_token: Callable[[str], None] | None = None,
        question_vector: np.ndarray | None = None,
    ) -> Answer:
        """Answer `question` from `hits`, evidence ranked with the index's own embedder."""
        catalog = self.retriever.index.catalog
        chunks = catalog.chunk_count()
        return answer(
            question,
            hits,
            self.llm,
            AnswerOptions.of(self.settings),
            on_token=on_token,
            embed=self.retriever.embedder.embed,
            question_vector=question_vector,
            word_counts=vocabulary(catalog.word_counts, chunks),
            index_chunks=chunks,
        )

    def ask(self, question: str, *also_search: str, on_token: Callable[[str], None] | None = None) -> Answer:
        """Answer `question`; passages are searched for it and for `also_search` (a follow-up's original words).

        The one path from a question to an answer: `ask`, `batch` (and the server) call it; `chat`
        calls `search` and `answer` itself, to show the rewritten question in between."""
        started = time.perf_counter()
        vectors: dict[str, np.ndarray] = {}
        hits = self.search(question, *also_search, vectors=vectors)
        searched = time.perf_counter()
        result = self.answer(question, hits, on_token=on_token, question_vector=vectors.get(question))
        result.timings["retrieve_s"] = searched - started
        result.timings["answer_s"] = result.timings.pop("total_s")
        result.timings["total_s"] = time.perf_counter() - started
        return result


def _relevance(hit: Hit) -> float:
    return hit.relevance if hit.relevance is not None else hit.score


@contextmanager
def open_session(settings: Settings, where: Sequence[str] = ()) -> Iterator[Session]:
    """Open the index and load the model, once, before the first question (errors surface here)."""
    from index.metadata_keys import check_where_keys
    from core.filters import parse_where

    with open_retriever(settings) as retriever:
        parse_where(list(where) or None)  # a malformed filter fails now, not at every question
        check_where_keys(retriever.index.catalog, where)
        llm = load_llm(settings)
        if answer_style(settings.answer_style, bool(getattr(llm, "bundled", False))) == "generate":
            llm.count_tokens([{"role": "user", "content": "ready"}])  # loads the model file now, not mid-answer
        yield Session(retriever, llm, settings, tuple(where))
