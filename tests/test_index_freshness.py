"""A long-lived reader (chat, batch and serve hold one index, one local Chroma client, for their whole
run) sees what another process's ingest added since it opened: `Index.refresh`, before each search."""

from __future__ import annotations

import subprocess

import pytest

from conftest import REPO, localgpt_cmd

pytestmark = pytest.mark.slow  # ingests with the real embedder in another process

KETTLE = "Descale the kettle every thirty days with white vinegar."
INVOICE = "Invoice INV-7781 from Harbour Supplies is due on the fourteenth of March."


def ingest(folder, db) -> None:
    done = subprocess.run(
        localgpt_cmd("ingest", "--source-dir", str(folder), "--db", str(db), "--quiet"),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_session_sees_what_another_process_ingested_after_it_opened(tmp_path, settings_for):
    from answering import Session
    from retrieval import open_retriever

    folder, db = tmp_path / "docs", tmp_path / "db"
    folder.mkdir()
    (folder / "kettle.md").write_text(f"# Kettle\n\n{KETTLE}\n")
    ingest(folder, db)
    with open_retriever(settings_for(db)) as retriever:
        session = Session(retriever, llm=None, settings=settings_for(db))  # what chat and batch hold
        assert session.search("How often is the kettle descaled?")[0].chunk.source == "kettle.md"

        (folder / "invoice.md").write_text(f"# Invoice\n\n{INVOICE}\n")
        ingest(folder, db)  # another process, while this one holds its client open

        question = "When is invoice INV-7781 due?"
        hits = session.search(question)
        assert hits[0].chunk.source == "invoice.md"
        assert hits[0].relevance > 0.3  # its vector was found, not only its words
        dense = retriever.search(question, mode="dense")
        assert dense[0].chunk.source == "invoice.md"  # the vector search itself sees the new file
        lexical = retriever.search(question, mode="bm25")
        assert lexical[0].chunk.source == "invoice.md"  # and so does the lexical index (Tantivy)
