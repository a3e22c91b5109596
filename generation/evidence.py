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
# Another sentence is evidence too when it scores at least this share of the best. Measured on the dev sets
# (answer_quality.py, cross-collection, quote style): 0.85 put the fact in 64.7% of answers with 2.0 sentences
# shown, 0.75 in 68.9% with 2.5, 0.6 in 70.3% with 2.9; every collection gained or held.
NEAR_BEST = 0.6


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
    chosen = _kind_first(chosen)
    return [
        Evidence(c.n, c.start, c.end, c.text, hits[c.n - 1].chunk.source, hits[c.n - 1].chunk.location(), c.score)
        for c in chosen
    ]


# A sentence holding the kind of fact asked for comes first when it scores at least this share of the best.
KIND_FIRST = 0.9


def _kind_first(chosen: list[Candidate]) -> list[Candidate]:
    """When the best sentence lacks the kind of fact the question asks for ("What are the core hours?":
    a time) and another chosen one holds it and scores nearly as well, that one is shown first.
    Measured on the dev sets (cross-collection): evidence@1 0.506 -> 0.510, the three chosen unchanged."""
    if not chosen or chosen[0].signals.get("kind", 0.5) != 0.0:
        return chosen
    for c in chosen[1:]:
        if c.signals.get("kind") == 1.0 and c.score >= KIND_FIRST * chosen[0].score:
            return [c, *(x for x in chosen if x is not c)]
    return chosen
