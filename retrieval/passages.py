"""Small-to-big: a hit is matched on its small chunk and shown with the text around it.

The passage is the matched chunk widened with its neighbours in the same file (by
chunk_index), after first and then before, alternately, while the whole stays within
PASSAGE_CHARS; a neighbour that does not fit whole is cut at a sentence or line end (after)
or start (before). Neighbouring chunks share their overlap: it appears once.
"""

from __future__ import annotations

import re
from typing import Protocol

from core.types import Chunk, Passage

# Most characters of a passage (the matched chunk alone may be longer: it is never cut).
PASSAGE_CHARS = 2000
# Neighbours read on each side of the matched chunk.
WINDOW = 4
# Shortest shared text taken for the splitter's overlap between two neighbours.
MIN_OVERLAP = 12
_MAX_OVERLAP = 2000
_BREAK = re.compile(r"(?<=[.!?:;])\s+|\n+")


def overlap(left: str, right: str) -> int:
    """Length of the longest end of `left` that begins `right` (0 if shorter than MIN_OVERLAP)."""
    limit = min(len(left), len(right), _MAX_OVERLAP)
    if limit < MIN_OVERLAP:
        return 0
    # Only where `right`'s first MIN_OVERLAP characters occur can a shared end begin: testing every
    # start cost ~2 ms per pair of 2,000-character neighbours, half of a search's time at 100k chunks.
    probe = right[:MIN_OVERLAP]
    start = left.find(probe, len(left) - limit)
    while start != -1:
        if right.startswith(left[start:]):
            return len(left) - start
        start = left.find(probe, start + 1)
    return 0


def _join(left: str, right: str) -> str:
    shared = overlap(left, right)
    return left + right[shared:] if shared else f"{left}\n{right}"


def _head_of(text: str, budget: int) -> str:
    """The longest start of `text` within `budget` characters that ends at a sentence or line end."""
    if len(text) <= budget:
        return text
    ends = [m.start() for m in _BREAK.finditer(text, 0, budget + 1) if m.start() > 0]
    return text[: ends[-1]].rstrip() if ends else ""


def _tail_of(text: str, budget: int) -> str:
    """The longest end of `text` within `budget` characters that starts at a sentence or line start."""
    if len(text) <= budget:
        return text
    starts = [m.end() for m in _BREAK.finditer(text, len(text) - budget - 1) if m.end() >= len(text) - budget]
    return text[starts[0] :].lstrip() if starts else ""


def widen(chunk: Chunk, neighbours: dict[int, str], cap: int = PASSAGE_CHARS) -> Passage:
    """The passage around `chunk` from its neighbours' texts (chunk_index -> text)."""
    text = chunk.text
    start, end = 0, len(text)
    first = last = chunk.chunk_index
    grow_after = grow_before = True
    while grow_after or grow_before:
        if grow_after:
            nxt = neighbours.get(last + 1)
            if nxt is None:
                grow_after = False
            else:
                shared = overlap(text, nxt)
                rest = nxt[shared:] if shared else "\n" + nxt
                if len(text) + len(rest) <= cap:
                    text += rest
                    last += 1
                else:
                    piece = _head_of(rest, cap - len(text))
                    if piece.strip():
                        text += piece
                    grow_after = False
        if grow_before:
            prev = neighbours.get(first - 1)
            if prev is None:
                grow_before = False
            else:
                shared = overlap(prev, text)
                rest = prev[: len(prev) - shared] if shared else prev + "\n"
                if len(text) + len(rest) <= cap:
                    text = rest + text
                    start += len(rest)
                    end += len(rest)
                    first -= 1
                else:
                    piece = _tail_of(rest.rstrip("\n"), cap - len(text) - 1)
                    if piece.strip():
                        joint = "" if shared else "\n"
                        text = piece + joint + text
                        start += len(piece) + len(joint)
                        end += len(piece) + len(joint)
                    grow_before = False
    return Passage(text=text, start=start, end=end, first_index=first, last_index=last)


class HasNeighbours(Protocol):
    """The index (index/store.py `Index`), or its catalog."""

    def neighbours(self, source: str, low: int, high: int) -> dict[int, str]: ...


def passages_for(index: HasNeighbours, chunks: list[Chunk], cap: int = PASSAGE_CHARS) -> list[Passage]:
    """The passage of each chunk, reading its neighbours from the index."""
    out = []
    for chunk in chunks:
        near = index.neighbours(chunk.source, chunk.chunk_index - WINDOW, chunk.chunk_index + WINDOW)
        out.append(widen(chunk, near, cap))
    return out
