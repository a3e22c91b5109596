"""JSON and JSON Lines as "key.path: value" lines; records are numbered like table rows.

A top-level array's items and a JSONL file's lines carry `row_start`/`row_end` (item or
line number, 1-based), so the chunker packs consecutive records into chunks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.types import Section
from ingest.loaders.errors import LoadError
from ingest.loaders.text import open_text, read_text_file


def flatten(value: Any, prefix: str = "") -> list[str]:
    """['a.b: 1', 'a.c[0]: x', ...] for nested JSON values."""
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            lines.extend(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return lines or ([f"{prefix}: {{}}"] if prefix else [])
    if isinstance(value, list):
        if value and all(not isinstance(v, (dict, list)) for v in value):
            return [
                f"{prefix}: {', '.join(_scalar(v) for v in value)}" if prefix else ", ".join(_scalar(v) for v in value)
            ]
        lines = []
        for index, item in enumerate(value):
            lines.extend(flatten(item, f"{prefix}[{index}]"))
        return lines
    return [f"{prefix}: {_scalar(value)}" if prefix else _scalar(value)]


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_json(path: Path) -> list[Section]:
    text = read_text_file(path)
    if not text.strip():
        raise LoadError("no text: the file holds only whitespace")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoadError(f"invalid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    del text
    if isinstance(value, list):
        sections = [
            Section(text="\n".join(flatten(item)), meta={"row_start": n, "row_end": n})
            for n, item in enumerate(value, start=1)
        ]
    elif isinstance(value, dict):
        sections = [
            Section(text="\n".join(flatten(item, str(key))), meta={"heading": str(key)}) for key, item in value.items()
        ]
    else:
        sections = [Section(text=_scalar(value))]
    sections = [s for s in sections if s.text.strip()]
    if not sections:
        raise LoadError("no values in the JSON document")
    return sections


def read_jsonl(path: Path) -> list[Section]:
    sections = []
    with open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            line = line.strip()
            if not line:
                continue
            try:
                text = "\n".join(flatten(json.loads(line)))
            except json.JSONDecodeError:
                text = line  # one malformed line is kept as text, not the whole file lost
            if text.strip():
                sections.append(Section(text=text, meta={"row_start": number, "row_end": number}))
    if not sections:
        raise LoadError("no records: the file holds only whitespace")
    return sections
