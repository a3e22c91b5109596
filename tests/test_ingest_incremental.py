"""Re-ingest: unchanged files are skipped, changed ones replaced, deleted ones removed, a rename is
a move (its chunks and vectors kept, nothing embedded again); the result is always the index a
clean run over the same folder gives."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys

import pytest

from conftest import REPO, localgpt_cmd


pytestmark = pytest.mark.slow  # ingests with the real embedder

WORDS = (
    "lease tenant landlord notice period deposit rent kettle descale filter warranty inventory laptop "
    "monitor handbook holiday policy travel expense invoice contract clause termination renewal "
    "payment schedule meeting agenda budget forecast quarter revenue audit compliance safety"
).split()


def prose(seed: int, sentences: int = 30) -> str:
    rng = random.Random(seed)
    lines = []
    for n in range(sentences):
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
        lines.append(f"Item {seed}-{n}: " + " ".join(words).capitalize() + ".")
        if n % 6 == 5:
            lines.append("")
    return "\n".join(lines) + "\n"


def write_corpus(folder, count: int, start: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(start, start + count):
        sub = folder / f"part{n % 3}"
        sub.mkdir(exist_ok=True)
        (sub / f"note{n:03d}.txt").write_text(prose(n), encoding="utf-8")


def index_state(db) -> dict:
    """What a clean run must reproduce: ids in the catalog, in its lexical index and in Chroma."""
    from index import open_index

    with open_index(db) as index:
        sql = index.catalog.connection()
        catalog = sorted(r[0] for r in sql.execute("SELECT id FROM chunks"))
        assert index.catalog.lexical_engine() == "tantivy"
        fts = sorted(index.words.ids())  # the Tantivy index: one document per chunk
        fts_rows = index.words.count()
        lexical_pending = sorted(index.catalog.lexical_changes())  # changes it has not taken in yet
        files = dict(sql.execute("SELECT source, content_hash FROM files"))
        pending = index.catalog.pending()
        vectors = sorted(index.vectors.ids())
        vector_count = index.vectors.count()
    return {
        "catalog": catalog,
        "fts": fts,
        "fts_rows": fts_rows,
        "lexical_pending": lexical_pending,
        "files": files,
        "pending": pending,
        "vectors": vectors,
        "vector_count": vector_count,
    }


def run_cli(*args, env_extra=None, timeout=300):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALGPT_")}
    env.update(env_extra or {})
    return subprocess.run(localgpt_cmd(*args), capture_output=True, text=True, cwd=REPO, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """A folder ingested once, then re-ingested unchanged (shared by the tests below)."""
    base = tmp_path_factory.mktemp("incremental")
    folder, db = base / "docs", base / "db"
    write_corpus(folder, 8)
    first = run_cli(
        "ingest", "--source-dir", str(folder), "--db", str(db), "--quiet", "--report", str(base / "first.json")
    )
    assert first.returncode == 0, first.stderr
    return base, folder, db, first


def test_first_ingest_counts_every_file_new(ingested):
    base, folder, db, first = ingested
    report = json.loads((base / "first.json").read_text())
    assert report["counts"]["new"] == 8 and report["counts"]["failed"] == 0
    assert report["exit_code"] == 0
    assert "8 new, 0 changed, 0 unchanged, 0 moved, 0 removed, 0 failed" in first.stdout
    stages = report["stages"]  # where the time went (benchmarks/ingest.py --stages prints it)
    assert {"main embedding", "worker read .txt", "worker chunk", "writer vectors", "writer lexical"} <= set(stages)
    assert all(seconds >= 0 for seconds in stages.values())
    main = sum(s for name, s in stages.items() if name.startswith("main "))
    # The main thread's stages divide the ingest's wall time between them (each rounded to 1 ms).
    assert abs(main - report["elapsed_s"]) < 0.02
    state = index_state(db)
    assert state["catalog"] == state["vectors"] == state["fts"]
    assert len(state["catalog"]) == report["chunks_written"] > 8


def test_unchanged_reingest_loads_no_model(ingested):
    """A re-run over an unchanged folder reads no file and loads neither torch nor the model."""
    base, folder, db, _ = ingested
    code = (
        "import sys, json; sys.path.insert(0, '.');"
        "from core.settings import load_settings; from ingest.pipeline import run_ingest;"
        f"r = run_ingest(load_settings({{'db': {str(db)!r}, 'source_dir': {str(folder)!r}}}, environ={{}}));"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'onnxruntime', 'openvino', 'transformers') if m in sys.modules];"
        "print(json.dumps({'counts': r.to_json()['counts'], 'heavy': heavy, 'backend': r.embedding_backend}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["counts"]["unchanged"] == 8 and result["counts"]["new"] == 0
    assert result["heavy"] == [] and result["backend"] == ""


def test_add_change_delete_rename_touch_equals_clean_run(ingested, tmp_path):
    base, folder, db, _ = ingested
    (folder / "part0" / "note000.txt").write_text(prose(100), encoding="utf-8")  # changed
    (folder / "part1" / "note001.txt").unlink()  # deleted
    (folder / "part2" / "note002.txt").rename(folder / "part2" / "renamed.txt")  # renamed
    touched = folder / "part0" / "note003.txt"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 5_000_000_000))  # same content
    write_corpus(folder, 1, start=50)  # added: part2/note050.txt
    again = run_cli(
        "ingest", "--source-dir", str(folder), "--db", str(db), "--quiet", "--report", str(tmp_path / "r.json")
    )
    assert again.returncode == 0, again.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    outcome = {f["source"]: f["status"] for f in report["files"]}
    assert outcome["part0/note000.txt"] == "changed"
    assert outcome["part1/note001.txt"] == "removed"
    assert "part2/note002.txt" not in outcome  # renamed: moved, not removed
    assert outcome["part2/renamed.txt"] == "moved"
    moved = next(f for f in report["files"] if f["source"] == "part2/renamed.txt")
    assert moved["reason"] == "from part2/note002.txt" and moved["chunks"] > 0
    assert outcome["part2/note050.txt"] == "new"
    assert outcome["part0/note003.txt"] == "unchanged"
    assert report["counts"] == {
        "new": 1,
        "changed": 1,
        "unchanged": 5,
        "moved": 1,
        "removed": 1,
        "failed": 0,
        "skipped": 0,
        "excluded": 0,
    }
    assert "1 new, 1 changed, 5 unchanged, 1 moved, 1 removed, 0 failed" in again.stdout

    clean = run_cli("ingest", "--source-dir", str(folder), "--db", str(tmp_path / "clean"), "--quiet")
    assert clean.returncode == 0, clean.stderr
    assert index_state(db) == index_state(tmp_path / "clean")
    # the touched file's new mtime is remembered: the next run does not even hash it
    with sqlite3.connect(db / "catalog.sqlite") as sql:
        (mtime,) = sql.execute("SELECT mtime_ns FROM files WHERE source = 'part0/note003.txt'").fetchone()
    assert mtime == touched.stat().st_mtime_ns


def test_failures_are_listed_reported_and_exit_3(tmp_path):
    folder = tmp_path / "docs"
    write_corpus(folder, 2)
    (folder / "broken.pdf").write_bytes(b"this is not a pdf at all")
    (folder / "big.txt").write_text(prose(7, sentences=200), encoding="utf-8")  # about 25 kB
    (folder / "notes.xyz").write_text("unsupported", encoding="utf-8")
    db = tmp_path / "db"
    result = run_cli(
        "ingest",
        "--source-dir",
        str(folder),
        "--db",
        str(db),
        "--max-file-mb",
        "0.01",
        "--report",
        str(tmp_path / "r.json"),
    )
    assert result.returncode == 3, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("  failed: broken.pdf: ") for line in lines), result.stdout
    assert any(line.startswith("  failed: big.txt: ") and "--max-file-mb" in line for line in lines), result.stdout
    assert "2 new" in result.stdout and "2 failed" in result.stdout and "1 skipped" in result.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["exit_code"] == 3
    by_source = {f["source"]: f for f in report["files"]}
    assert by_source["big.txt"]["status"] == "failed" and "MB" in by_source["big.txt"]["reason"]
    assert by_source["notes.xyz"]["status"] == "skipped"
    assert by_source["part0/note000.txt"] == {
        "source": "part0/note000.txt",
        "status": "new",
        "reason": "",
        "chunks": by_source["part0/note000.txt"]["chunks"],
        "known": False,
    }
    assert "files" in result.stderr and "chunks/s" in result.stderr  # the progress bar, on stderr

    # Raise the limit: the big file is ingested, everything else unchanged.
    again = run_cli("ingest", "--source-dir", str(folder), "--db", str(db), "--max-file-mb", "1", "--quiet")
    assert again.returncode == 3  # broken.pdf still fails
    assert "1 new, 0 changed, 2 unchanged" in again.stdout
    assert again.stderr == ""  # --quiet: no progress
    # A file that was ingested and now fails leaves no chunks behind (as a clean run would).
    (folder / "big.txt").write_bytes(b"\x00\x01binary junk\x00" * 10)
    third = run_cli("ingest", "--source-dir", str(folder), "--db", str(db), "--quiet")
    assert third.returncode == 3
    state = index_state(db)
    assert "big.txt" not in state["files"] and state["catalog"] == state["vectors"]
