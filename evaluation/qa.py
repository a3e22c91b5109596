"""Question sets: JSONL, one question per line, judged by documents (qrels) or by answer strings.

    {"question": "What is the notice period?", "qrels": ["contracts/lease.pdf"]}
    {"question": "...", "expected": ["sixty (60) days"], "match": "any"}

`query` is accepted for `question`; `relevant` for `qrels` (paths relative to the
ingested folder, or chunk ids). `match` is `any` (default) or `all`. Other keys are ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from core.errors import LocalGPTError


class QAFileError(LocalGPTError):
    """The question file is missing or malformed."""


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    qrels: tuple[str, ...] = ()
    expected: tuple[str, ...] = ()
    match: str = "any"


def _strings(value, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, dict):  # {"doc": grade}: relevant when the grade is positive
        return tuple(str(k) for k, v in value.items() if v)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise QAFileError(f"{where}: expected a string or a list of strings.")


def parse_item(obj: dict, where: str, default_id: str) -> QAItem:
    if not isinstance(obj, dict):
        raise QAFileError(f"{where}: each line must be a JSON object.")
    question = obj.get("question", obj.get("query"))
    if not isinstance(question, str) or not question.strip():
        raise QAFileError(f'{where}: no "question" (or "query") string.')
    qrels = _strings(obj.get("qrels", obj.get("relevant")), f"{where} qrels")
    expected = tuple(s for s in _strings(obj.get("expected"), f"{where} expected") if s.strip())
    if not qrels and not expected:
        raise QAFileError(f'{where}: give "qrels" (relevant document paths or ids) or "expected" answer strings.')
    match = obj.get("match", "any")
    if match not in ("any", "all"):
        raise QAFileError(f'{where}: "match" must be "any" or "all", not {match!r}.')
    return QAItem(str(obj.get("id", default_id)), question.strip(), qrels, expected, match)


def load_qa(path: str | Path) -> list[QAItem]:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise QAFileError(f"Cannot read the question file {path}: {exc.strerror or exc}.") from None
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise QAFileError(f"{where}: not valid JSON ({exc}).") from None
        items.append(parse_item(obj, where, default_id=f"q{number}"))
    if not items:
        raise QAFileError(f"{path} holds no questions (one JSON object per line).")
    return items
