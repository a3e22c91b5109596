"""Fusion, chunk heads (index text) and small-to-big passages: fast logic tests, plus the catalog's
upgrade of an index written before heads existed, on a real SQLite file."""

import json
import sqlite3

import pytest

from core.index_text import HEAD_CHARS, head_of, index_text
from core.types import Chunk
from index.catalog import Catalog, FileRecord
from retrieval.fusion import adaptive_bm25_weight, code_like, convex_fusion, fuse
from index.lexical import bm25_search
from retrieval.passages import overlap, passages_for, widen

DENSE = [("a", 0.9), ("b", 0.8), ("c", 0.3)]
LEXICAL = [("c", 12.0), ("d", 11.0), ("a", 2.0)]


@pytest.mark.parametrize("method", ["convex", "rrf"])
def test_fusion_weight_one_side_gives_that_sides_order(method):
    assert [i for i, _ in fuse(DENSE, LEXICAL, method, 0.0)][:3] == ["a", "b", "c"]
    assert [i for i, _ in fuse(DENSE, LEXICAL, method, 1.0)][:3] == ["c", "d", "a"]


def test_convex_fusion_rescales_each_list_so_scales_do_not_matter():
    fused = dict(convex_fusion([DENSE, LEXICAL], [0.5, 0.5]))
    # a: dense 1.0, bm25 0.0 -> 0.5; c: dense 0.0, bm25 1.0 -> 0.5; d: bm25 0.9 only -> 0.45
    assert fused["a"] == pytest.approx(0.5) and fused["c"] == pytest.approx(0.5)
    assert fused["d"] == pytest.approx(0.45, abs=0.01)
    assert set(fused) == {"a", "b", "c", "d"}


@pytest.mark.parametrize(
    "word, expected",
    [
        ("ERR-4031", True),
        ("os.path.join", True),
        ("max_connections", True),
        ("--dry-run", True),
        ("camelCase", True),
        ("pg_hba.conf", True),
        ("seq()", True),
        ("notice", False),
        ("What", False),
        ("period?", False),
    ],
)
def test_code_like_terms(word, expected):
    assert code_like(word) is expected


def test_questions_with_code_get_more_bm25_weight():
    assert adaptive_bm25_weight("How do I set max_connections?", 0.5, 0.2) == pytest.approx(0.7)
    assert adaptive_bm25_weight("How long is the notice period?", 0.5, 0.2) == 0.5
    assert adaptive_bm25_weight("What does ERR-4031 mean?", 0.8, 0.2) == 0.9


def test_head_is_title_and_heading_path_and_the_text_stays_apart():
    assert (
        head_of("manuals/R-intro.pdf", {"title": "An Introduction to R", "heading": "5 Arrays > 5.1 Arrays"})
        == "An Introduction to R > 5 Arrays > 5.1 Arrays"
    )
    assert (
        head_of("library/pathlib.html", {"heading": "pathlib — Object-oriented paths > Basic use"})
        == "pathlib — Object-oriented paths > Basic use"
    )  # the h1 already names the page
    assert head_of("docs/lease_agreement.pdf", {"page": 2}) == "lease agreement"
    long = head_of("a.html", {"heading": " > ".join(f"Section {n}" for n in range(60))})
    assert len(long) <= HEAD_CHARS and long.endswith("Section 59")
    assert index_text("lease agreement", "sixty days") == "lease agreement\nsixty days"


def chunks_of(texts, source="notes/a.txt"):
    return [Chunk.make(t, source, i) for i, t in enumerate(texts)]


def test_passage_joins_neighbours_once_and_points_at_the_matched_chunk():
    texts = [
        "Alpha one. Alpha two. Shared tail here.",
        "Shared tail here. Beta one. Beta two and more.",
        "Beta two and more. Gamma one. Gamma two.",
    ]
    chunks = chunks_of(texts)
    passage = widen(chunks[1], dict(enumerate(texts)))
    assert passage.text == "Alpha one. Alpha two. Shared tail here. Beta one. Beta two and more. Gamma one. Gamma two."
    assert passage.text[passage.start : passage.end] == texts[1]
    assert (passage.first_index, passage.last_index) == (0, 2)
    assert overlap(texts[0], texts[1]) == len("Shared tail here.")


def test_passage_stays_within_the_cap_and_cuts_neighbours_at_sentence_ends():
    texts = [" ".join(f"Chunk {i} sentence {n}." for n in range(20)) for i in range(5)]  # ~400 chars each, no overlap
    chunks = chunks_of(texts)
    passage = widen(chunks[2], dict(enumerate(texts)), cap=1000)
    assert len(passage.text) <= 1000
    assert passage.text[passage.start : passage.end] == texts[2]
    assert passage.text.endswith(".") and passage.text.split("\n")[0].startswith("Chunk ")
    alone = widen(chunks[2], dict(enumerate(texts)), cap=10)  # the chunk itself is never cut
    assert alone.text == texts[2] and (alone.start, alone.end) == (0, len(texts[2]))


