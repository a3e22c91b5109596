"""Counts read as a person writes them: "1 page", "2 pages", never "1 pages" or "page(s)"."""

from __future__ import annotations

import io
from pathlib import Path

from core.display import plural


def test_plural():
    assert [plural(n, "page") for n in (0, 1, 2)] == ["0 pages", "1 page", "2 pages"]
    assert plural(1, "query", "queries") == "1 query" and plural(3, "query", "queries") == "3 queries"


def test_a_one_page_document_in_the_listing():
    from index.listing import Document

    line = Document("lease.pdf", "/docs", 1, 1, 2048, None).line()
    assert "(1 chunk, 1 page, " in line
    assert "(2 chunks, 3 pages, " in Document("a.pdf", "/docs", 2, 3, 2048, None).line()


def test_the_ingest_summary_of_one_chunk():
    from ingest.report import FileOutcome, IngestReport

    report = IngestReport("docs", "db", [FileOutcome("a.txt", "new", chunks=1)])
    assert "; 1 chunk written in" in report.summary()


def test_the_batch_summary_and_report_of_one_question():
    from frontends.batch import BatchReport
    from frontends.batch_files import MarkdownFormat

    assert BatchReport(Path("answers.md"), total=1, answered=1, elapsed_s=1.0).summary().startswith("1 question: ")
    record = {
        "id": 1,
        "question": "Rent?",
        "status": "answered",
        "answer": "1,450 EUR [1].",
        "passages": [{"relevance": 0.7}],
    }
    assert "*1 passage retrieved, best relevance 0.70;" in MarkdownFormat().render(record)


def test_doctor_counts_one_problem():
    from doctor.report import DoctorReport, Problem

    assert DoctorReport(problems=[Problem("llm-missing", "gone")]).to_text().endswith("\n1 problem to fix.")


def test_the_progress_line_of_a_one_file_ingest():
    from ingest.progress import Progress

    out = io.StringIO()
    progress = Progress(1, stream=out)
    progress.expect([("note.txt", 10)])
    progress.file_read("note.txt", 1)
    progress.chunks_done(1)
    progress.file_done()
    progress.close()
    assert "1/1 chunk, 1/1 file, " in out.getvalue().splitlines()[-1]
