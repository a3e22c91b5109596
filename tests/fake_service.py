"""Fakes for the answer service (answering/) in fast tests: the smallest retriever a `Session` can
search (a few lease and kettle passages in memory, found by shared words, every query recorded;
not a store: the store contract's in-memory fake belongs in tests/fakes.py), a scripted model that
rewrites follow-ups as told, and a conversation about the lease."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.types import Chunk, Hit
from fakes import FakeEmbedder, FakeLLM
from generation.followup import REWRITE_SYSTEM

PASSAGES = [
    (
        "lease_agreement.pdf",
        1,
        "The monthly rent for the apartment is 1,850 US dollars, due on the first day of the month.",
    ),
    (
        "lease_agreement.pdf",
        2,
        "The security deposit is one month's rent, returned within 30 days after the lease ends.",
    ),
    ("lease_agreement.pdf", 2, "Either party may end the lease with sixty (60) days written notice."),
    ("kettle_manual.pdf", 4, "Descale the kettle every four weeks with a solution of citric acid."),
]


@dataclass
class FakeCatalog:
    chunks: dict[str, Chunk]

    def chunk_count(self) -> int:
        return len(self.chunks)

    def file_count(self) -> int:
        return len({c.source for c in self.chunks.values()})

    def get_chunks(self, ids) -> dict[str, Chunk]:
        return {i: self.chunks[i] for i in ids if i in self.chunks}


@dataclass
class FakeIndex:
    catalog: FakeCatalog
    path: str = "fake-db"

    def word_counts(self, words) -> dict[str, int]:
        return {w: sum(w.lower() in c.text.lower() for c in self.catalog.chunks.values()) for w in words}

    def document_mentions(self, source: str, words) -> bool:
        texts = [c.text.lower() for c in self.catalog.chunks.values() if c.source == source]
        return any(w.lower() in text for w in words for text in texts)


@dataclass
class FakeRetriever:
    """Passages sharing a word with the query, by the fake embedder's cosine; `searched` lists each query."""

    passages: list[tuple[str, int, str]] = field(default_factory=lambda: list(PASSAGES))
    k: int = 3
    embedder: FakeEmbedder = field(default_factory=FakeEmbedder)
    searched: list[str] = field(default_factory=list)
    index: FakeIndex = field(init=False)

    def __post_init__(self):
        made = [Chunk.make(text, source, n, {"page": page}) for n, (source, page, text) in enumerate(self.passages)]
        self._chunks = made
        self.index = FakeIndex(FakeCatalog({c.id: c for c in made}))

    def validate(self, request) -> None:
        """Every filter is valid here (the real one checks its keys against the index)."""

    def run(self, request, vector: np.ndarray | None = None) -> list[Hit]:
        self.searched.append(request.question)
        return self._find(request.question, request.k or self.k, vector)

    def search(self, question: str, k: int | None = None, where=None, mode=None) -> list[Hit]:
        self.searched.append(question)
        return self._find(question, k or self.k)

    def _find(self, question: str, k: int, vector: np.ndarray | None = None) -> list[Hit]:
        vector = self.embedder.embed_query(question) if vector is None else vector
        found = self.embedder.embed([c.text for c in self._chunks]) @ vector
        ranked = sorted(range(len(self._chunks)), key=lambda n: -found[n])
        # Sharing a word: the fake embedder's common component alone gives a cosine under 0.1.
        return [Hit(self._chunks[n], float(found[n]), relevance=float(found[n])) for n in ranked[:k] if found[n] > 0.1]

    def close(self) -> None:
        pass


@dataclass
class Rewriting(FakeLLM):
    """A scripted model that rewrites follow-ups as told and answers from its replies; `rewrites` counts."""

    rewrite: str = ""
    rewrites: int = 0

    def stream_chat(self, messages, max_tokens, temperature, repeat_penalty):
        if messages[0]["content"] != REWRITE_SYSTEM:
            yield from super().stream_chat(messages, max_tokens, temperature, repeat_penalty)
            return
        self.rewrites += 1
        yield self.rewrite


RENT = "What is the monthly rent for the apartment?"
RENT_ANSWER = "The monthly rent is 1,850 US dollars [1]."
FOLLOWUP = "And how much is the security deposit?"
INVENTED = "How much is the security deposit of 4,200 dollars for the apartment?"  # 4,200: in no turn
GOOD = "How much is the security deposit for the apartment?"
FALLBACK = f"{FOLLOWUP} (monthly rent apartment)"  # the question and the previous question's key terms
