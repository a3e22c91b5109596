"""Two processes on one index: a second ingest is refused at once; a reader during an ingest
sees a consistent index (every chunk the catalog holds has its vector) and never crashes."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from conftest import REPO, localgpt_cmd
from test_ingest_incremental import write_corpus


pytestmark = pytest.mark.slow  # ingests with the real embedder in subprocesses


def cli_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALGPT_")}
    env.update(extra)
    return env


def test_second_ingest_exits_at_once_with_a_clear_message(tmp_path):
    from index import open_index

    folder = tmp_path / "docs"
    write_corpus(folder, 2)
    with open_index(tmp_path / "db", write=True):  # another ingest holds the index
        result = subprocess.run(
            localgpt_cmd("ingest", "--source-dir", str(folder), "--db", str(tmp_path / "db")),
            capture_output=True,
            text=True,
            cwd=REPO,
            env=cli_env(),
            timeout=120,
        )
    assert result.returncode == 1
    assert "Another ingest is writing to" in result.stderr and "Wait for it to finish" in result.stderr
    assert "Traceback" not in result.stderr
    with open_index(tmp_path / "db") as index:
        assert index.catalog.file_count() == 0  # it wrote nothing


def test_queries_during_an_ingest_see_a_consistent_index(tmp_path, settings_for):
    from core.errors import NoIndexError
    from index import open_index
    from retrieval import open_retriever

    folder, db = tmp_path / "docs", tmp_path / "db"
    write_corpus(folder, 12)
    proc = subprocess.Popen(
        localgpt_cmd("ingest", "--source-dir", str(folder), "--db", str(db), "--quiet"),
        cwd=REPO,
        env=cli_env(LOCALGPT_EMBED_BATCH_SIZE="4"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    samples_with_chunks = 0
    try:
        while proc.poll() is None:
            try:
                with open_index(db) as index:
                    in_catalog = index.catalog.chunk_ids()  # read first: the catalog only grows here
                    in_store = index.vectors.ids()
                    assert in_catalog <= in_store, "a chunk in the catalog has no vector"
                if in_catalog:
                    samples_with_chunks += 1
                    with open_retriever(settings_for(db)) as retriever:
                        hits = retriever.search("notice period for the lease deposit", k=3)
                    assert hits and all(h.chunk.source.startswith("part") for h in hits)
            except NoIndexError:
                pass
            time.sleep(0.2)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "12 new" in out
    assert samples_with_chunks >= 1, "the ingest ended before any query could run during it"
