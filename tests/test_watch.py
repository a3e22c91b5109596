"""`localgpt watch` and `serve --watch` on real filesystem events, with the real embedder.

One watcher serves the whole module: a real server (in this process, on loopback) with its
watcher child (`serve --watch`, watch/child.py), over a folder the scenarios change one after
the other. Each scenario waits for the index to show what it did (catalog and search), with a
generous deadline, never a fixed sleep; negative checks ("the temp file never got in") are made
once a later sentinel file is in, so they cannot pass by looking too early.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from conftest import REPO, localgpt_cmd
from live_server import live_server
from test_ingest_incremental import index_state, prose

pytestmark = pytest.mark.slow  # real events, the real embedder, a real server

DEADLINE_S = 120.0
DEBOUNCE = "1.0"


def files_of(db: Path) -> dict[str, tuple[str, int]]:
    """source -> (content hash, size), as the catalog holds them now."""
    try:
        with sqlite3.connect(f"file:{db / 'catalog.sqlite'}?mode=ro", uri=True, timeout=5) as sql:
            return {s: (h, n) for s, h, n in sql.execute("SELECT source, content_hash, size FROM files")}
    except sqlite3.Error:
        return {}


def chunk_ids_of(db: Path, source: str) -> list[str]:
    with sqlite3.connect(f"file:{db / 'catalog.sqlite'}?mode=ro", uri=True, timeout=5) as sql:
        return [r[0] for r in sql.execute("SELECT id FROM chunks WHERE source = ? ORDER BY chunk_index", (source,))]


class Watched:
    """The watched folder, its index, the watcher's log, the server."""

    def __init__(self, docs: Path, outside: Path, db: Path, log: Path, client: httpx.Client, child: subprocess.Popen):
        self.docs, self.outside, self.db, self.log, self.client, self.child = docs, outside, db, log, client, child

    def lines(self) -> list[str]:
        return self.log.read_text(encoding="utf-8", errors="replace").splitlines()

    def batches_since(self, mark: int) -> list[dict[str, int]]:
        out = []
        for line in self.lines()[mark:]:
            if " synced: " in line:
                out.append({k: int(n) for n, k in re.findall(r"(\d+) (added|changed|moved|removed|failed)", line)})
        return out

    def wait(self, what: str, check) -> None:
        """Until `check()` holds and the batch that made it so has ended (its log line written):
        the watcher is "syncing" from before a batch writes until after its line, so once the change
        is seen, the state back at "watching" means that batch is done."""
        from watch.status import read_status

        deadline = time.monotonic() + DEADLINE_S
        seen = False
        while time.monotonic() < deadline:
            seen = seen or check()
            if seen and read_status(self.db).state == "watching":
                return
            assert self.child.poll() is None, f"the watcher ended (rc {self.child.returncode}):\n" + "\n".join(
                self.lines()[-20:]
            )
            time.sleep(0.1)
        raise AssertionError(
            f"not within {DEADLINE_S:.0f} s: {what}; files {sorted(files_of(self.db))}\n"
            + "\n".join(self.lines()[-20:])
        )

    def wait_batches(self, mark: int, check) -> dict[str, int]:
        """Once the batches since `mark` pass `check` (after the index showed the change): their sums."""
        total: dict[str, int] = {}

        def summed() -> bool:
            total.clear()
            for batch in self.batches_since(mark):
                for k, n in batch.items():
                    total[k] = total.get(k, 0) + n
            return check(total)

        self.wait("the watcher's log line", summed)
        return dict(total)

    def sentinel(self, name: str) -> None:
        """A new file, waited for: every change made before it has been seen by then."""
        (self.docs / name).write_text(prose(sum(map(ord, name))), encoding="utf-8")
        self.wait(f"{name} in the index", lambda: name in files_of(self.db))

    def search(self, query: str, mode: str = "bm25") -> list[str]:
        hits = self.client.post("/api/search", json={"query": query, "k": 3, "mode": mode}).json()
        return [h["source"] for h in hits]


