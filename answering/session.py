"""One open index and one loaded model, asked many questions: the one path from a question to an answer.

`Session.ask(question, history, on_event)` makes a follow-up standalone (generation/followup.py),
searches, answers and times it. `ask`, `chat`, `batch`, `serve` (and its OpenAI API) and the
answer benchmarks all call it; a front end only renders what it hears and what it gets back.

Events (`on_event(name, data)`), in order:
- "searching" {"standalone": ...}: a follow-up was rewritten; this is what is searched and answered;
- "retrieved" {"hits": [Hit, ...]}: the passages found, before the model is asked;
- "token" {"text": ...}: each piece of the answer as the model writes it.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from core.settings import Settings
from core.types import Hit
from generation import Answer, AnswerOptions, answer
from generation.decision import answer_style
from generation.followup import History, Rewrite, rewrite_followup
from generation.backends import load_llm
from generation.llm import LLM, Sampling
from generation.question import vocabulary
from retrieval import Retriever, SearchRequest, open_retriever

Event = Callable[[str, dict], None]


def _silent(name: str, data: dict) -> None:
    pass


def _now(read: Callable[[], Any]) -> Any:
    return read()


def warm_up(llm: LLM) -> None:
    """Load the model file now, not in the middle of the first answer (errors surface here)."""
    llm.count_tokens([{"role": "user", "content": "ready"}])


def will_generate(llm: LLM, settings: Settings) -> bool:
    """Whether answers will be the model's own words (--answer-style; "auto" quotes with the bundled model)."""
    return answer_style(settings.answer_style, bool(getattr(llm, "bundled", False))) == "generate"


def history_of(turns: Sequence[dict] | None) -> History:
    """A conversation as the HTTP APIs send it, [{"question", "answer", "standalone"?}...] oldest first."""
    history = History()
    for turn in turns or []:
        question = str(turn.get("question", ""))
        history.add(question, str(turn.get("standalone") or question), str(turn.get("answer", "")))
    return history


@dataclass
class Session:
    retriever: Retriever
    llm: LLM
    settings: Settings
    where: tuple[str, ...] = ()  # --where filters, applied to every search
    # Held while the model works (the server's line in front of it); nothing by default.
    model_turn: Callable[[], AbstractContextManager] = nullcontext
    # Runs each search (the server's reopen-if-an-ingest-changed-the-index); a plain call by default.
    reading: Callable[[Callable[[], Any]], Any] = _now
    # The folders this session may read (a served user's permissions); None: all of them.
    folders: frozenset[str] | None = None

    def search(self, *queries: str, vectors: dict[str, np.ndarray] | None = None) -> list[Hit]:
        """The best `k` passages for any of `queries`: each passage once, at its best relevance.

        `vectors` (query -> its embedding) receives each query's vector, for the answer step to reuse."""
        queries = tuple(dict.fromkeys(q for q in queries if q))
        where = list(self.where) or None
        vectors = {} if vectors is None else vectors
        best: dict[str, Hit] = {}
        for query in queries:
            vectors[query] = vector = self.retriever.embedder.embed_query(query)
            hits = self.retriever.run(SearchRequest(query, where=where, folders=self.folders), vector)
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
        index = self.retriever.index
        # Counts over the whole index would tell a user restricted to some folders what the others
        # hold ("the documents do not mention X"): their answers are decided without them.
        chunks = index.catalog.chunk_count() if self.folders is None else 0
        counts = vocabulary(index.word_counts, chunks) if self.folders is None else None
        return answer(
            question,
            hits,
            self.llm,
            AnswerOptions.of(self.settings),
            on_token=on_token,
            embed=self.retriever.embedder.embed,
            question_vector=question_vector,
            word_counts=counts,
            index_chunks=chunks,
            mentions=index.document_mentions,
        )

    def rewrite(self, question: str, history: History) -> Rewrite:
        """`question` made standalone from `history` (as-is when it needs no conversation)."""
        settings = self.settings
        return rewrite_followup(question, history, self.llm, settings.history_tokens, Sampling.of(settings))

    def ask(self, question: str, history: History | None = None, on_event: Event | None = None) -> Answer:
        """The answer to `question`; a follow-up is made standalone from `history` first.

        Without a conversation the search runs before the model's turn (the server searches while
        others generate); a follow-up needs the model to rewrite it, so it takes its turn first.
        The question as typed is searched beside a rewrite: if the rewrite went wrong, its own words
        still count. Timings: retrieve_s, answer_s (the answer step) and total_s (all of it)."""
        emit = on_event or _silent
        started = time.perf_counter()
        vectors: dict[str, np.ndarray] = {}
        if history is None or not history.turns:
            hits = self.reading(lambda: self.search(question, vectors=vectors))
            searched = time.perf_counter()
            with self.model_turn():
                result = self._answer(question, hits, vectors, emit)
        else:
            with self.model_turn():
                standalone = self.rewrite(question, history).standalone
                if standalone != question:
                    emit("searching", {"standalone": standalone})
                hits = self.reading(lambda: self.search(standalone, question, vectors=vectors))
                searched = time.perf_counter()
                result = self._answer(standalone, hits, vectors, emit)
        result.timings["retrieve_s"] = searched - started
        result.timings["answer_s"] = result.timings.pop("total_s")
        result.timings["total_s"] = time.perf_counter() - started
        return result

    def _answer(self, question: str, hits: list[Hit], vectors: dict, emit: Event) -> Answer:
        emit("retrieved", {"hits": hits})
        return self.answer(
            question,
            hits,
            on_token=lambda piece: emit("token", {"text": piece}),
            question_vector=vectors.get(question),
        )


def _relevance(hit: Hit) -> float:
    return hit.relevance if hit.relevance is not None else hit.score


@contextmanager
def open_session(settings: Settings, where: Sequence[str] = ()) -> Iterator[Session]:
    """Open the index and load the model, once, before the first question (errors surface here)."""
    with open_retriever(settings) as retriever:
        # A bad filter fails now, not at every question.
        retriever.validate(SearchRequest("", where=list(where) or None))
        llm = load_llm(settings)
        if will_generate(llm, settings):  # a quoting session loads the model only if a follow-up needs it
            warm_up(llm)
        yield Session(retriever, llm, settings, tuple(where))
