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
    "the" makes no two sentences alike."""

    dimensions = 256

    def embed(self, texts):
        from core.stopwords import STOPWORDS

        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                if word in STOPWORDS:
                    continue
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimensions] += 1.0
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