@pytest.fixture(scope="module")
def watched(tmp_path_factory):
    from core.settings import load_settings
    from ingest.pipeline import run_ingest
    from server.app import build_app
    from server.engine import Engine
    from server.run import Plan, allowed_hosts
    from watch.child import spawn_watcher, stop_watcher

    base = tmp_path_factory.mktemp("watch")
    docs, db, outside = base / "docs", base / "db", base / "outside"
    docs.mkdir()
    outside.mkdir()
    (docs / ".localgptignore").write_text("drafts/\n", encoding="utf-8")
    (docs / "seed.txt").write_text("The kettle is descaled with citric acid every month.\n", encoding="utf-8")
    env = {"LOCALGPT_THREADS": "2", "LOCALGPT_WORKERS": "1", "LOCALGPT_WATCH_DEBOUNCE": DEBOUNCE}
    settings = load_settings({"db": db, "source_dir": docs, "answer_style": "quote"}, environ=env)
    assert run_ingest(settings).exit_code == 0
    engine = Engine(settings)
    engine.load()
    log = base / "watch.log"
    with open(log, "w") as stderr:
        child = spawn_watcher(settings, stderr=stderr)
    try:
        with live_server(build_app(engine, None, allowed_hosts(Plan("127.0.0.1", 0, None, False)))) as live:
            with httpx.Client(base_url=live.url, timeout=300) as client:
                w = Watched(docs, outside, db, log, client, child)
                w.wait("the watcher's first pass", lambda: any("watching" in line for line in w.lines()))
                yield w
    finally:
        stop_watcher(child)
        engine.close()


def test_health_and_doctor_say_a_watcher_runs(watched):
    health = watched.client.get("/api/health").json()["watcher"]
    assert health["running"] and health["pid"] == watched.child.pid and health["mode"] == "filesystem events"
    assert health["last_sync"] and time.time() - health["last_sync"] < DEADLINE_S
    from doctor.index_check import index_facts

    facts, problems = index_facts(watched.db, None, None)
    assert facts["watcher"].startswith(f"running (pid {watched.child.pid}, filesystem events")
    assert not [p for p in problems if p.code == "watcher-killed"]


