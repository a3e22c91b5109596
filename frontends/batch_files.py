"""Batch files: questions in (text, JSONL, CSV), answers out (JSONL, CSV, Markdown), read back to resume.

Every answer file is a sequence of records, one per question, each written whole and flushed as
soon as its question is done. Reading one back tells which questions are answered already; a
record cut short by a kill (a half-written last line) is recognised and dropped:
- JSONL: one JSON object per line; a line that does not parse is not a record.
- CSV: the last column is `status`; a row without every column or with another status is not a record.
- Markdown: each section ends with a marker comment carrying its key; text after the last marker is not a record.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Protocol, TextIO

from core.errors import LocalGPTError
from frontends.render import csv_answer_fields, markdown_answer_lines

ANSWERED, FAILED = "answered", "error"


class BatchFileError(LocalGPTError):
    """A questions file that cannot be read, or an answers file of an unknown kind."""


def normalize(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Question:
    id: Any  # the id given in the file, else the question's number: 1, 2, ... in the file's order
    text: str
    has_id: bool  # True: matched to earlier answers by id; False: by the question text
    line: int | None = None  # where it is in the file: its line (text, JSONL) or row (CSV, 1 = the header)

    @property
    def key(self) -> tuple[str, str]:
        return ("id", str(self.id)) if self.has_id else ("question", normalize(self.text))


# ----------------------------------------------------------------------------- questions in


def read_questions(path: str | Path, stdin: TextIO | None = None) -> list[Question]:
    """Questions from a .jsonl, .csv or text file (any other name; '-' reads text from stdin)."""
    if str(path) == "-":
        return _text_questions(stdin.read().splitlines() if stdin else [])
    path = Path(path)
    if not path.is_file():
        raise BatchFileError(f"Questions file {path} does not exist.")
    try:
        content = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchFileError(f"Cannot read {path}: {exc}. Save it as UTF-8 text.") from None
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl_questions(content, path)
    if suffix == ".csv":
        return _csv_questions(content, path)
    return _text_questions(content.splitlines())


def _text_questions(lines: Iterable[str]) -> list[Question]:
    questions = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if text and not text.startswith("#"):
            questions.append(Question(len(questions) + 1, text, has_id=False, line=number))
    return questions


def _jsonl_questions(content: str, path: Path) -> list[Question]:
    questions = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BatchFileError(
                f"Line {number} of {path} is not JSON ({exc.msg}). Each line must be like "
                '{"id": "q1", "question": "..."}.'
            ) from None
        if not isinstance(item, dict) or not str(item.get("question") or "").strip():
            raise BatchFileError(
                f'Line {number} of {path} has no "question". Each line must be like {{"id": "q1", "question": "..."}}.'
            )
        has_id = item.get("id") not in (None, "")
        given = item["id"] if has_id else len(questions) + 1
        questions.append(Question(given, str(item["question"]).strip(), has_id, line=number))
    return questions


def _csv_questions(content: str, path: Path) -> list[Question]:
    reader = csv.DictReader(io.StringIO(content))
    columns = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    if "question" not in columns:
        found = ", ".join(reader.fieldnames or []) or "none"
        raise BatchFileError(
            f"{path} has no 'question' column (columns: {found}). Name the column of questions 'question'."
        )
    id_column = columns.get("id")
    questions = []
    for number, row in enumerate(reader, start=2):  # row 1 is the header
        text = (row.get(columns["question"]) or "").strip()
        if not text:
            continue
        given = (row.get(id_column) or "").strip() if id_column else ""
        questions.append(Question(given or len(questions) + 1, text, has_id=bool(given), line=number))
    return questions


# ----------------------------------------------------------------------------- answers out


def _not_ours(why: str) -> BatchFileError:
    """Never rewrite a file localgpt did not write (the questions file given as -o, say)."""
    return BatchFileError(
        f"The answers file exists but is not one localgpt batch wrote ({why}). "
        "Choose another output file, or move this one away."
    )


@dataclass(frozen=True)
class Entry:
    """A record read back from an answers file."""

    id: Any
    question: str
    status: str
    raw: str  # the record's text, as it is to be written again


@dataclass(frozen=True)
class Existing:
    header: str
    entries: list[Entry]
    clean: bool  # False when something (a torn last record) was not a record


class AnswerFormat(Protocol):
    def header(self) -> str: ...

    def render(self, record: dict[str, Any]) -> str: ...

    def parse(self, content: str) -> Existing: ...


class JsonlFormat:
    def header(self) -> str:
        return ""

    def render(self, record: dict[str, Any]) -> str:
        return json.dumps(record, ensure_ascii=False) + "\n"

    def parse(self, content: str) -> Existing:
        entries, clean = [], True
        # Split on newlines only: str.splitlines would also split on U+2028 inside an answer.
        lines = content.split("\n")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            line += "\n"  # the last piece has none: if it parses, it is whole, and the file just needs one
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                if number < len(lines):  # only the last line can be cut short by a kill
                    raise _not_ours(f"line {number} is not JSON") from None
                clean = False
                continue
            if (
                not isinstance(record, dict)
                or record.get("status") not in (ANSWERED, FAILED)
                or "question" not in record
            ):
                raise _not_ours(f"line {number} is not a localgpt answer")
            entries.append(Entry(record.get("id"), record["question"], record["status"], line))
        return Existing("", entries, clean and content.endswith("\n"))


CSV_COLUMNS = [
    "id",
    "question",
    "answer",
    "answer_method",
    "evidence",
    "refused",
    "sources",
    "source_scores",
    "retrieved",
    "retrieve_s",
    "answer_s",
    "total_s",
    "error",
    "status",
]


class CsvFormat:
    def header(self) -> str:
        return self._row(CSV_COLUMNS)

    @staticmethod
    def _row(values: list[Any]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer).writerow(values)
        return buffer.getvalue()

    def render(self, record: dict[str, Any]) -> str:
        timings = record.get("timings") or {}
        values = {
            "id": record["id"],
            "question": record["question"],
            "answer": record.get("answer", ""),
            "answer_method": record.get("answer_method", ""),
            "refused": "yes" if record.get("refused") else "no",
            **csv_answer_fields(record),
            "retrieve_s": timings.get("retrieve_s", ""),
            "answer_s": timings.get("answer_s", ""),
            "total_s": timings.get("total_s", ""),
            "error": record.get("error") or "",
            "status": record["status"],
        }
        return self._row([values[c] for c in CSV_COLUMNS])

    def parse(self, content: str) -> Existing:
        rows = list(csv.reader(io.StringIO(content)))
        if not rows or rows[0] != CSV_COLUMNS:
            raise _not_ours("its header is not that of localgpt's CSV")
        entries, clean = [], content.endswith("\n")
        for row in rows[1:]:
            if len(row) == len(CSV_COLUMNS) and row[-1] in (ANSWERED, FAILED):
                entries.append(Entry(row[0], row[1], row[-1], self._row(row)))
            else:
                clean = False
        return Existing(self.header(), entries, clean)


MD_HEADER = "# Answers from localgpt\n\n"
_MD_MARKER = re.compile(r"^<!-- localgpt-batch (\{.*\}) -->\n", re.M)


class MarkdownFormat:
    def header(self) -> str:
        return MD_HEADER

    def render(self, record: dict[str, Any]) -> str:
        title = normalize(record["question"])
        lines = [f"## {record['id']}. {title}", ""]
        if record["status"] == FAILED:
            lines += [f"**Error:** {record.get('error', '')}", ""]
        else:
            lines += markdown_answer_lines(record)
        key = {"id": record["id"], "question": record["question"], "status": record["status"]}
        # '>' escaped so that no question can close the comment early.
        lines += [
            f"<!-- localgpt-batch {json.dumps(key, ensure_ascii=False).replace('>', chr(92) + 'u003e')} -->",
            "",
            "",
        ]
        return "\n".join(lines)

    def parse(self, content: str) -> Existing:
        if not content.startswith(MD_HEADER):
            raise _not_ours(f"it does not start with {MD_HEADER.strip()!r}")
        start = len(MD_HEADER)
        entries, position = [], start
        for match in _MD_MARKER.finditer(content, start):
            try:
                key = json.loads(match.group(1))
                entries.append(Entry(key["id"], key["question"], key["status"], content[position : match.end()] + "\n"))
            except (json.JSONDecodeError, KeyError, TypeError):
                pass
            position = match.end() + (1 if content.startswith("\n", match.end()) else 0)
        clean = not content[position:].strip()
        return Existing(MD_HEADER, entries, clean)


FORMATS: dict[str, type] = {
    ".jsonl": JsonlFormat,
    ".ndjson": JsonlFormat,
    ".csv": CsvFormat,
    ".md": MarkdownFormat,
    ".markdown": MarkdownFormat,
}


def format_for(path: str | Path) -> AnswerFormat:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise BatchFileError(f"Cannot tell the format of {path}: name the answers file .jsonl, .csv or .md.")
    return FORMATS[suffix]()
