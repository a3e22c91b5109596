"""Decide what an answer may be: a refusal (and why), a quote of the evidence, or generated words.

Refusals, each measured on the dev sets (docs/answers.md):
- "threshold": no passage reaches --min-score;
- "unknown_words": most of the question's words are in no chunk of a large index (off topic);
- "subject": the question names something the documents (or the passages its evidence comes
  from) never mention: another shell, another database, another product. A word written as a name
  or code ("MySQL", "GParted", "mutate()") that is in no chunk of the index, or that is rare in it
  and in none of the documents that hold the evidence to be shown: the PostgreSQL manual's port
  sentence does not answer a question about MongoDB, even when an R manual's passage also
  retrieved names a MongoDB client;
- "evidence": no sentence scores --min-evidence as an answer.

A refusal names the closest passages found (file and page) when anything relevant was retrieved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from core.index_text import head_of
from core.types import Hit
from core.words import tokens
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
    """`word` appears in the question as a name or a code: capitalised (not as its first word), with a
    digit, in mixed case, called like a function ("mutate()"), or inside a code ("max_wal_size",
    "asyncio.gather")."""
    for match in re.finditer(r"[^\W_][\w'’.+:-]*(\(\))?", question):
        token = match.group(0).removesuffix("()").rstrip("'’.+:-")
        parts = [p for p in re.split(r"[.:]+", token.lower()) if p]
        if word not in (token.lower(), *parts):
            continue
        if match.group(1) or len(parts) > 1 or "_" in token:
            return True
        if any(c.isdigit() for c in token) or any(c.isupper() for c in token[1:]):
            return True
        if match.start() > 0 and token[0].isupper():
            return True
    return False


# Words that only qualify the name they are joined to ("Apache-licensed", "Tcl-related", "Linux-only").
_QUALIFIERS = frozenset(
    "licensed related only based native like style compatible specific bound enabled aware free friendly "
    "powered compliant oriented driven side level wide type".split()
)


def name_parts(word: str) -> list[str]:
    """The parts of a name a document would write on their own: "gplv3's" -> ["gpl"], "apache-licensed"
    -> ["apache"], "e11" -> ["e11"], "mysql" -> ["mysql"]. Possessives, qualifiers joined by a hyphen
    and version suffixes ("v3") are dropped; parts shorter than three letters are not names."""
    word = re.sub(r"['’]s$", "", word.lower())
    if "_" in word:  # a code: one name, as the full-text index reads it ("max_wal_size": max wal size)
        return [word]
    if len(word) >= 3 and re.fullmatch(r"[^\W_]+", word) and not re.search(r"[^\W\d_]v?\d+$", word):
        return [word]
    parts = []
    for piece in re.split(r"[^\w]+|_", word):
        piece = re.sub(r"v?\d+$", "", piece) if re.search(r"[^\W\d_]{3,}v?\d+$", piece) else piece
        if len(piece) >= 3 and not piece.isdigit() and piece not in _QUALIFIERS:
            parts.append(piece)
    return parts


def missing_subject(
    question: Question, relevant: Sequence[Hit], chunks: int, word_counts=None, mentions=None
) -> tuple[str, bool]:
    """The name the question is about that the documents do not cover, and whether the whole index
    lacks it (True) or only the passages `relevant` do (False: the answer's evidence would come from
    them, and neither they nor, by `mentions(source, words)`, the rest of their documents name
    it: a licence's text names "Mozilla" only at its top); ("", False) when nothing is missing.

    Only words written as names or codes count ("MySQL", "GParted", "mutate()", "E11"), each by the
    parts a document would write ("GPLv3's" is "gpl", "Apache-licensed" is "apache"): a user's own
    plain words ("afterwards", "big") are often missing from the passages that answer, and measured
    on the dev sets refusing on them refused a third of the answerable questions."""
    if chunks < MIN_CHUNKS_FOR_ABSENCE or not question.counts:
        return "", False
    names = [w for w in content_words(question.text) if _written_as_name(question.text, w)]
    named = [(w, parts) for w in names if (parts := name_parts(w))]
    counts = dict(question.counts)
    wanted = [p for _, parts in named for p in parts if p not in counts]
    if wanted and word_counts is not None:
        counts.update(word_counts(wanted))
    for _, parts in named:
        if all(counts.get(p, 0) == 0 for p in parts):
            return parts[0], True
    contexts = [
        " " + " ".join(tokens(h.text + " " + h.chunk.source + " " + head_of(h.chunk.source, h.chunk.metadata()))) + " "
        for h in relevant
    ]
    sources = dict.fromkeys(h.chunk.source for h in relevant)
    for _, parts in named:
        if max(counts.get(p, 0) for p in parts) > RARE_SHARE * chunks:
            continue
        if any(f" {' '.join(tokens(p))} " in context for p in parts for context in contexts):
            continue
        if mentions is None or not any(mentions(source, parts) for source in sources):
            return parts[0], False
    return "", False


def subject_refusal(word: str, absent_from_index: bool) -> str:
    if absent_from_index:
        return f"The documents do not mention {word}."
    return f"The passages that match this question do not mention {word}."


def answer_style(style: str, bundled: bool) -> str:
    """What "auto" means for this model: quote for the bundled one, generate for any other."""
    if style == "auto":
        return "quote" if bundled else "generate"
    return style
