"""Tables and records: every row ends up in a chunk, with its sheet, row range and the header row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.chunking import ChunkPlan, chunk_sections
from ingest.loaders import LoadError, load_file

FIXTURES = Path(__file__).parent / "fixtures" / "docs"


def chunks_of(path: Path, embedder, max_tokens: int = 200):
    return chunk_sections(load_file(path), path.name, embedder.tokens, ChunkPlan(max_tokens=max_tokens, overlap=0))


def rows_covered(chunks) -> list[int]:
    rows: list[int] = []
    for chunk in chunks:
        rows.extend(range(chunk.extra["row_start"], chunk.extra["row_end"] + 1))
    return rows


def test_every_row_of_a_10000_row_csv_is_in_a_chunk(tmp_path, embedder):
    path = tmp_path / "orders.csv"
    lines = ["order_id,customer,amount"] + [f"{i},customer {i},{i * 7 % 1000}" for i in range(1, 10_001)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    chunks = chunks_of(path, embedder)
    assert rows_covered(chunks) == list(range(2, 10_002))  # spreadsheet row numbers: header is row 1
    assert all(c.text.startswith("order_id | customer | amount\n") for c in chunks)
    last = chunks[-1]
    assert "10000 | customer 10000 | " in last.text and last.extra["row_end"] == 10_001
    middle = next(c for c in chunks if c.extra["row_start"] <= 5_001 <= c.extra["row_end"])
    assert "5000 | customer 5000 | " in middle.text
    assert all(embedder.tokens.count(c.text) <= 200 for c in chunks)


def test_csv_dialects_quotes_and_tsv(tmp_path):
    semicolon = tmp_path / "prices.csv"
    semicolon.write_text(
        'name;price;note\nTea;3,50;"green; loose"\nCoffee;2,80;"multi\nline"\nCake;4,00;x\n', encoding="utf-8"
    )
    sections = load_file(semicolon)
    assert sections[0].header == "name | price | note"
    assert sections[0].text == "Tea | 3,50 | green; loose"
    assert sections[1].text == "Coffee | 2,80 | multi line"
    assert (sections[2].meta["row_start"], sections[2].text) == (4, "Cake | 4,00 | x")  # a record is a row
    tsv = tmp_path / "staff.TSV"
    tsv.write_text("name\troom\nAda\tB12\n", encoding="utf-8")
    assert [(s.header, s.text) for s in load_file(tsv)] == [("name | room", "Ada | B12")]


def test_xlsx_sheet_name_row_range_and_header_in_every_chunk(tmp_path, embedder):
    import openpyxl

    book = openpyxl.Workbook()
    summary = book.active
    summary.title = "Summary"
    summary.append(["region", "total"])
    summary.append(["North", 120])
    sales = book.create_sheet("Q3 Sales")
    sales.append(["date", "product", "units"])
    for i in range(1, 801):
        sales.append([f"2024-07-{i % 28 + 1:02d}", f"gadget model {i}", i])
    path = tmp_path / "sales.xlsx"
    book.save(path)

    chunks = chunks_of(path, embedder)
    q3 = [c for c in chunks if c.extra["sheet"] == "Q3 Sales"]
    assert len(q3) > 3
    assert all(c.text.startswith("date | product | units\n") for c in q3)
    assert rows_covered(q3) == list(range(2, 802))
    row_500 = next(c for c in q3 if c.extra["row_start"] <= 501 <= c.extra["row_end"])
    assert "gadget model 500 | 500" in row_500.text
    assert f"sheet Q3 Sales, rows {row_500.extra['row_start']}-{row_500.extra['row_end']}" in row_500.citation()
    north = [c for c in chunks if c.extra["sheet"] == "Summary"]
    assert len(north) == 1 and north[0].text == "region | total\nNorth | 120"
    assert (north[0].extra["row_start"], north[0].extra["row_end"]) == (2, 2)


def test_xls_sheets_rows_and_dates(embedder):
    chunks = chunks_of(FIXTURES / "budget.xls", embedder)  # made with xlwt: Budget (40 rows), Staff (2 rows)
    budget = [c for c in chunks if c.extra["sheet"] == "Budget"]
    assert rows_covered(budget) == list(range(2, 42))
    assert all(c.text.startswith("item | cost | due\n") for c in budget)
    assert "line item 3 | 31.5 | 2024-01-04" in budget[0].text
    staff = [c for c in chunks if c.extra["sheet"] == "Staff"]
    assert staff[0].text == "name | room\nAda Lovelace | B12\nGrace Hopper | C7"


def test_json_array_items_and_jsonl_lines_are_numbered_records(tmp_path, embedder):
    array = tmp_path / "people.json"
    array.write_text(
        json.dumps(
            [
                {"name": "Ada", "skills": ["math", "engines"], "address": {"city": "London"}},
                {"name": "Grace", "skills": ["COBOL"], "address": {"city": "Arlington"}},
            ]
        ),
        encoding="utf-8",
    )
    chunks = chunks_of(array, embedder)
    assert len(chunks) == 1  # two small records packed together
    assert "name: Grace\nskills: COBOL\naddress.city: Arlington" in chunks[0].text
    assert (chunks[0].extra["row_start"], chunks[0].extra["row_end"]) == (1, 2)

    obj = tmp_path / "config.json"
    obj.write_text(json.dumps({"database": {"host": "db.local", "port": 5432}, "debug": False}), encoding="utf-8")
    sections = load_file(obj)
    assert [(s.meta["heading"], s.text) for s in sections] == [
        ("database", "database.host: db.local\ndatabase.port: 5432"),
        ("debug", "debug: false"),
    ]

    lines = tmp_path / "events.jsonl"
    lines.write_text(
        '{"event": "login", "user": "ann"}\n\n{"event": "logout", "user": "bob"}\nnot json at all\n', encoding="utf-8"
    )
    sections = load_file(lines)
    assert [(s.meta["row_start"], s.text) for s in sections] == [
        (1, "event: login\nuser: ann"),
        (3, "event: logout\nuser: bob"),
        (4, "not json at all"),
    ]


def test_invalid_json_names_the_place(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"a": 1,\n "b": }', encoding="utf-8")
    with pytest.raises(LoadError, match="invalid JSON: .* at line 2"):
        load_file(path)
