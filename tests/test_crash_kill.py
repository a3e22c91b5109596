"""An ingest killed with SIGKILL at any moment, then run again, ends in exactly the index one
clean run gives: the same chunk ids in the catalog, its full-text index and Chroma; nothing
duplicated, nothing missing.

Kills land at named points of the write order through the test hook LOCALGPT_TEST_KILL_AT
(index/crashpoints.py: the process SIGKILLs itself there, as `kill -9` would), and once from
outside at an unscripted moment. After every kill the guarantee readers rely on is checked:
every chunk in the catalog has its vector in Chroma.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time

import pytest

from conftest import REPO, localgpt_cmd
from test_ingest_incremental import index_state, prose, write_corpus


pytestmark = pytest.mark.slow  # kills real ingests run as subprocesses

# Small batches make several write groups out of a small corpus (a group is 16 batches).
ENV = {"LOCALGPT_EMBED_BATCH_SIZE": "4", "LOCALGPT_WORKERS": "2"}


def ingest(folder, db, kill_at: str | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALGPT_")}
    env.update(ENV)
    if kill_at:
        env["LOCALGPT_TEST_KILL_AT"] = kill_at
    return subprocess.run(
        localgpt_cmd("ingest", "--source-dir", str(folder), "--db", str(db), "--quiet"),
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )


def killed_at(folder, db, stage: str) -> None:
    result = ingest(folder, db, kill_at=stage)
    assert result.returncode == -signal.SIGKILL, (
        f"not killed at {stage}: rc={result.returncode} {result.stdout} {result.stderr}"
    )
    assert_readers_safe(db, stage)


def assert_readers_safe(db, when: str) -> None:
    state = index_state(db)
    missing = set(state["catalog"]) - set(state["vectors"])
    assert not missing, f"after a kill at {when}: {len(missing)} catalog chunks have no vector"
    # The lexical index (Tantivy, beside the catalog) may lag after a kill, but only by changes the
    # catalog recorded in the same transaction: the next write-open takes them in.
    disagree = set(state["catalog"]) ^ set(state["fts"])
    assert disagree <= set(state["lexical_pending"]), f"after a kill at {when}: lexical index lost changes"
    assert state["fts_rows"] == len(state["fts"])
    assert state["vector_count"] == len(state["vectors"])


def kill_from_outside_during_writes(folder, db) -> None:
    """SIGKILL at an unscripted moment: as soon as this run has put more chunks in the catalog."""
    start = len(index_state(db)["catalog"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALGPT_")}
    env.update(ENV)
    proc = subprocess.Popen(
        localgpt_cmd("ingest", "--source-dir", str(folder), "--db", str(db), "--quiet"),
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with sqlite3.connect(f"file:{db / 'catalog.sqlite'}?mode=ro", uri=True, timeout=1) as sql:
                    if sql.execute("SELECT count(*) FROM chunks").fetchone()[0] > start:
                        break
            except sqlite3.Error:
                pass
            time.sleep(0.05)
        assert proc.poll() is None, "the ingest finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert_readers_safe(db, "an outside kill during writes")


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("crash")
    before, after = base / "before", base / "after"
    write_corpus(before, 24)
    write_corpus(after, 24)
    # `after` is `before` edited: 3 changed, 2 deleted, 1 renamed, 2 added.
    for n in (0, 4, 8):
        (after / f"part{n % 3}" / f"note{n:03d}.txt").write_text(prose(200 + n), encoding="utf-8")
    for n in (1, 5):
        (after / f"part{n % 3}" / f"note{n:03d}.txt").unlink()
    (after / "part0" / "note009.txt").rename(after / "part0" / "renamed.txt")
    write_corpus(after, 2, start=90)
    return base, before, after


def test_kill_at_every_stage_then_rerun_equals_clean_run(folders):
    base, before, after = folders
    clean_before, clean_after, db = base / "clean-before", base / "clean-after", base / "db"
    assert ingest(before, clean_before).returncode == 0
    assert ingest(after, clean_after).returncode == 0
    expected_before, expected_after = index_state(clean_before), index_state(clean_after)
    assert len(expected_before["catalog"]) >= 70  # several write groups of 64 chunks

    # A first ingest, killed while parsing, while embedding (after a first group was written), and from outside.
    killed_at(before, db, "parsed:3")
    killed_at(before, db, "embedded:10")  # mid-embedding, 40 chunks in
    kill_from_outside_during_writes(before, db)
    rerun = ingest(before, db)
    assert rerun.returncode == 0, rerun.stderr
    assert index_state(db) == expected_before

    # Re-ingest of the edited folder (changes, deletions, a rename), killed between the steps of a write.
    shutil_copy_tree(after, before)
    killed_at(before, db, "move-vectors:1")  # the renamed file's vectors under its new ids, the catalog not switched
    killed_at(before, db, "move-catalog:1")  # the catalog holds the new name, the old ids' vectors not yet deleted
    killed_at(before, db, "removed:1")  # a deleted file left the catalog, its vectors not yet
    killed_at(before, db, "vectors:1")  # changed files: new and old vectors both in Chroma
    killed_at(before, db, "catalog:1")  # catalog switched to the new chunks, old vectors not yet deleted
    killed_at(before, db, "lexical:1")  # changes given to Tantivy, not committed there
    killed_at(before, db, "lexical-committed:1")  # Tantivy committed, the catalog's change list not cleared
    rerun = ingest(before, db)
    assert rerun.returncode == 0, rerun.stderr
    assert index_state(db) == {**expected_after, "files": index_state(clean_after)["files"]}


def shutil_copy_tree(src, dst) -> None:
    """Make `dst` hold exactly what `src` holds (files deleted, changed, added)."""
    import shutil

    shutil.rmtree(dst)
    shutil.copytree(src, dst)


def test_kill_mid_ingest_of_a_second_folder_leaves_the_first_untouched(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    write_corpus(first, 6)
    write_corpus(second, 24, start=40)
    clean, db = tmp_path / "clean", tmp_path / "db"
    assert ingest(first, clean).returncode == 0 and ingest(second, clean).returncode == 0
    expected = index_state(clean)

    assert ingest(first, db).returncode == 0
    before = index_state(db)
    killed_at(second, db, "embedded:10")  # a first group of the second folder may be written, the rest not
    killed_at(second, db, "vectors:2")  # new vectors in Chroma, the catalog not yet switched
    after_kills = index_state(db)
    assert set(before["catalog"]) <= set(after_kills["catalog"])  # the first folder's chunks untouched
    assert set(before["catalog"]) <= set(after_kills["vectors"])
    assert {s: h for s, h in after_kills["files"].items() if not s.startswith("second/")} == before["files"]

    rerun = ingest(second, db)
    assert rerun.returncode == 0, rerun.stderr
    assert index_state(db) == expected
    again = ingest(first, db)  # and the first folder is still complete: nothing to do
    assert again.returncode == 0 and "6 unchanged" in again.stdout and "0 removed" in again.stdout


def test_remove_killed_mid_way_is_finished_by_the_next_write(tmp_path):
    folder, db = tmp_path / "docs", tmp_path / "db"
    write_corpus(folder, 6)
    assert ingest(folder, db).returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALGPT_")}
    env["LOCALGPT_TEST_KILL_AT"] = "removed:1"  # the files left the catalog, their vectors not yet
    killed = subprocess.run(
        localgpt_cmd("remove", "--db", str(db), "part0"), capture_output=True, text=True, cwd=REPO, env=env, timeout=300
    )
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert_readers_safe(db, "a remove")
    state = index_state(db)
    assert not any(s.startswith("part0/") for s in state["files"]) and state["pending"]
    rerun = ingest(folder, db)  # the next write deletes the orphaned vectors, then reads part0 back
    assert rerun.returncode == 0, rerun.stderr
    clean = tmp_path / "clean"
    assert ingest(folder, clean).returncode == 0
    assert index_state(db) == index_state(clean)
