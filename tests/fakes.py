"""Deterministic stand-ins for the models, for fast logic tests (the real ones are tested elsewhere)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import numpy as np

from core.types import Chunk, Hit


class FakeEmbedder:
    """Bag-of-words vectors hashed into 256 dimensions: texts sharing words are similar. Function
    words ("the", "is", "of") are left out, as a real embedder gives them little weight: sharing
    "the" makes no two sentences alike. One small component common to every text keeps any two
    texts slightly similar (a real embedder never gives exactly 0)."""

    dimensions = 256

    def embed(self, texts):
        from core.stopwords import STOPWORDS

        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                if word in STOPWORDS:
                    continue
                out[row, 1 + int(hashlib.md5(word.encode()).hexdigest(), 16) % (self.dimensions - 1)] += 1.0
            out[row, 0] = 0.3
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    def embed_query(self, text):
        return self.embed([text])[0]


@dataclass
class FakeLLM:
    """Replies from a script, streamed a few characters at a time; records the prompts it was given."""

    replies: list[str] = field(default_factory=list)
    n_ctx: int = 2048
    prompts: list = field(default_factory=list)
    piece_chars: int = 4

    def count_tokens(self, messages) -> int:
        return sum(len(m["content"].split()) + 4 for m in messages)

    def stream_chat(self, messages, max_tokens, temperature, repeat_penalty):
        self.prompts.append(messages)
        reply = self.replies.pop(0) if self.replies else ""
        for start in range(0, len(reply), self.piece_chars):
            yield reply[start : start + self.piece_chars]


def hit(text: str, source: str = "doc.pdf", page: int | None = 1, relevance: float = 0.6, index: int = 0) -> Hit:
    chunk = Chunk.make(text, source, index, {"page": page} if page is not None else {})
    return Hit(chunk, relevance, relevance=relevance)


@dataclass
class _Committed:
    """What an in-memory store holds, shared by every handle on it (as a folder or a server is)."""

    vectors: dict = field(default_factory=dict)  # id -> unit vector
    metadatas: dict = field(default_factory=dict)  # id -> flat metadata
    version: int = 0


class InMemoryStore:
    """A vector store (index/vector_store.py) in memory, for fast tests; it passes the same contract
    as the real ones (tests/store_contract.py).

    Like Chroma's local client, each handle reads a snapshot of what was committed, taken when it
    opened and at each `refresh`: `another()` is a second writer (another process) on the same store,
    whose writes this handle sees only after refreshing. Like Chroma, it matches exact values only."""

    def __init__(self, committed: _Committed | None = None):
        self._committed = committed or _Committed()
        self._take_snapshot()

    def another(self) -> "InMemoryStore":
        return InMemoryStore(self._committed)

    def _take_snapshot(self) -> None:
        self._vectors = dict(self._committed.vectors)
        self._metadatas = dict(self._committed.metadatas)
        self._version = self._committed.version

    def _commit(self, change) -> None:
        change(self._committed.vectors, self._committed.metadatas)
        change(self._vectors, self._metadatas)
        self._committed.version += 1
        if self._version == self._committed.version - 1:
            self._version = self._committed.version  # nothing else was committed meanwhile

    def upsert(self, ids, vectors, metadatas) -> None:
        rows = np.asarray(vectors, dtype=np.float32)

        def change(vecs, metas):
            for cid, row, meta in zip(ids, rows, metadatas):
                norm = float(np.linalg.norm(row)) or 1.0
                vecs[cid], metas[cid] = row / norm, dict(meta)

        self._commit(change)

    def delete_ids(self, ids) -> None:
        def change(vecs, metas):
            for cid in ids:
                vecs.pop(cid, None)
                metas.pop(cid, None)

        self._commit(change)

    def delete_sources(self, sources) -> None:
        wanted = set(sources)
        self.delete_ids([cid for cid, meta in self._metadatas.items() if meta.get("source") in wanted])

    def query(self, vector, k, where=None):
        from index.vector_store import VectorMatch

        if k <= 0:
            return []
        if where is not None and where.path_conditions:
            raise ValueError("a store matches exact sources only: the index resolves globs and folders first")
        q = np.asarray(vector, dtype=np.float32)
        q = q / (float(np.linalg.norm(q)) or 1.0)
        scored = [
            (float(np.dot(q, v)), cid)
            for cid, v in self._vectors.items()
            if where is None or where.matches(self._metadatas[cid])
        ]
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        return [VectorMatch(cid, score) for score, cid in scored[:k]]

    def ids(self) -> set:
        return set(self._vectors)

    def ids_of_sources(self, sources) -> set:
        wanted = set(sources)
        return {cid for cid, meta in self._metadatas.items() if meta.get("source") in wanted}

    def vectors(self, ids) -> dict:
        return {cid: self._vectors[cid] for cid in ids if cid in self._vectors}

    def count(self) -> int:
        return len(self._vectors)

    def refresh(self, force: bool = False) -> bool:
        if self._version == self._committed.version and not force:
            return False
        self._take_snapshot()
        return True
