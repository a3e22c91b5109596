"""Evidence selection as answer-sentence selection: which sentence of the passages holds the fact.

Every sentence of every passage is a candidate, read with its context: the sentences around it,
the heading path of its chunk and the document's title ("The default value of this macro is 8"
is about the macro its heading names). Each candidate gets the signals in FEATURES; a logistic
regression learned on the dev sets (`benchmarks/fit_selection.py`, fitted on some collections
and reported on others) turns them into the probability that the sentence holds the answer.
The weights ship as a small data file beside this module (selection_model.json); without it,
or for a feature it lacks, the weight is 0.

The signals:
- `similarity`: cosine of the sentence to the question (the bundled embedder);
- `similarity_head`: cosine of the passage's heading path and title to the question;
- `similarity_framed`: cosine of the sentence embedded under its heading path and title;
- `coverage`: the share of the question's terms in the sentence, weighted by rarity among the
  candidates; `coverage_index`: the same weighted by rarity in the whole index;
- `coverage_context`: the share of the question's terms in the sentence, the one before it and
  the heading path together (index rarity);
- `subject`: the question's rarest term is in the sentence or its heading;
- `kind`: the sentence holds the kind of fact asked for (number, date, name, code); `kind_next`:
  the next sentence does (the sentence naming a subject often comes before its value);
- `before`: how well the sentence before answers (its similarity and coverage);
- `passage_relevance`, `passage_rank` (1 for the first passage, falling), `first_in_passage`;
- `length`: log of the sentence's characters; `listing`: it reads like a table of contents or an
  index (dot leaders, runs of page numbers), or its page is one (ingest marks such PDF pages).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from core.index_text import head_of
from core.types import Hit
from generation.excerpts import terms
from generation.question import Question, holds_wanted
from generation.sentences import one_line, sentence_spans

Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> unit-length vectors, one row each

FEATURES = (
    "similarity",
    "similarity_head",
    "similarity_framed",
    "coverage",
    "coverage_index",
    "coverage_context",
    "subject",
    "kind",
    "kind_next",
    "before",
    "passage_relevance",
    "passage_rank",
    "first_in_passage",
    "length",
    "listing",
)
MODEL_FILE = Path(__file__).with_name("selection_model.json")
# Embed each sentence a second time under its heading path ("R-intro > 5.7 Matrix facilities: The
# operator %*% ..."): the `similarity_framed` signal. Costs a second embedding of every candidate.
CONTEXT_SIMILARITY = True
_LISTING = re.compile(r"\.{4,}|(?:\.\s){4,}|(?:\b\d{1,4}\b[,\s]+){6,}")


@dataclass(frozen=True)
class Candidate:
    """One sentence of one passage, with the signals that rank it and its probability of answering."""

    n: int  # the passage's number (1-based, as cited)
    start: int
    end: int
    text: str  # exactly passage_text[start:end]
    signals: dict[str, float] = field(default_factory=dict)
    score: float = 0.0


@dataclass(frozen=True)
class SelectionModel:
    """A logistic regression over FEATURES: weights on standardised signals, and a bias."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    def probability(self, signals: dict[str, float]) -> float:
        z = self.bias
        for name, mean, scale, weight in zip(self.features, self.mean, self.scale, self.weights):
            z += weight * (signals.get(name, 0.0) - mean) / (scale or 1.0)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> dict:
        return {
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "weights": list(self.weights),
            "bias": self.bias,
        }

    @classmethod
    def from_json(cls, data: dict) -> "SelectionModel":
        return cls(
            tuple(data["features"]),
            tuple(float(x) for x in data["mean"]),
            tuple(float(x) for x in data["scale"]),
            tuple(float(x) for x in data["weights"]),
            float(data["bias"]),
        )


# Until a model is fitted: the hand-set weights the previous release used, on unscaled signals.
FALLBACK = SelectionModel(
    ("similarity", "coverage", "kind", "passage_relevance"),
    (0.0, 0.0, 0.0, 0.0),
    (1.0, 1.0, 1.0, 1.0),
    (4.5, 3.5, 1.0, 1.0),
    -3.0,
)


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_FILE) -> SelectionModel:
    """The shipped model (selection_model.json), or FALLBACK where the file is missing."""
    if not path.exists():
        return FALLBACK
    return SelectionModel.from_json(json.loads(path.read_text())["model"])


def passage_text(hit: Hit) -> str:
    """The text evidence offsets refer to: the hit's passage, or its chunk where it has none."""
    return hit.text


def split_candidates(hits: Sequence[Hit]) -> list[Candidate]:
    out = []
    for n, hit in enumerate(hits, start=1):
        text = passage_text(hit)
        for start, end in sentence_spans(text):
            out.append(Candidate(n, start, end, text[start:end]))
    return out


