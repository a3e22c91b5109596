"""An index from before Tantivy (its lexical index FTS5, inside the catalog) keeps answering, and
its next write-open builds the Tantivy index once, with a progress line; a kill during that build
leaves the FTS5 index working and the next write-open builds again. Both lexical indexes give the
same chunks for the same questions (tests/test_retrieval_units.py runs each query on both)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys

from conftest import REPO, fts5_catalog
from core.filters import parse_where
from core.types import Chunk
from index.catalog import FTS5, TANTIVY, Catalog, FileRecord
from index.lexical_tantivy import LEXICAL_DIR
from index.store import Index

QUESTIONS = ["sixty days notice", "ERR-4031 impeller", "pump motor", "clause", "supplier delivers"]
FILES = {
    "contracts/lease.md": ["Clause 14.2: the tenant gives sixty days notice in writing.", "Rent is due monthly."],
    "manuals/pump.md": ["Error ERR-4031: the impeller is blocked.", "The pump motor overheats; let it cool."],
    "contracts/supply.md": ["Clause 9: the supplier delivers within ten days."],
}


def old_index(db):
    """An index as a version before Tantivy wrote it: FTS5 in the catalog, no lexical/ folder."""
    db.mkdir(parents=True, exist_ok=True)
    catalog = fts5_catalog(db / "catalog.sqlite")
    for source, texts in FILES.items():
        catalog.replace_file(
            FileRecord(source, "h", 1, 1), [Chunk.make(t, source, i, {"page": i + 1}) for i, t in enumerate(texts)]
        )
    return catalog


def answers(index, where=None):
    return {q: [c.id for c in index.lexical(q, 3, parse_where(where))] for q in QUESTIONS}


def test_an_old_index_is_searched_then_built_into_tantivy_once(tmp_path, caplog):
    db = tmp_path / "db"
    catalog = old_index(db)
    index = Index(db, catalog, lambda: None)
    before = answers(index)
    filtered = answers(index, "source=contracts/*")
    assert before["ERR-4031 impeller"] and not (db / LEXICAL_DIR).exists()
    with caplog.at_level(logging.INFO, logger="index"):
        index.settle_lexical()  # what the next ingest's write-open does
    assert "building the lexical index" in caplog.text and "lexical index built: 5 chunks" in caplog.text
    assert catalog.lexical_engine() == TANTIVY
    assert not catalog.connection().execute("SELECT 1 FROM sqlite_master WHERE name = 'chunks_fts'").fetchone()
    assert answers(index) == before and answers(index, "source=contracts/*") == filtered
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="index"):
        index.settle_lexical()
    assert "building" not in caplog.text  # once
    index.close()


KILL_DURING_BUILD = """
import sys
from pathlib import Path
sys.path.insert(0, {repo!r})
from index.catalog import Catalog
from index.lexical_tantivy import LEXICAL_DIR
from index.store import Index
db = Path({db!r})
Index(db, Catalog(db / "catalog.sqlite"), lambda: None).settle_lexical()
"""


def test_a_kill_during_the_build_leaves_the_old_index_working_and_the_next_open_builds(tmp_path):
    db = tmp_path / "db"
    catalog = old_index(db)
    index = Index(db, catalog, lambda: None)
    before = answers(index)
    env = {**os.environ, "LOCALGPT_TEST_KILL_AT": "lexical-build"}
    done = subprocess.run(
        [sys.executable, "-c", KILL_DURING_BUILD.format(repo=str(REPO), db=str(db))], env=env, capture_output=True
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert catalog.lexical_engine() == FTS5 and answers(index) == before  # still the FTS5 index, working
    index.settle_lexical()
    assert catalog.lexical_engine() == TANTIVY and index.words.count() == 5
    assert answers(index) == before
    index.close()


def test_a_missing_lexical_folder_is_built_again_from_the_catalog(tmp_path, caplog):
    db = tmp_path / "db"
    catalog = old_index(db)
    index = Index(db, catalog, lambda: None)
    index.settle_lexical()
    before = answers(index)
    index.close()
    import shutil

    shutil.rmtree(db / LEXICAL_DIR)  # lost, or restored from a backup without it
    index = Index(db, Catalog(db / "catalog.sqlite"), lambda: None)
    assert index.lexical("pump motor", 3) == []  # nothing to search until a write-open rebuilds it
    with caplog.at_level(logging.WARNING, logger="index"):
        index.settle_lexical()
    assert "does not match the catalog" in caplog.text and "misses chunks" in caplog.text
    assert answers(index) == before
    index.close()


def test_doctor_says_which_lexical_index_and_whether_it_is_in_step(tmp_path):
    from doctor.index_check import index_facts

    db = tmp_path / "db"
    old_index(db).close()
    facts, problems = index_facts(db, None, None)
    assert facts["lexical_index"].startswith("FTS5")
    assert [(p.reason, p.severity) for p in problems if "lexical" in p.reason] == [("index-lexical-old", "warning")]
    index = Index(db, Catalog(db / "catalog.sqlite"), lambda: None)
    index.settle_lexical()
    index.close()
    facts, problems = index_facts(db, None, None)
    assert facts["lexical_index"] == "Tantivy, 5 chunks, in step"
    assert not [p for p in problems if "lexical" in p.reason]


def test_a_reader_keeps_searching_when_a_writer_rebuilds_the_folder_under_it(tmp_path):
    db = tmp_path / "db"
    catalog = old_index(db)
    writer = Index(db, catalog, lambda: None)
    writer.settle_lexical()
    reader = Index(db, Catalog(db / "catalog.sqlite"), lambda: None)
    before = answers(reader)
    import shutil

    writer.close()
    shutil.rmtree(db / LEXICAL_DIR)  # lost: the next writer finds it missing and builds it again
    reader.refresh()
    assert answers(reader) == {q: [] for q in QUESTIONS}  # meanwhile nothing to search, and no error
    writer = Index(db, Catalog(db / "catalog.sqlite"), lambda: None)
    writer.settle_lexical()
    reader.refresh()
    assert answers(reader) == before
    writer.close()
    reader.close()