def test_a_second_watcher_of_the_same_index_is_refused(watched):
    done = subprocess.run(
        localgpt_cmd("watch", "--db", str(watched.db), "--source-dir", str(watched.docs)),
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 1
    assert f"Another watcher (pid {watched.child.pid}) keeps {watched.db} in sync already" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_watch_answers_from_a_file_saved_after_the_server_started(watched):
    mark = len(watched.lines())
    (watched.docs / "zebra.txt").write_text(
        "The zebra enclosure gate code is 4417. Visitors must sign in at the zebra house first.\n", encoding="utf-8"
    )
    watched.wait("zebra.txt found by search", lambda: "zebra.txt" in watched.search("zebra enclosure gate code"))
    assert watched.wait_batches(mark, lambda t: t.get("added", 0) >= 1)["added"] == 1
    assert "zebra.txt" in watched.search("zebra enclosure gate code", mode="hybrid")
    record = watched.client.post("/api/ask", json={"query": "What is the zebra enclosure gate code?"}).json()
    assert any(s["source"] == "zebra.txt" for s in record["sources"]), record
    assert "4417" in json.dumps(record["evidence"])


def test_modify_then_delete(watched):
    path = watched.docs / "memo.txt"
    path.write_text("The budget meeting is on Monday.\n", encoding="utf-8")
    watched.wait("memo.txt in", lambda: "memo.txt" in files_of(watched.db))
    first = files_of(watched.db)["memo.txt"]
    path.write_text("The budget meeting moved to Thursday afternoon.\n", encoding="utf-8")
    watched.wait("memo.txt changed", lambda: files_of(watched.db).get("memo.txt", first) != first)
    watched.wait("the change searchable", lambda: "memo.txt" in watched.search("thursday afternoon"))
    path.unlink()
    watched.wait("memo.txt removed", lambda: "memo.txt" not in files_of(watched.db))
    assert "memo.txt" not in watched.search("thursday afternoon")


def test_rename_and_directory_rename_keep_the_chunks(watched):
    (watched.docs / "notes").mkdir()
    for n in range(3):
        (watched.docs / "notes" / f"n{n}.txt").write_text(prose(300 + n), encoding="utf-8")
    watched.wait("notes/ in", lambda: sum(s.startswith("notes/") for s in files_of(watched.db)) == 3)
    before = files_of(watched.db)

    mark = len(watched.lines())
    os.rename(watched.docs / "notes" / "n0.txt", watched.docs / "notes" / "first.txt")
    watched.wait("the rename", lambda: "notes/first.txt" in files_of(watched.db))
    assert "notes/n0.txt" not in files_of(watched.db)
    assert files_of(watched.db)["notes/first.txt"] == before["notes/n0.txt"]
    totals = watched.wait_batches(mark, lambda t: t.get("moved", 0) >= 1)
    assert totals == {"added": 0, "changed": 0, "moved": 1, "removed": 0, "failed": 0}

    from index import open_index

    with open_index(watched.db) as index:
        before_ids = chunk_ids_of(watched.db, "notes/n1.txt")
        before_vectors = index.vectors_of(before_ids)
    mark = len(watched.lines())
    os.rename(watched.docs / "notes", watched.docs / "kept")
    want = {"kept/first.txt", "kept/n1.txt", "kept/n2.txt"}
    watched.wait("the folder rename", lambda: want <= set(files_of(watched.db)))
    assert not any(s.startswith("notes/") for s in files_of(watched.db))
    totals = watched.wait_batches(mark, lambda t: t.get("moved", 0) >= 3)
    assert totals == {"added": 0, "changed": 0, "moved": 3, "removed": 0, "failed": 0}  # nothing embedded again
    with open_index(watched.db) as index:  # the vectors moved with the chunks, under their new ids
        ids = chunk_ids_of(watched.db, "kept/n1.txt")
        after = index.vectors_of(ids)
        assert len(ids) == len(before_ids) and set(after) == set(ids) and not set(ids) & set(before_ids)
        for old_id, new_id in zip(before_ids, ids):  # each chunk's vector carried to its new id
            assert np.allclose(after[new_id], before_vectors[old_id], atol=1e-5)
        assert not index.vectors_of(before_ids)  # the old ids are gone from the store


def test_move_out_is_a_removal_and_move_in_an_addition(watched):
    (watched.docs / "travel.txt").write_text("Travel expenses are refunded within a week.\n", encoding="utf-8")
    watched.wait("travel.txt in", lambda: "travel.txt" in files_of(watched.db))
    shutil.move(watched.docs / "travel.txt", watched.outside / "travel.txt")
    watched.wait("moved out: removed", lambda: "travel.txt" not in files_of(watched.db))
    shutil.move(watched.outside / "travel.txt", watched.docs / "back.txt")
    watched.wait("moved in: added", lambda: "back.txt" in files_of(watched.db))


def test_an_editor_save_through_a_temp_file_is_one_change(watched):
    target = watched.docs / "policy.md"
    target.write_text("# Policy\n\nDesks are cleared every Friday.\n", encoding="utf-8")
    watched.wait("policy.md in", lambda: "policy.md" in files_of(watched.db))
    first = files_of(watched.db)["policy.md"]
    mark = len(watched.lines())
    for temp in (watched.docs / ".policy.md.swp", watched.docs / "policy.md~", watched.docs / "policy.md.tmp"):
        temp.write_text("# Policy\n\nhalf written", encoding="utf-8")
    (watched.docs / ".policy.md.swp").unlink()
    (watched.docs / "policy.md~").unlink()
    (watched.docs / "policy.md.tmp").write_text("# Policy\n\nDesks are cleared every Thursday.\n", encoding="utf-8")
    os.replace(watched.docs / "policy.md.tmp", target)  # the editor's rename over the file
    watched.wait("policy.md changed", lambda: files_of(watched.db).get("policy.md", first) != first)
    totals = watched.wait_batches(mark, lambda t: t.get("changed", 0) >= 1)
    assert totals == {"added": 0, "changed": 1, "moved": 0, "removed": 0, "failed": 0}
    watched.sentinel("after-editor.txt")
    assert not [s for s in files_of(watched.db) if s.endswith(("~", ".swp", ".tmp"))]


def test_a_slow_writer_is_read_once_whole(watched):
    path = watched.docs / "growing.txt"
    mark = len(watched.lines())
    parts = [f"Line {n}: the quarterly audit found item {n} in order.\n" for n in range(20)]
    with open(path, "w", encoding="utf-8") as handle:
        for n, part in enumerate(parts):  # about 3.5 s, with a pause longer than the quiet period
            handle.write(part)
            handle.flush()
            time.sleep(float(DEBOUNCE) * 1.5 if n == 10 else 0.1)
    size = path.stat().st_size
    watched.wait("growing.txt whole", lambda: files_of(watched.db).get("growing.txt", ("", 0))[1] == size)
    totals = watched.wait_batches(mark, lambda t: t.get("added", 0) >= 1)
    assert totals.get("changed", 0) == 0, "the file was read before it was whole, then again"


def test_a_burst_of_300_files_is_a_few_batches(watched):
    mark = len(watched.lines())
    burst = watched.docs / "burst"
    burst.mkdir()
    for n in range(300):
        (burst / f"f{n:03d}.txt").write_text(f"Burst file {n} about invoice number {1000 + n}.\n", encoding="utf-8")
    watched.wait("300 files in", lambda: sum(s.startswith("burst/") for s in files_of(watched.db)) == 300)
    batches = [b for b in watched.batches_since(mark) if any(b.values())]
    assert sum(b.get("added", 0) for b in batches) == 300
    assert len(batches) <= 5, batches  # debounced: not one ingest per file


def test_excluded_files_temp_files_and_links_leaving_the_folder_stay_out(watched):
    (watched.docs / "drafts").mkdir()
    (watched.docs / "drafts" / "secret.txt").write_text("Draft salary figures.\n", encoding="utf-8")  # .localgptignore
    (watched.outside / "private.txt").write_text("A private file outside the folder.\n", encoding="utf-8")
    (watched.docs / "link.txt").symlink_to(watched.outside / "private.txt")
    (watched.docs / "download.pdf.crdownload").write_bytes(b"%PDF-1.4 partial")
    (watched.docs / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    watched.sentinel("after-excluded.txt")
    held = files_of(watched.db)
    assert "drafts/secret.txt" not in held and "link.txt" not in held
    assert not [s for s in held if "crdownload" in s or "DS_Store" in s]


def test_unreadable_file_is_told_once_and_read_when_it_changes(watched):
    bad = watched.docs / "broken.pdf"
    mark = len(watched.lines())
    bad.write_bytes(b"this is not a pdf at all")
    watched.wait("the failure told", lambda: any("cannot read broken.pdf" in line for line in watched.lines()[mark:]))
    os.utime(bad)  # an event, the same content: not told again
    watched.sentinel("after-broken.txt")
    assert sum("cannot read broken.pdf" in line for line in watched.lines()[mark:]) == 1
    shutil.copy(REPO / "source_documents" / "lease_agreement.pdf", bad)
    watched.wait("broken.pdf read once fixed", lambda: "broken.pdf" in files_of(watched.db))


def test_kill_9_during_a_batch_then_a_restart_equals_a_clean_ingest(tmp_path):
    """Its own watcher: killed by the test hook in the middle of a batch's write, then started again."""
    docs, db = tmp_path / "docs", tmp_path / "db"
    docs.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALGPT_")}
    env.update(LOCALGPT_WATCH_DEBOUNCE="0.5", LOCALGPT_WORKERS="1", LOCALGPT_EMBED_BATCH_SIZE="4")
    log = tmp_path / "watch.log"

    def start(extra: dict) -> subprocess.Popen:
        with open(log, "a") as stderr:
            return subprocess.Popen(
                localgpt_cmd("watch", "--source-dir", str(docs), "--db", str(db)),
                cwd=REPO,
                env={**env, **extra},
                stderr=stderr,
                stdout=subprocess.DEVNULL,
            )

    def watching(times: int) -> bool:
        return log.exists() and log.read_text().count(" watching ") >= times

    first = start({"LOCALGPT_TEST_KILL_AT": "vectors:1"})  # the first write of the first batch
    try:
        deadline = time.monotonic() + DEADLINE_S
        while not watching(1) and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.1)
        assert watching(1), log.read_text()
        for n in range(6):
            (docs / f"note{n}.txt").write_text(prose(400 + n), encoding="utf-8")
        assert first.wait(DEADLINE_S) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
    from watch.status import read_status

    assert not read_status(db).running  # the killed watcher's status is stale, not "running"
    second = start({})
    try:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline and not (watching(2) and len(files_of(db)) == 6):
            assert second.poll() is None, log.read_text()
            time.sleep(0.1)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0, log.read_text()
    clean = subprocess.run(
        localgpt_cmd("ingest", "--source-dir", str(docs), "--db", str(tmp_path / "clean"), "--quiet"),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert clean.returncode == 0, clean.stderr
    assert index_state(db) == index_state(tmp_path / "clean")
    assert read_status(db).state == "stopped"
