"""Answer metrics: does an answer (or a passage) hold the expected fact? Beside retrieval's (metrics.py).

"Holds the fact" is a heuristic, written for any question set: the text must contain every
number-like token (digits, part codes such as MG-311) of an expected string; an expected string
without any must have most of its content words in the text. Number words count as digits.
"""

from __future__ import annotations

import re
from typing import Callable

_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "fifteen": "15",
    "twenty": "20",
    "thirty": "30",
}
_STOP = set("the a an of and or to in on at for is are be by with from this that as it its any all per".split())


def normalise(text: str) -> str:
    text = re.sub(r"\s+", " ", text).lower()
    return re.sub(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", lambda m: _NUMBER_WORDS[m.group(1)], text)


def fact_tokens(expected: str) -> list[str]:
    return [t.strip(".,;:()") for t in normalise(expected).split() if re.search(r"\d", t)]


def has_fact(answer: str, expected: str) -> bool:
    text = normalise(answer)
    numbers = fact_tokens(expected)
    if numbers:
        return all(re.search(r"(?<![\w.])" + re.escape(n) + r"(?![\w]|\.\d)", text) for n in numbers)
    words = [w.strip(".,;:()'") for w in normalise(expected).split()]
    words = [w for w in words if w and w not in _STOP]
    return sum(w in text for w in words) >= max(1, round(0.6 * len(words)))


def matches(expected: list[str], how: str, check: Callable[[str], bool]) -> bool:
    results = [check(e) for e in expected]
    return all(results) if how == "all" else any(results)


def holds_expected(passage_text: str, expected: list[str]) -> bool:
    text = re.sub(r"\s+", " ", passage_text).lower()
    return any(re.sub(r"\s+", " ", e).lower() in text for e in expected)


def rate(rows: list[dict], key: str) -> str:
    """How many rows have `key` true, as "hits/total (percent)"."""
    if not rows:
        return "-"
    hits = sum(bool(r.get(key)) for r in rows)
    return f"{hits}/{len(rows)} ({100 * hits / len(rows):.0f}%)"
