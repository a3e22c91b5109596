"""Sentences of a passage as character spans, so that evidence can point at the exact text.

`sentence_spans(text)` returns `(start, end)` pairs: `text[start:end]` is one sentence, copied
verbatim (line breaks of the PDF layout included), with surrounding whitespace trimmed.
A sentence ends at '.', '!' or '?' followed by a space and what starts a sentence, or at a
blank line. A very short piece (a label such as "2." or "E42: Pump cavitation detected.") is
kept with what follows it; a very long one (a table, a code block) is cut at line breaks.
"""

from __future__ import annotations

import re

MIN_WORDS = 5  # fewer words than this: a label, kept with the next piece
MAX_CHARS = 400  # longer than this: cut at line breaks (tables, lists, code)

# End of a sentence: punctuation (maybe closed by a quote or bracket), whitespace, then what opens one.
_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9•\-*])|\n[ \t]*\n\s*")
# Abbreviations whose full stop does not end a sentence.
_ABBREVIATION = re.compile(
    r"(?:\b(?:e\.g|i\.e|etc|cf|vs|viz|approx|incl|fig|figs|no|nos|dr|mr|mrs|ms|st|sec|ch|vol|pp|p)\.|\b[A-Z]\.)$",
    re.IGNORECASE,
)


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _raw_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _END.finditer(text):
        cut = match.start()
        before = text[start:cut]
        if "\n\n" not in match.group(0) and _ABBREVIATION.search(before.rstrip("\"')]")):
            continue
        spans.append((start, cut))
        start = match.end()
    spans.append((start, len(text)))
    return [s for s in (_trim(text, a, b) for a, b in spans) if s[1] > s[0]]


def _cut_long(text: str, span: tuple[int, int]) -> list[tuple[int, int]]:
    start, end = span
    if end - start <= MAX_CHARS:
        return [span]
    pieces: list[tuple[int, int]] = []
    piece_start = start
    for match in re.finditer(r"\n|;\s", text[start:end]):
        cut = start + match.end()
        if cut - piece_start >= MAX_CHARS // 4:
            pieces.append(_trim(text, piece_start, cut))
            piece_start = cut
    pieces.append(_trim(text, piece_start, end))
    out: list[tuple[int, int]] = []
    for a, b in pieces:  # a single line longer than the limit: hard cuts at word boundaries
        while b - a > MAX_CHARS:
            cut = text.rfind(" ", a, a + MAX_CHARS)
            cut = cut if cut > a else a + MAX_CHARS
            out.append(_trim(text, a, cut))
            a = _trim(text, cut, b)[0]
        if b > a:
            out.append((a, b))
    return [s for s in out if s[1] > s[0]]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """The sentences of `text` as (start, end) character offsets, in order."""
    merged: list[tuple[int, int]] = []
    label = False
    for start, end in _raw_spans(text):
        if merged and label and end - merged[-1][0] <= MAX_CHARS:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
        label = len(text[start:end].split()) < MIN_WORDS
    return [piece for span in merged for piece in _cut_long(text, span)]


def one_line(text: str) -> str:
    """A sentence for display: its line breaks and runs of spaces made single spaces."""
    return " ".join(text.split())
