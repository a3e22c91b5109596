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


def answer_row(q: dict, result, answerable: bool) -> dict:
    """What a scored answer shows (`result`: an answer record, generation/record.py): the fields both
    answer benchmarks report, and for an answerable question where its expected fact shows (in the
    answer, in the evidence quoted, in the passages retrieved), for another whether it was answered.
    `q`: its dev-set row ("expected", optional "match": any | all)."""
    row = {
        "refused": result.refused,
        "refused_by": result.refused_by,
        "method": result.answer_method,
        "text": result.text,
        "evidence": [e.quote() for e in result.evidence],
        "top_relevance": max((h.relevance for h in result.retrieved if h.relevance is not None), default=None),
        "best_evidence": result.evidence[0].score if result.evidence else None,
    }
    if not answerable:
        return {**row, "answered": not result.refused}
    expected, how = q["expected"], q.get("match", "any")
    evidence_text = " ".join(e.text for e in result.evidence)
    row["fact_in_answer"] = (not result.refused) and matches(expected, how, lambda e: has_fact(result.text, e))
    row["fact_in_evidence"] = bool(result.evidence) and (
        matches(expected, how, lambda e: has_fact(evidence_text, e)) or holds_expected(evidence_text, expected)
    )
    row["without_fact"] = (not result.refused) and not row["fact_in_answer"]
    row["fact_retrieved"] = any(holds_expected(h.text, expected) for h in result.retrieved)
    return row


def rate(rows: list[dict], key: str, aligned: bool = False) -> str:
    """How many rows have `key` true, as "hits/total (percent)"; `aligned`: padded for a table's column."""
    if not rows:
        return "    -    " if aligned else "-"
    hits = sum(bool(r.get(key)) for r in rows)
    if aligned:
        return f"{hits:>3}/{len(rows):<3} {100 * hits / len(rows):3.0f}%"
    return f"{hits}/{len(rows)} ({100 * hits / len(rows):.0f}%)"
