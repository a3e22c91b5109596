"""CSV: every row, in groups, each group repeating the header row."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from core.types import Section
from ingest.loaders.errors import LoadError
from ingest.loaders.text import read_text_file


def read_csv(path: Path) -> list[Section]:
    text = read_text_file(path)
    if not text.strip():
        raise LoadError("empty file: no text")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise LoadError("empty file: no rows")
    header = ",".join(rows[0])
    sections = []
    for number, row in enumerate(rows[1:], start=2):  # row numbers as a spreadsheet shows them
        if any(cell.strip() for cell in row):
            sections.append(Section(text=",".join(row), meta={"row_start": number, "row_end": number}, header=header))
    if not sections:
        sections.append(Section(text=header, meta={"row_start": 1, "row_end": 1}))
    return sections
