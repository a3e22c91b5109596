"""Decide what an answer may be: a refusal (and why), a quote of the evidence, or generated words.

Refusals, each measured on the dev sets (docs/answers.md):
- "threshold": no passage reaches --min-score;
- "unknown_words": most of the question's words are in no chunk of a large index (off topic);
- "subject": the question is about something the documents (or the passages that match it)
  never mention: another shell, another database, another product. Its subject is a word that
  is in no chunk of the index and is written as a name, or the question's rarest indexed word
  absent from every relevant passage and its headings;
- "evidence": no sentence scores --min-evidence as an answer.

A refusal names the closest passages found (file and page) when anything relevant was retrieved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from core.index_text import head_of
from core.types import Hit
from generation.excerpts import terms
from generation.question import Question, content_words

REFUSAL = "The documents do not contain an answer to this question."
CLOSEST = 3  # passages a refusal points to

# The question's rarest indexed term counts as its subject only when this share of chunks or fewer hold it.
RARE_SHARE = 0.01
# Below this many chunks, a word's absence from the index says little (a ten-chunk lease lacks "fee").
MIN_CHUNKS_FOR_ABSENCE = 500


@dataclass(frozen=True)
class Decision:
    action: str  # "refuse", "quote" or "generate"
    refused_by: str = ""
    message: str = ""  # a refusal's text


def relevance(hit: Hit) -> float:
    return hit.relevance if hit.relevance is not None else hit.score


def relevant_hits(hits: Sequence[Hit], min_score: float) -> list[Hit]:
    return [h for h in hits if relevance(h) >= min_score]


def closest(hits: Sequence[Hit], min_score: float, most: int = CLOSEST) -> list[Hit]:
    """The best relevant hits, one per file and place: where a reader would look next."""
    out: list[Hit] = []
    seen: set[tuple[str, str]] = set()
    for hit in sorted(relevant_hits(hits, min_score), key=relevance, reverse=True):
        where = (hit.chunk.source, hit.chunk.location())
        if where not in seen:
            seen.add(where)
            out.append(hit)
        if len(out) == most:
            break
    return out


def _written_as_name(question: str, word: str) -> bool:
    """`word` appears in the question capitalised (not as its first word), with a digit, or in mixed case."""
    tokens = re.findall(r"[^\W_][\w'’.+-]*", question)
    for i, token in enumerate(tokens):
        if token.lower().strip("'’.+-") != word:
            continue
        if any(c.isdigit() for c in token) or (any(c.isupper() for c in token[1:])):
            return True
        if i > 0 and token[0].isupper():
            return True
    return False


def missing_subject(question: Question, relevant: Sequence[Hit], chunks: int) -> tuple[str, bool]:
    """The word the question is about that the documents do not cover, and whether the whole index
    lacks it (True) or only the relevant passages do (False); ("", False) when nothing is missing."""
    if chunks < MIN_CHUNKS_FOR_ABSENCE or not question.counts:
        return "", False
    for word in content_words(question.text):
        if question.counts.get(word, 0) == 0 and _written_as_name(question.text, word):
            return word, True
    subject = question.subject
    if not subject or not relevant:
        return "", False
    held = max((question.counts.get(w, 0) for w in question.counts if subject in terms(w)), default=0)
    if held > RARE_SHARE * chunks:
        return "", False
    for hit in relevant:
        context = hit.text + " " + head_of(hit.chunk.source, hit.chunk.metadata())
        if subject in set(terms(context)):
            return "", False
    word = next((w for w in question.counts if subject in terms(w)), subject)
    return word, False


def subject_refusal(word: str, absent_from_index: bool) -> str:
    if absent_from_index:
        return f"The documents do not mention {word}."
    return f"The passages that match this question do not mention {word}."


def answer_style(style: str, bundled: bool) -> str:
    """What "auto" means for this model: quote for the bundled one, generate for any other."""
    if style == "auto":
        return "quote" if bundled else "generate"
    return style
