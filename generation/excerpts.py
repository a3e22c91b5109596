"""Short excerpts of the retrieved passages: the sentences that share the most words with the question.

A small model answers far better from a few short sentences than from whole passages, and
reads them faster. Each passage keeps its number and its place (file, page); the model sees
only its chosen sentences, in document order. The whole passage stays in the answer's
`passages` (shown by --show-sources and in --json), so nothing is hidden from the user.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from core.stopwords import MODAL_VERBS, STOPWORDS
from core.types import Hit
from core.words import term_words

_MIN_WORDS = 7
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=\S)|\n\s*\n")
IGNORED_WORDS = STOPWORDS | MODAL_VERBS  # not terms of a question or a sentence


def sentences(text: str) -> list[str]:
    """Sentences of a passage, with line breaks inside a sentence (PDF layout) joined."""
    parts = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        pieces = [s.strip() for s in _SENTENCE_END.split(" ".join(lines)) if s.strip()]
        # A very short piece ("2.", "E42: Pump cavitation detected.") is a label: keep it with what follows.
        merged: list[str] = []
        label = False
        for piece in pieces:
            if merged and label:
                merged[-1] = f"{merged[-1]} {piece}"
            else:
                merged.append(piece)
            label = len(piece.split()) < _MIN_WORDS
        parts.extend(merged)
    return parts


def terms(text: str) -> list[str]:
    words = term_words(text)
    return [_stem(w) for w in words if w not in IGNORED_WORDS]


def _stem(word: str) -> str:
    if any(c.isdigit() for c in word) or len(word) <= 4:
        return word
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def choose_excerpts(question: str, hits: list[Hit], max_sentences: int) -> list[str]:
    """For each hit, the text the model will see: its best sentences ('' when none was chosen).

    `max_sentences` counts over all hits together; 0 keeps every passage whole.
    """
    if max_sentences <= 0:
        return [hit.text for hit in hits]
    split = [sentences(hit.text) for hit in hits]
    documents = [set(terms(s)) for per_hit in split for s in per_hit]
    frequency = Counter(t for doc in documents for t in doc)
    total = max(1, len(documents))
    wanted = set(terms(question))

    def score(sentence: str) -> float:
        present = wanted & set(terms(sentence))
        return sum(math.log(1 + total / frequency[t]) for t in present)

    ranked = sorted(
        ((score(s), -rank, -pos, rank, pos) for rank, per_hit in enumerate(split) for pos, s in enumerate(per_hit)),
        reverse=True,
    )
    chosen = {(rank, pos) for sc, _, _, rank, pos in ranked[:max_sentences] if sc > 0}
    if not chosen and ranked:  # nothing shares a word with the question: the top passage's first sentences
        chosen = {(0, pos) for pos in range(min(max_sentences, len(split[0])))}
    return [" ".join(s for pos, s in enumerate(per_hit) if (rank, pos) in chosen) for rank, per_hit in enumerate(split)]