def test_catalog_from_before_heads_is_upgraded_and_bm25_finds_the_title(tmp_path):
    path = tmp_path / "catalog.sqlite"
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE chunks (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
            chunk_index INTEGER NOT NULL, text TEXT NOT NULL, meta TEXT NOT NULL);
        CREATE INDEX chunks_by_source ON chunks(source);
        CREATE VIRTUAL TABLE chunks_fts USING fts5(text, content='chunks', content_rowid='rowid', tokenize='porter unicode61');
        CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN INSERT INTO chunks_fts(rowid, text) VALUES (new.rowid, new.text); END;
        CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
            INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.rowid, old.text); END;
    """)
    meta = {"source": "contracts/lease_agreement.pdf", "chunk_index": 0, "heading": "Termination"}
    old.execute(
        "INSERT INTO chunks(id, source, chunk_index, text, meta) VALUES ('x', ?, 0, 'sixty days written notice', ?)",
        (meta["source"], json.dumps(meta)),
    )
    old.commit()
    old.close()
    catalog = Catalog(path)
    try:
        conn = catalog.connection()
        assert [m.id for m in bm25_search(conn, "lease termination", 5)] == ["x"]  # words only in the head
        assert [m.id for m in bm25_search(conn, "sixty days", 5)] == ["x"]  # the text as before
        assert catalog.get_chunks(["x"])["x"].text == "sixty days written notice"  # shown text unchanged
        catalog.replace_files(
            [(FileRecord("b.txt", "h", 1, 1), [Chunk.make("hello", "b.txt", 0, {"heading": "Greeting"})])]
        )
        assert len(bm25_search(conn, "greeting", 5)) == 1
        catalog.remove_files(["b.txt"])
        assert bm25_search(conn, "greeting", 5) == []  # the delete trigger removes heads too
    finally:
        catalog.close()


def test_passages_read_neighbours_of_the_same_file_only(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    try:
        a = chunks_of(["First of a.", "Second of a.", "Third of a."], "a.txt")
        b = chunks_of(["First of b.", "Second of b."], "b.txt")
        catalog.replace_files([(FileRecord("a.txt", "ha", 1, 1), a), (FileRecord("b.txt", "hb", 1, 1), b)])
        passage = passages_for(catalog, [a[1]])[0]
        assert passage.text == "First of a.\nSecond of a.\nThird of a."
        assert "of b" not in passage.text
    finally:
        catalog.close()


@pytest.mark.slow
def test_an_index_embedded_without_heads_is_embedded_again_once_on_the_next_ingest(tmp_path, settings_for):
    """Real ingest (bundled model, Chroma on disk): an index whose info records no index-text recipe
    (as every index written before heads did) is re-read and re-embedded by the next ingest, whole,
    keeps its chunk ids, and records the recipe, so the ingest after that reads nothing."""
    from core.index_text import INDEX_TEXT
    from index import open_index
    from ingest.pipeline import run_ingest

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lease.md").write_text("# Lease\n\n## Termination\n\nEither party gives sixty (60) days written notice.\n")
    (docs / "kettle.txt").write_text("Descale the kettle every month with citric acid.\n")
    settings = settings_for(tmp_path / "db", source_dir=docs)
    run_ingest(settings)
    with open_index(settings.db, write=True) as index:
        ids = index.catalog.chunk_ids()
        index.catalog.connection().execute("DELETE FROM info WHERE key = 'index_text'")
        assert not index.index_text_is_current()
    again = run_ingest(settings)
    assert sorted(o.status for o in again.outcomes) == ["changed", "changed"]
    with open_index(settings.db) as index:
        assert index.catalog.chunk_ids() == ids and index.catalog.info()["index_text"] == INDEX_TEXT
        assert index.vectors.count() == len(ids)
        head = index.catalog.connection().execute("SELECT head FROM chunks WHERE source = 'lease.md'").fetchone()[0]
        assert head == "Lease > Termination"
    assert [o.status for o in run_ingest(settings).outcomes] == ["unchanged", "unchanged"]


def test_pdf_pages_carry_the_title_and_the_bookmark_heading_path(tmp_path):
    """The PDF's Title metadata and its bookmarks become each page's title and heading path (the chunk's head)."""
    from fpdf import FPDF

    from ingest.loaders.pdf import read_pdf

    pdf = FPDF()
    pdf.set_title("An Introduction to Widgets")
    pdf.set_font("helvetica", size=12)
    for title, level, body in [
        ("1 Basics", 0, "Widgets are small."),
        ("1.1 Sizes", 1, "Sizes go from S to XL."),
        ("2 Care", 0, "Clean widgets weekly."),
    ]:
        pdf.add_page()
        pdf.start_section(title, level=level)
        pdf.cell(text=body)
    pdf.add_page()
    pdf.cell(text="More about care on a page with no bookmark of its own.")
    path = tmp_path / "widgets.pdf"
    pdf.output(str(path))
    sections = read_pdf(path)
    assert [s.meta.get("heading") for s in sections] == ["1 Basics", "1 Basics > 1.1 Sizes", "2 Care", "2 Care"]
    assert {s.meta.get("title") for s in sections} == {"An Introduction to Widgets"}
    assert head_of("widgets.pdf", sections[1].meta) == "An Introduction to Widgets > 1 Basics > 1.1 Sizes"
