"""Evidence: the sentences of the retrieved passages that answer the question, copied verbatim.

Every sentence of every passage given to the answer step is a candidate. Each is scored by
signals that were measured on the dev sets (docs/answers.md, benchmarks/answers.py):

- `similarity`: cosine of the sentence to the question with the bundled embedder (the
  sentence embedded alone, in the context of its passage's title when it has one);
- `coverage`: the share of the question's content terms the sentence holds, each weighted by
  its rarity among the candidates (a word every sentence holds proves nothing);
- `kind`: whether it holds the kind of fact the question asks for (a number for "how many",
  a date for "when", a name for "who", a code for "which command");
- `passage`: the relevance of the passage it comes from (retrieval's cosine).

The best sentence, and up to two more that score nearly as well, are the evidence. Each keeps
its passage number `n` and its character offsets inside its passage's text, so a viewer can
highlight it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from core.types import Hit
from generation.excerpts import terms
from generation.question import Question, holds_wanted
from generation.sentences import one_line, sentence_spans

Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> unit-length vectors, one row each

# Weights of the signals (benchmarks/answers.py --sweep measured them; docs/answers.md).
WEIGHTS = {"similarity": 0.45, "coverage": 0.35, "kind": 0.10, "passage": 0.10, "before": 0.0}
MAX_EVIDENCE = 3
NEAR_BEST = 0.85  # another sentence is evidence too when it scores at least this share of the best


@dataclass(frozen=True)
class Candidate:
    """One sentence of one passage, with the signals that rank it."""

    n: int  # the passage's number (1-based, as cited)
    start: int
    end: int
    text: str  # exactly passage_text[start:end]
    signals: dict[str, float] = field(default_factory=dict)
    score: float = 0.0


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


def passage_text(hit: Hit) -> str:
    """The text of a hit that evidence offsets refer to: its passage (the matched chunk widened with
    its neighbours, retrieval/passages.py), or the chunk where a hit has no passage."""
    return hit.text


def candidates(hits: Sequence[Hit]) -> list[Candidate]:
    out = []
    for n, hit in enumerate(hits, start=1):
        text = passage_text(hit)
        for start, end in sentence_spans(text):
            out.append(Candidate(n, start, end, text[start:end]))
    return out


def _coverage(question: Question, sentences: list[str]) -> list[float]:
    bags = [set(terms(s)) for s in sentences]
    frequency = Counter(t for bag in bags for t in bag)
    total = max(1, len(bags))
    weight = {t: math.log(1 + total / frequency[t]) for t in question.terms if frequency[t]}
    # A term no candidate holds (a user's own word for it) counts as much as an average term that is there.
    absent = sum(weight.values()) / len(weight) if weight else 1.0
    weight.update({t: absent for t in question.terms if t not in weight})
    whole = sum(weight.values()) or 1.0
    return [sum(weight[t] for t in question.terms & bag) / whole for bag in bags]


def score_candidates(
    question: Question,
    hits: Sequence[Hit],
    embed: Embed | None,
    question_vector: np.ndarray | None = None,
    weights: dict[str, float] | None = None,
) -> list[Candidate]:
    """Every candidate sentence with its signals and combined score, best first."""
    weights = dict(weights or WEIGHTS)
    if embed is None:  # no similarity signal: the others share its weight
        weights.pop("similarity", None)
    scale = 1.0 / (sum(weights.values()) or 1.0)
    found = candidates(hits)
    if not found:
        return []
    texts = [one_line(c.text) for c in found]
    coverage = _coverage(question, texts)
    if embed is not None:
        vectors = embed([question.text, *texts]) if question_vector is None else embed(texts)
        qv = vectors[0] if question_vector is None else question_vector
        sims = (vectors[1:] if question_vector is None else vectors) @ qv
    else:
        sims = np.zeros(len(found))
    # What the sentence before says of the question: an answer often follows the sentence that names its subject.
    before = [0.0] * len(found)
    for i in range(1, len(found)):
        if found[i].n == found[i - 1].n:
            before[i] = (float(sims[i - 1]) + coverage[i - 1]) / 2
    scored = []
    for cand, text, cov, sim, prev in zip(found, texts, coverage, sims, before):
        kind = holds_wanted(question, text)
        hit = hits[cand.n - 1]
        rel = hit.relevance if hit.relevance is not None else 0.0
        signals = {
            "similarity": float(sim),
            "coverage": cov,
            "kind": 0.5 if kind is None else float(kind),
            "passage": float(rel),
            "before": prev,
        }
        score = scale * sum(weights.get(k, 0.0) * v for k, v in signals.items())
        scored.append(Candidate(cand.n, cand.start, cand.end, cand.text, signals, score))
    scored.sort(key=lambda c: (-c.score, c.n, c.start))
    return scored


def choose_evidence(ranked: Sequence[Candidate], hits: Sequence[Hit], most: int = MAX_EVIDENCE) -> list[Evidence]:
    """The best sentence and up to `most - 1` others scoring nearly as well, best first."""
    if not ranked:
        return []
    best = ranked[0].score
    chosen = [c for c in ranked[:most] if c is ranked[0] or (best > 0 and c.score >= NEAR_BEST * best)]
    return [
        Evidence(c.n, c.start, c.end, c.text, hits[c.n - 1].chunk.source, hits[c.n - 1].chunk.location(), c.score)
        for c in chosen
    ]
