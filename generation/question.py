"""What a question asks for: its content terms and the kind of fact that answers it.

"How many days..." wants a number, "When..." a date or time, "Who..." a name, "Which
command..." a code. A sentence that holds that kind of fact is more likely the answer,
and a generated answer to a "how many" question that holds no figure has not answered.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Callable

from core.words import words
from generation.excerpts import IGNORED_WORDS, terms

_WANTS = (
    (
        "number",
        re.compile(
            r"\bhow\s+(?:many|much|long|often|far|old|large|big|high|low|fast|soon|frequently|deep|wide|tall|heavy)\b"
            r"|\bwhat\s+(?:is\s+the\s+)?(?:percentage|percent|number|amount|size|fraction|proportion|rate|port|limit|"
            r"maximum|minimum|max|min|count|length|duration|period|price|cost|fee|temperature|version)\b"
            r"|\b(?:maximum|minimum|default)\s+(?:\w+\s+)?(?:size|number|value|length|port|limit|count|width|depth)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "date",
        re.compile(
            r"\bwhen\b|\b(?:what|which)\b[^?.,;]*\b(?:year|date|day|month|time|times|weekday|hours|"
            r"deadline|schedule)\b|\bdeadline\b",
            re.IGNORECASE,
        ),
    ),
    (
        "name",
        re.compile(
            r"^\s*who\b|\bwhom\b|\bwhose\b|\b(?:what|which)\s+(?:person|company|team|department|author|"
            r"organi[sz]ation|vendor|manufacturer|supplier)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "code",
        re.compile(
            r"\b(?:command|function|option|flag|argument|parameter|method|variable|keyword|directive|"
            r"module|package|syntax|macro|operator|class|file\s*name|environment\s+variable|"
            r"error\s+code|part\s+number|code)s?\b",
            re.IGNORECASE,
        ),
    ),
)

NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million "
    "billion half quarter twice once double triple".split()
)
_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday"
)
_DATE = re.compile(
    r"\b(?:" + "|".join(_MONTHS.split()) + r")\b|\b(?:1[5-9]|20)\d\d\b|\b\d{1,2}[:.]\d{2}\b"
    r"|\b\d{1,2}[/-]\d{1,2}(?:[/-]\d{2,4})?\b|\b(?:a\.m\.|p\.m\.|am|pm|noon|midnight)\b",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
# A code: a word with an underscore, dot, brackets, '=' or '--' inside, a CamelCase word, or an option like -x.
_CODE = re.compile(
    r"(?<!\w)(?:--?[a-zA-Z][\w-]*|\w+(?:[._:/=]\w+)+|\w+\(\)?|[a-z]+[A-Z]\w*|`[^`]+`|[A-Z]{2,}[-_]?\d+\w*)"
)


@dataclass(frozen=True)
class Question:
    """A question read once: its terms, the kind of fact it asks for, and (given the index's word
    counts) how rare each term is in the index and which term is its subject."""

    text: str
    terms: frozenset[str]  # content terms, stemmed (generation.excerpts.terms)
    wants: str  # "number", "date", "name", "code" or "" (anything)
    rarity: dict[str, float] = field(default_factory=dict)  # term -> log(1 + chunks / chunks holding it)
    counts: dict[str, int] = field(default_factory=dict)  # content word (unstemmed) -> chunks holding it
    subject: str = ""  # the rarest term the index holds: what the question is about


WordCounts = Callable[[list[str]], dict[str, int]]


def read_question(text: str, word_counts: WordCounts | None = None, chunks: int = 0) -> Question:
    """Read `text` once. With `word_counts` (words -> chunks of the index holding each) and the index's
    `chunks`, each term's rarity in the index and the question's subject are known too."""
    wants = next((kind for kind, pattern in _WANTS if pattern.search(text)), "")
    question_terms = frozenset(terms(text))
    if word_counts is None or chunks <= 0:
        return Question(text, question_terms, wants)
    words = content_words(text)
    counts = word_counts(words) if words else {}
    rarity: dict[str, float] = {}
    for word in words:
        for term in terms(word):
            if term in question_terms:
                held = counts.get(word, 0)
                value = math.log(1 + chunks / (held + 1))
                rarity[term] = max(rarity.get(term, 0.0), value)
    for term in question_terms - rarity.keys():
        rarity[term] = math.log(1 + chunks)
    held_terms = {t: r for t, r in rarity.items() if any(counts.get(w, 0) and t in terms(w) for w in words)}
    subject = max(held_terms, key=lambda t: (held_terms[t], t)) if held_terms else ""
    return Question(text, question_terms, wants, rarity, dict(counts), subject)


def has_number(text: str) -> bool:
    return bool(_DIGIT.search(text)) or any(w in NUMBER_WORDS for w in words(text))


def has_date(text: str) -> bool:
    return bool(_DATE.search(text))


def names_in(text: str) -> list[str]:
    """Capitalised words that do not start a sentence: likely names."""
    out = []
    for match in re.finditer(r"(?<=[a-z0-9,;:)]\s)([A-Z][a-zA-Z]+(?:\s+[A-Z][a-zA-Z]+)*)", text):
        out.append(match.group(1))
    return out


def codes_in(text: str) -> list[str]:
    return [m.group(0) for m in _CODE.finditer(text)]


def holds_wanted(question: Question, sentence: str) -> bool | None:
    """Whether `sentence` holds the kind of fact the question asks for; None when it asks for no kind."""
    if question.wants == "number":
        return has_number(sentence)
    if question.wants == "date":
        return has_date(sentence)
    if question.wants == "name":
        return bool(names_in(sentence))
    if question.wants == "code":
        return bool(codes_in(sentence))
    return None


def content_words(text: str) -> list[str]:
    """The question's own words that carry meaning (no stopwords, numbers or very short words), unstemmed."""
    return list(dict.fromkeys(w for w in words(text) if w not in IGNORED_WORDS and len(w) > 2 and not w.isdigit()))


def unknown_share(text: str, word_counts: Callable[[list[str]], dict[str, int]]) -> float:
    """The share of the question's content words that no chunk of the index holds at all; 0 when only
    one of several words is unknown (a user's own word for something, "What does error E3 mean?").

    A question mostly about words the documents never use ("ibuprofen", "Homebrew") is about
    something else: measured on the real dev set, a share of 1/3 or more with at least two unknown
    words (or every word unknown) marked 17 of 37 unanswerable questions and none of 182 answerable
    ones (docs/answers.md).
    """
    words = content_words(text)
    if not words:
        return 0.0
    counts = word_counts(words)
    unknown = sum(1 for w in words if counts.get(w, 0) == 0)
    if unknown < 2 and unknown < len(words):
        return 0.0
    return unknown / len(words)


# Below this many chunks, a common word's absence says little (a ten-chunk lease lacks "rules" and "fee").
MIN_CHUNKS_FOR_UNKNOWN = 500


def vocabulary(word_counts: Callable[[list[str]], dict[str, int]], chunks: int):
    """`word_counts` when the index is large enough for unknown words to mean something, else None."""
    return word_counts if chunks >= MIN_CHUNKS_FOR_UNKNOWN else None