def _weights_among(question: Question, bags: list[set[str]]) -> dict[str, float]:
    """Each question term's rarity among the candidates (a term none holds counts as an average one)."""
    frequency = Counter(t for bag in bags for t in bag)
    total = max(1, len(bags))
    weight = {t: math.log(1 + total / frequency[t]) for t in question.terms if frequency[t]}
    absent = sum(weight.values()) / len(weight) if weight else 1.0
    weight.update({t: absent for t in question.terms if t not in weight})
    return weight


def _share(weight: dict[str, float], bag: set[str]) -> float:
    whole = sum(weight.values()) or 1.0
    return sum(w for t, w in weight.items() if t in bag) / whole


def signals_of(
    question: Question,
    hits: Sequence[Hit],
    embed: Embed | None,
    question_vector: np.ndarray | None = None,
) -> list[Candidate]:
    """Every candidate sentence with its signals (score 0), in passage order."""
    found = split_candidates(hits)
    if not found:
        return []
    texts = [one_line(c.text) for c in found]
    heads = [head_of(h.chunk.source, h.chunk.metadata()) for h in hits]
    framed = (
        [f"{heads[c.n - 1]}: {t}" if heads[c.n - 1] else t for c, t in zip(found, texts)] if CONTEXT_SIMILARITY else []
    )
    if embed is not None:
        extra = [*texts, *heads, *framed]
        vectors = embed([question.text, *extra]) if question_vector is None else embed(extra)
        qv = vectors[0] if question_vector is None else question_vector
        rows = vectors[1:] if question_vector is None else vectors
        sims = rows[: len(texts)] @ qv
        head_sims = rows[len(texts) : len(texts) + len(heads)] @ qv
        framed_sims = rows[len(texts) + len(heads) :] @ qv if framed else sims
    else:
        sims = np.zeros(len(found))
        head_sims = np.zeros(len(hits))
        framed_sims = sims
    bags = [set(terms(t)) for t in texts]
    head_bags = [set(terms(h)) for h in heads]
    among = _weights_among(question, bags)
    rarity = question.rarity or among
    coverage = [_share(among, bag) for bag in bags]
    coverage_index = [_share(rarity, bag) for bag in bags]
    subject = question.subject
    out = []
    for i, (cand, text, bag) in enumerate(zip(found, texts, bags)):
        same_before = i > 0 and found[i - 1].n == cand.n
        same_after = i + 1 < len(found) and found[i + 1].n == cand.n
        context = bag | head_bags[cand.n - 1] | (bags[i - 1] if same_before else set())
        kind = holds_wanted(question, text)
        kind_next = holds_wanted(question, texts[i + 1]) if same_after else None
        hit = hits[cand.n - 1]
        signals = {
            "similarity": float(sims[i]),
            "similarity_head": float(head_sims[cand.n - 1]),
            "similarity_framed": float(framed_sims[i]),
            "coverage": coverage[i],
            "coverage_index": coverage_index[i],
            "coverage_context": _share(rarity, context),
            "subject": 1.0 if subject and subject in (bag | head_bags[cand.n - 1]) else 0.0,
            "kind": 0.5 if kind is None else float(kind),
            "kind_next": 0.5 if kind_next is None else float(kind_next),
            "before": (float(sims[i - 1]) + coverage[i - 1]) / 2 if same_before else 0.0,
            "passage_relevance": float(hit.relevance if hit.relevance is not None else 0.0),
            "passage_rank": 1.0 / cand.n,
            "first_in_passage": 0.0 if same_before else 1.0,
            "length": math.log(1 + len(text)),
            "listing": 1.0 if hit.chunk.extra.get("listing") or _LISTING.search(text) else 0.0,
        }
        out.append(Candidate(cand.n, cand.start, cand.end, cand.text, signals))
    return out


_OVERRIDE: ContextVar[SelectionModel | None] = ContextVar("selection_model", default=None)


@contextmanager
def using(model: SelectionModel | None) -> Iterator[None]:
    """Score with `model` instead of the shipped one inside this block (evaluation: a model fitted
    on other collections); None keeps the shipped one."""
    token = _OVERRIDE.set(model)
    try:
        yield
    finally:
        _OVERRIDE.reset(token)


def rank(candidates: Sequence[Candidate], model: SelectionModel | None = None) -> list[Candidate]:
    """The candidates scored by `model` (the shipped one by default), best first."""
    model = model or _OVERRIDE.get() or load_model()
    scored = [Candidate(c.n, c.start, c.end, c.text, c.signals, model.probability(c.signals)) for c in candidates]
    scored.sort(key=lambda c: (-c.score, c.n, c.start))
    return scored


def select(
    question: Question,
    hits: Sequence[Hit],
    embed: Embed | None,
    question_vector: np.ndarray | None = None,
    model: SelectionModel | None = None,
) -> list[Candidate]:
    """Every candidate sentence of `hits`, scored, best first."""
    return rank(signals_of(question, hits, embed, question_vector), model)
