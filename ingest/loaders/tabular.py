"""Tables: CSV/TSV, XLSX and XLS. Every row, numbered as a spreadsheet shows it, under the header row.

Each data row is one `Section` carrying the header row as `header` and its row range; the
chunker packs consecutive rows of one sheet into chunks and repeats the header in each.
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator

from core.types import Section
from ingest.loaders.errors import LoadError
from ingest.loaders.text import open_text

CELL_SEPARATOR = " | "


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return (
            value.isoformat(sep=" ")
            if (value.hour, value.minute, value.second) != (0, 0, 0)
            else value.date().isoformat()
        )
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return " ".join(str(value).split())


def _line(cells: Iterable[Any]) -> str:
    texts = [cell_text(c) for c in cells]
    while texts and not texts[-1]:
        texts.pop()
    return CELL_SEPARATOR.join(texts)


def table_sections(rows: Iterator[tuple[int, Iterable[Any]]], meta: dict[str, Any]) -> list[Section]:
    """Sections of one table from (row number, cells); the first non-empty row is the header."""
    header = None
    header_row = 0
    sections: list[Section] = []
    for number, cells in rows:
        line = _line(cells)
        if not line.strip(" |"):
            continue
        if header is None:
            header, header_row = line, number
            continue
        sections.append(Section(text=line, meta={**meta, "row_start": number, "row_end": number}, header=header))
    if header is not None and not sections:  # a table that is only its header
        sections.append(Section(text=header, meta={**meta, "row_start": header_row, "row_end": header_row}))
    return sections


def read_csv(path: Path) -> list[Section]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with open_text(path) as handle:
        sample = handle.read(16384)
        handle.seek(0)
        if path.suffix.lower() in (".tsv", ".tab"):
            dialect: Any = csv.excel_tab
        else:
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
            except csv.Error:
                dialect = csv.excel
        try:
            sections = table_sections(enumerate(csv.reader(handle, dialect), start=1), {})
        except csv.Error as exc:
            raise LoadError(f"malformed CSV ({exc})") from None
    if not sections:
        raise LoadError("no rows: the CSV holds only whitespace")
    return sections


def _row_number(cells, fallback: int) -> int:
    for cell in cells:
        number = getattr(cell, "row", None)  # read-only mode fills gaps with EmptyCell, which has none
        if number:
            return number
    return fallback


def read_xlsx(path: Path) -> list[Section]:
    import openpyxl

    workbook = openpyxl.load_workbook(str(path), read_only=True, data_only=True)  # a damaged file: loaders.read_failure
    try:
        sections: list[Section] = []
        for sheet in workbook.worksheets:
            rows = (
                (_row_number(cells, n), [c.value for c in cells])
                for n, cells in enumerate(sheet.iter_rows(min_row=1), start=1)
            )
            sections.extend(table_sections(rows, {"sheet": sheet.title}))
    finally:
        workbook.close()
    if not sections:
        raise LoadError("no cells with values in the workbook")
    return sections


def read_xls(path: Path) -> list[Section]:
    import xlrd

    book = xlrd.open_workbook(str(path), on_demand=True)  # a damaged file: loaders.read_failure
    try:
        sections: list[Section] = []
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)

            def values(sheet=sheet) -> Iterator[tuple[int, list[Any]]]:
                for r in range(sheet.nrows):
                    cells = []
                    for cell in sheet.row(r):
                        if cell.ctype == xlrd.XL_CELL_DATE:
                            try:
                                cells.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
                                continue
                            except (ValueError, OverflowError):
                                pass
                        if cell.ctype == xlrd.XL_CELL_BOOLEAN:
                            cells.append(bool(cell.value))
                        elif cell.ctype in (xlrd.XL_CELL_ERROR, xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                            cells.append(None)
                        else:
                            cells.append(cell.value)
                    yield r + 1, cells

            sections.extend(table_sections(values(), {"sheet": sheet.name}))
            book.unload_sheet(index)
    finally:
        book.release_resources()
    if not sections:
        raise LoadError("no cells with values in the workbook")
    return sections
