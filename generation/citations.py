"""Citation markers: checked as they stream, and attributed by overlap when the model wrote none.

The model is asked to cite passages as [1] or [1, 2]. `MarkerFilter` passes the text through
as it streams, holding back only what might be a marker until it closes: a marker to a passage
that exists is kept, one to no passage is dropped (so the user never sees it), and the
whitespace before a dropped marker is not left dangling before punctuation.

`attribute_by_overlap` is the fallback for a model that cites nothing (the small default model
often does not): each sentence of the answer is matched to the passage it shares the most
distinctive words with, figures and codes counting most. Those citations are ours, not the
model's, and the answer says so (`Answer.citation_method == "overlap"`).
"""

from __future__ import annotations

import math
import re
from collections import Counter

from generation.excerpts import sentences, terms

_MARKER_BODY = re.compile(r"\[\s*\d+(?:\s*,\s*\d+)*\s*\]")
_MAYBE_MARKER = re.compile(r"\[[\d,\s]*")
_MAX_MARKER_CHARS = 24
_PUNCTUATION = ".,;:!?)"
_CLAUSE = re.compile(r"[,;]\s+|\s+-\s+")


class MarkerFilter:
    """Feed streamed pieces in, get displayable text out; `cited` and `dropped` fill as markers close."""

    def __init__(self, n_passages: int):
        self.n_passages = n_passages
        self.cited: list[int] = []
        self.dropped: list[str] = []
        self._marker = ""  # a '[' and what followed it, while it may still be a marker
        self._space = ""  # whitespace not yet emitted: it may precede a dropped marker
        self._after_drop = False

    def feed(self, piece: str) -> str:
        out: list[str] = []
        for char in piece:
            if self._marker:
                self._marker += char
                if char == "]":
                    out.append(self._close())
                elif not _MAYBE_MARKER.fullmatch(self._marker) or len(self._marker) > _MAX_MARKER_CHARS:
                    text, self._marker = self._marker, ""
                    out.append(self._text(text))
            elif char == "[":
                self._marker = "["
            else:
                out.append(self._text(char))
        return "".join(out)

    def flush(self) -> str:
        """What is still held back, at the end of the answer (an unclosed '[...' is plain text)."""
        text, self._marker = self._marker, ""
        out = self._text(text) if text else ""
        self._space = ""
        return out

    def _text(self, text: str) -> str:
        out: list[str] = []
        for char in text:
            if char.isspace():
                if not self._after_drop:
                    self._space += char
                continue
            if not (self._after_drop and char in _PUNCTUATION):
                out.append(self._space)
            self._space = ""
            self._after_drop = False
            out.append(char)
        return "".join(out)

    def _close(self) -> str:
        marker, self._marker = self._marker, ""
        if not _MARKER_BODY.fullmatch(marker):
            return self._text(marker)
        numbers = [int(n) for n in re.findall(r"\d+", marker)]
        valid = [n for n in numbers if 1 <= n <= self.n_passages]
        if len(valid) < len(numbers):
            self.dropped.append(marker)
        for n in valid:
            if n not in self.cited:
                self.cited.append(n)
        if not valid:
            self._after_drop = True
            return ""
        shown = marker if len(valid) == len(numbers) else f"[{', '.join(str(n) for n in valid)}]"
        out = self._space + shown
        self._space = ""
        self._after_drop = False
        return out


def check_citations(text: str, n_passages: int) -> tuple[str, list[int], list[str]]:
    """Text with markers to no passage removed, the valid numbers cited (first-seen order), the dropped markers."""
    markers = MarkerFilter(n_passages)
    cleaned = markers.feed(text) + markers.flush()
    return cleaned.strip(), markers.cited, markers.dropped


def _weights(texts: list[str]) -> tuple[list[Counter], dict[str, float]]:
    bags = [Counter(terms(t)) for t in texts]
    frequency = Counter(t for bag in bags for t in bag)
    idf = {t: math.log(1 + len(texts) / f) for t, f in frequency.items()}
    return bags, idf


def attribute_by_overlap(answer: str, passage_texts: list[str], question: str = "") -> list[int]:
    """Passage numbers (1-based) that the answer's clauses come from, judged by shared words.

    Each clause of a sentence is attributed to the passage with which it shares the most distinctive terms
    (figures and codes weigh triple; words of the question count half, since restating the
    question proves little), and to any other passage scoring at least half as much; a passage
    must share at least one figure or two other terms.
    """
    if not passage_texts:
        return []
    bags, idf = _weights(passage_texts)
    asked = set(terms(question))
    cited: list[int] = []
    clauses = [c for sentence in sentences(answer) for c in _CLAUSE.split(sentence)]
    for clause in clauses:
        said = set(terms(clause))
        scores: dict[int, float] = {}
        for number, bag in enumerate(bags, start=1):
            shared = [t for t in said if t in bag]
            figures = [t for t in shared if any(c.isdigit() for c in t) and t not in asked]
            words = [t for t in shared if t not in figures]
            if figures or len(words) >= 2:
                scores[number] = sum(idf[t] * (3.0 if t in figures else 0.5 if t in asked else 1.0) for t in shared)
        if not scores:
            continue
        best = max(scores.values())
        # A clause may draw on several passages: every one scoring near the best is cited.
        for number in sorted(scores, key=scores.get, reverse=True):
            if scores[number] >= 0.5 * best and number not in cited:
                cited.append(number)
    return cited


_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")


def _numbers(text: str) -> set[str]:
    return {n.rstrip(".,") for n in _NUMBER.findall(_MARKER_BODY.sub(" ", text))}


def unsupported_figures(answer: str, passage_texts: list[str], question: str = "") -> list[str]:
    """Numbers in the answer that appear in no passage it was given, nor in the question: likely made up."""
    known = _numbers(" ".join(passage_texts) + " " + question)
    said = [n.rstrip(".,") for n in _NUMBER.findall(_MARKER_BODY.sub(" ", answer))]
    return list(dict.fromkeys(n for n in said if n not in known))
