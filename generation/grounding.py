"""Is a generated answer grounded in the evidence it quotes? A check, not a guess.

A generated sentence is shown only when everything it states that can be checked is in the
evidence: every figure, date, code and quoted string, and every name the question did not
bring. It must not echo the prompt, and the answer as a whole must say something (a term of
the evidence that the question did not already hold) and, when the question asks for a
number, a date, a name or a code, hold one. Otherwise the user gets the quoted evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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


def check_sentence(sentence: str, evidence_text: str, question: Question) -> Verdict:
    """Whether one generated sentence states only what the evidence (or the question) holds."""
    body = _MARKER.sub(" ", sentence).strip()
    low = _squash(body)
    if any(echo in low for echo in PROMPT_ECHOES):
        return Verdict(False, "echo of the prompt")
    known = _squash(evidence_text + " " + question.text)
    known_figures = set(_figures(known))
    for figure in _figures(body):
        if figure not in known_figures and figure not in known:
            return Verdict(False, f"unsupported figure {figure}")
    for word in re.findall(r"[a-z]+", low):
        if word in NUMBER_WORDS and word not in ("once", "half", "double") and not re.search(rf"\b{word}\b", known):
            return Verdict(False, f"unsupported figure {word}")
    for quoted in _QUOTED.findall(body):
        if _squash(quoted) not in known:
            return Verdict(False, f"unsupported quote {quoted!r}")
    for code in codes_in(body):
        if _squash(code).strip("`") not in known:
            return Verdict(False, f"unsupported code {code}")
    for name in names_in(body):
        if _squash(name) not in known:
            return Verdict(False, f"unsupported name {name}")
    return Verdict(True)


def check_answer(text: str, evidence_text: str, question: Question) -> Verdict:
    """Whether a whole answer (each sentence checked on its own already) answers at all."""
    body = _MARKER.sub(" ", text).strip()
    if not re.search(r"\w", body):
        return Verdict(False, "empty")
    said = set(terms(body)) - question.terms
    if not (said & set(terms(evidence_text))):
        return Verdict(False, "says nothing the evidence holds")
    if holds_wanted(question, body) is False:
        return Verdict(False, f"no {question.wants} in the answer")
    return Verdict(True)
