"""Is a generated answer grounded in the evidence it quotes? A check, not a guess.

A generated sentence is shown only when everything it states that can be checked is in one
single evidence sentence: every figure, date, code and quoted string, and every name the
question did not bring. Being somewhere in the evidence is not enough: "can grow to 4294967294
pages" taken from the sentence about another limit is withheld. It must not echo the prompt, and the answer as a whole must say something (a term of
the evidence that the question did not already hold) and, when the question asks for a
number, a date, a name or a code, hold one. Otherwise the user gets the quoted evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from generation.excerpts import terms
from generation.question import NUMBER_WORDS, Question, codes_in, holds_wanted, names_in

_MARKER = re.compile(r"\[\s*\d+(?:\s*,\s*\d+)*\s*\]")
_FIGURE = re.compile(r"(?<![\w.])\d+(?:[.,:/-]\d+)*")
_QUOTED = re.compile(r"[\"“”‘’']([^\"“”‘’']{3,80})[\"“”‘’']")
# Pieces of our own prompt: a small model sometimes repeats them as its answer.
PROMPT_ECHOES = (
    "question:",
    "passages:",
    "answer in one or two",
    "using only the passages",
    "cite its passage",
    "citing the passage",
    "never use knowledge",
    "numbered passages",
    "reply only:",
    "the user gives you",
    "sentences from the documents:",
)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).lower()


def _figures(text: str) -> list[str]:
    return [f.rstrip(".,:/-") for f in _FIGURE.findall(_MARKER.sub(" ", text))]


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""  # why not: "empty", "echo", "unsupported figure 12", ...


def checkables(sentence: str, question: Question) -> list[str]:
    """What a sentence states that can be checked against the evidence, in lower case: its figures,
    number words, quoted strings, codes and names, less those the question itself holds."""
    body = _MARKER.sub(" ", sentence).strip()
    low = _squash(body)
    asked = _squash(question.text)
    found = [f for f in _figures(body)]
    found += [w for w in re.findall(r"[^\W\d_]+", low) if w in NUMBER_WORDS and w not in ("once", "half", "double")]
    found += [_squash(q) for q in _QUOTED.findall(body)]
    found += [_squash(c).strip("`") for c in codes_in(body)]
    found += [_squash(n) for n in names_in(body)]
    return [c for c in dict.fromkeys(found) if c and not _holds(asked, c)]


def _holds(text: str, item: str) -> bool:
    """`item` in `text` as a whole word or figure (so "12" is not found in "120")."""
    return bool(re.search(r"(?<![\w.])" + re.escape(item) + r"(?![\w])", text)) or (
        not item[:1].isalnum() and item in text
    )


def supporting_sentence(sentence: str, evidence: Sequence[str], question: Question) -> int | None:
    """The index of the one evidence sentence that holds everything `sentence` states that can be
    checked (its figures, codes, names and quotes); None when no single sentence holds them all.
    Several evidence sentences holding a figure each do not make a claim that joins them."""
    items = checkables(sentence, question)
    said = set(terms(sentence)) - question.terms
    best, best_overlap = None, -1
    for i, text in enumerate(evidence):
        low = _squash(text)
        if all(_holds(low, item) for item in items):
            overlap = len(said & set(terms(text)))
            if overlap > best_overlap:
                best, best_overlap = i, overlap
    return best


def check_sentence(sentence: str, evidence: Sequence[str] | str, question: Question) -> Verdict:
    """Whether one generated sentence states only what one evidence sentence (with the question) holds."""
    evidence = [evidence] if isinstance(evidence, str) else list(evidence)
    body = _MARKER.sub(" ", sentence).strip()
    low = _squash(body)
    if any(echo in low for echo in PROMPT_ECHOES):
        return Verdict(False, "echo of the prompt")
    if supporting_sentence(sentence, evidence, question) is not None:
        return Verdict(True)
    whole = _squash(" ".join(evidence))
    missing = [item for item in checkables(sentence, question) if not _holds(whole, item)]
    if missing:
        return Verdict(False, f"unsupported {_kind(missing[0])} {missing[0]}")
    return Verdict(False, "no single evidence sentence holds what it says")


def _kind(item: str) -> str:
    if item[:1].isdigit() or item in NUMBER_WORDS:
        return "figure"
    return "name or code"


def check_answer(text: str, evidence_text: str | Sequence[str], question: Question) -> Verdict:
    """Whether a whole answer (each sentence checked on its own already) answers at all."""
    body = _MARKER.sub(" ", text).strip()
    if len(re.findall(r"[^\W\d_]{2,}", body)) < 2:  # "", "[1] 2.", "Yes.": nothing a reader can check
        return Verdict(False, "empty")
    evidence_text = evidence_text if isinstance(evidence_text, str) else " ".join(evidence_text)
    said = set(terms(body)) - question.terms
    if not (said & set(terms(evidence_text))):
        return Verdict(False, "says nothing the evidence holds")
    if holds_wanted(question, body) is False:
        return Verdict(False, f"no {question.wants} in the answer")
    return Verdict(True)
