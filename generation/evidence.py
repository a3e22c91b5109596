"""Evidence: the sentences of the retrieved passages that answer the question, copied verbatim.

Every sentence of every passage given to the answer step is a candidate, scored by the
evidence-selection model (generation/selection.py: signals of the sentence and its context,
weighed by a logistic regression fitted on the dev sets). The best sentence, and up to two
more that score nearly as well, are the evidence; the same sentence found in two overlapping
passages is evidence once. Each keeps its passage number `n` and its character offsets inside
its passage's text, so a viewer can highlight it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from core.types import Hit
from generation.question import Question
from generation.selection import Candidate, Embed, passage_text, select
from generation.sentences import one_line

__all__ = ["Candidate", "Embed", "Evidence", "choose_evidence", "passage_text", "score_candidates"]

MAX_EVIDENCE = 3
NEAR_BEST = 0.85  # another sentence is evidence too when it scores at least this share of the best


@dataclass(frozen=True)
class Evidence:
    """A sentence quoted from a passage as what the answer rests on."""

    n: int
    start: int
    end: int
    text: str  # verbatim: the passage's text[start:end]
    source: str
    location: str
    score: float

    def quote(self) -> str:
        return one_line(self.text)

    def to_json(self) -> dict:
        return {
            "n": self.n,
            "text": self.text,
            "source": self.source,
            "location": self.location,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 4),
        }


def score_candidates(
    question: Question,
    hits: Sequence[Hit],
    embed: Embed | None,
    question_vector: np.ndarray | None = None,
) -> list[Candidate]:
    """Every candidate sentence with its signals and its probability of holding the answer, best first."""
    return select(question, hits, embed, question_vector)


def choose_evidence(ranked: Sequence[Candidate], hits: Sequence[Hit], most: int = MAX_EVIDENCE) -> list[Evidence]:
    """The best sentence and up to `most - 1` others scoring nearly as well, best first, each text once."""
    if not ranked:
        return []
    best = ranked[0].score
    chosen: list[Candidate] = []
    seen: set[str] = set()
    for c in ranked:
        if len(chosen) == most or (chosen and not (best > 0 and c.score >= NEAR_BEST * best)):
            break
        key = one_line(c.text).lower()
        if key in seen:
            continue
        seen.add(key)
        chosen.append(c)
    return [
        Evidence(c.n, c.start, c.end, c.text, hits[c.n - 1].chunk.source, hits[c.n - 1].chunk.location(), c.score)
        for c in chosen
    ]
