"""The watcher's plain logic, fast: batching over a fake clock and fake stats, the temp-file rules,
events into paths, the status file, finding moves, the scope of a partial ingest; and the runner
over real filesystem events with a fake ingest (no model)."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import pytest
from watchdog.events import (
    DirModifiedEvent,
    FileClosedNoWriteEvent,
    FileCreatedEvent,
    FileMovedEvent,
    FileOpenedEvent,
)

from core.errors import IngestLockedError
from index.catalog import FileRecord
from ingest.moves import find_moves
from ingest.plan import Task, in_scope
from ingest.report import FileOutcome, IngestReport
from watch.batch import Batcher, split_stable
from watch.events import FolderEvents, Observing
from watch.rules import ignored, relative_in
from watch.runner import BatchLine, Watcher, WatcherRunningError, WatchOptions, take_watch_lock
from watch.status import WatchStatus, describe, read_status, write_status


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Stats:
    """A fake filesystem: path -> (size, mtime)."""

    def __init__(self) -> None:
        self.sig: dict[str, tuple[int, int] | None] = {}

    def __call__(self, path: str):
        return self.sig.get(path)


def batcher(debounce=1.0, max_wait=30.0):
    clock, stats = Clock(), Stats()
    return Batcher(debounce, max_wait, clock=clock, stat=stats), clock, stats


# -- batching -------------------------------------------------------------------------------------
def test_nothing_pending_means_no_wake_up_at_all():
    b, clock, _ = batcher()
    assert b.due_in(clock()) is None  # the runner sleeps with no timeout


def test_a_burst_is_one_batch_after_the_quiet_period():
    b, clock, stats = batcher(debounce=1.0)
    for n in range(500):  # a git checkout: 500 files over half a second
        stats.sig[f"/f/{n}.txt"] = (n, 1)
        b.add("/f", f"{n}.txt")
        clock.now += 0.001
    assert b.due_in(clock()) == pytest.approx(1.0, abs=0.01)
    assert not b.take()  # not yet: the folder is not quiet
    clock.now += 0.5
    assert not b.take()
    clock.now += 0.6
    batch = b.take()
    assert batch.paths == {"/f": {f"{n}.txt" for n in range(500)}}
    assert b.due_in(clock()) is None and b.pending() == 0


def test_each_new_event_restarts_the_quiet_period():
    b, clock, stats = batcher(debounce=1.0)
    stats.sig["/f/a.txt"] = (1, 1)
    b.add("/f", "a.txt")
    clock.now += 0.9
    b.add("/f", "a.txt")
    clock.now += 0.9
    assert not b.take()
    clock.now += 0.2
    assert b.take().paths == {"/f": {"a.txt"}}


def test_a_file_that_changed_without_an_event_is_held_back_until_stable():
    b, clock, stats = batcher(debounce=1.0)
    stats.sig["/f/big.pdf"] = (1000, 1)
    stats.sig["/f/done.txt"] = (5, 1)
    b.add("/f", "big.pdf")
    b.add("/f", "done.txt")
    clock.now += 1.5
    stats.sig["/f/big.pdf"] = (2000, 2)  # still growing (a copy over a slow link, a poll missed it)
    batch = b.take()
    assert batch.paths == {"/f": {"done.txt"}}
    assert b.pending() == 1  # kept, as if it had just changed
    clock.now += 1.1
    assert b.take().paths == {"/f": {"big.pdf"}}


def test_a_deleted_file_is_stable_once_gone():
    b, clock, stats = batcher(debounce=0.5)
    stats.sig["/f/a.txt"] = None
    b.add("/f", "a.txt")
    clock.now += 0.6
    assert b.take().paths == {"/f": {"a.txt"}}


def test_a_folder_that_never_quiets_still_gets_batches_of_its_quiet_files():
    b, clock, stats = batcher(debounce=1.0, max_wait=10.0)
    stats.sig["/f/note.txt"] = (1, 1)
    b.add("/f", "note.txt")
    for _ in range(22):  # a log written every half second, forever
        clock.now += 0.5
        stats.sig["/f/app.log"] = (int(clock.now), int(clock.now))
        b.add("/f", "app.log")
    clock.now += 0.5
    stats.sig["/f/app.log"] = (int(clock.now), int(clock.now))
    b.add("/f", "app.log")
    assert b.due_in(clock()) == 0.0
    assert b.take().paths == {"/f": {"note.txt"}}


def test_a_rescan_is_a_batch_of_its_own_kind():
    b, clock, _ = batcher(debounce=0.2)
    b.rescan("/f", "events were lost")
    clock.now += 0.3
    batch = b.take()
    assert batch.rescan == {"/f": "events were lost"} and batch.folders() == ["/f"]


def test_wait_returns_the_batch_and_none_once_stopped():
    b = Batcher(0.05)
    stop = threading.Event()
    b.add("/nowhere", "a.txt")
    assert b.wait(stop).paths == {"/nowhere": {"a.txt"}}
    threading.Timer(0.1, b.stop).start()
    started = time.monotonic()
    assert b.wait(stop) is None
    assert time.monotonic() - started < 5


def test_split_stable():
    assert split_stable({"a": (1, 1), "b": (2, 2), "c": None}, {"a": (1, 1), "b": (3, 3), "c": None}) == (
        {"a", "c"},
        {"b"},
    )


# -- which paths count ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        ".notes.txt.swp",
        "notes.txt~",
        "report.tmp",
        "movie.part",
        "setup.pdf.crdownload",
        ".DS_Store",
        "Thumbs.db",
        "~$lease.docx",
        ".~lock.sheet.ods#",
        ".git/index",
        "sub/.hidden/x.txt",
    ],
)
def test_editor_and_system_temp_files_are_ignored(name):
    assert ignored(name)


@pytest.mark.parametrize("name", ["notes.txt", "sub/lease.pdf", ".localgptignore", "a~b.txt"])
def test_documents_and_the_ignore_file_are_not(name):
    assert not ignored(name)


def test_relative_in():
    assert relative_in("/d/docs", "/d/docs/a/b.txt") == "a/b.txt"
    assert relative_in("/d/docs", "/d/docs") == ""
    assert relative_in("/d/docs", "/d/docs2/x.txt") is None
    assert relative_in("/d/docs", "/d/other.txt") is None


def test_events_become_paths_reads_do_not_count():
    b, clock, _ = batcher()
    handler = FolderEvents("/d/docs", b, skip=("/d/docs/db",))
    handler.on_any_event(FileOpenedEvent("/d/docs/a.txt"))  # the ingest reading a file
    handler.on_any_event(FileClosedNoWriteEvent("/d/docs/a.txt"))
    handler.on_any_event(DirModifiedEvent("/d/docs"))
    handler.on_any_event(FileCreatedEvent("/d/docs/db/catalog.sqlite-wal"))  # the index itself
    handler.on_any_event(FileCreatedEvent("/d/docs/.a.txt.swp"))
    assert b.pending() == 0
    handler.on_any_event(FileMovedEvent("/d/docs/a.txt.tmp", "/d/docs/a.txt"))  # an editor's save
    handler.on_any_event(FileMovedEvent("/d/docs/old.txt", "/d/docs/sub/new.txt"))  # a move: both ends
    handler.on_any_event(FileMovedEvent("/d/docs/gone.txt", "/elsewhere/gone.txt"))  # a move out
    clock.now += 2
    assert b.take().paths == {"/d/docs": {"a.txt", "old.txt", "sub/new.txt", "gone.txt"}}


def test_a_changed_ignore_file_rescans_the_folder():
    b, clock, _ = batcher()
    FolderEvents("/d/docs", b).on_any_event(FileCreatedEvent("/d/docs/.localgptignore"))
    clock.now += 2
    assert b.take().rescan == {"/d/docs": "its .localgptignore changed"}


def test_an_inotify_overflow_rescans_every_folder_and_says_so(tmp_path, caplog):
    b = Batcher(0.05)
    handlers = [FolderEvents(str(tmp_path), b)]
    observing = Observing(handlers)
    try:
        with caplog.at_level(logging.WARNING):
            # what watchdog logs when the kernel dropped events (watchdog/observers/inotify_c.py)
            logging.getLogger("watchdog.observers.inotify_c").warning(
                "Inotify queue overflowed; filesystem events were lost"
            )
        batch = b.wait(threading.Event())
        assert batch.rescan == {str(tmp_path): "the system's queue of file events overflowed (events were lost)"}
        assert "looking at the whole folder again" in caplog.text
    finally:
        observing.stop()


# -- the status file --------------------------------------------------------------------------------
def test_status_round_trip_and_a_stale_pid_is_not_running(tmp_path):
    assert read_status(tmp_path) is None
    assert "no watcher has run" in describe(None)
    status = WatchStatus(os.getpid(), time.time(), ["/d/docs"], "filesystem events", state="watching")
    status.last_sync = time.time() - 3
    write_status(tmp_path, status)
    assert (tmp_path / "watch.json").stat().st_mode & 0o077 == 0
    back = read_status(tmp_path)
    assert back.running and back.folders == ["/d/docs"]
    assert describe(back).startswith(f"running (pid {os.getpid()}, filesystem events, watching), last synced")
    dead = WatchStatus(2**22 + 12345, time.time(), [], "filesystem events", state="syncing")
    write_status(tmp_path, dead)
    assert not read_status(tmp_path).running
    assert "was killed" in describe(read_status(tmp_path))
    write_status(tmp_path, WatchStatus(os.getpid(), time.time(), [], "x", state="stopped"))
    assert not read_status(tmp_path).running and "stopped" in describe(read_status(tmp_path))


def test_a_second_watcher_gets_a_clear_error(tmp_path):
    fd = take_watch_lock(tmp_path)
    try:
        write_status(tmp_path, WatchStatus(os.getpid(), time.time(), [], "filesystem events"))
        with pytest.raises(WatcherRunningError, match=f"Another watcher \\(pid {os.getpid()}\\) keeps"):
            take_watch_lock(tmp_path)
    finally:
        os.close(fd)


def test_the_batch_line_counts_what_was_done():
    line = BatchLine(seconds=1.26)
    report = IngestReport("/d", "db")
    report.outcomes = [
        FileOutcome("a", "new"),
        FileOutcome("b", "moved"),
        FileOutcome("c", "removed"),
        FileOutcome("d", "failed", "bad"),
        FileOutcome("e", "unchanged"),
    ]
    line.add(report)
    assert line.text() == "synced: 1 added, 0 changed, 1 moved, 1 removed, 1 failed in 1.3 s"


# -- moves and scope (ingest) -----------------------------------------------------------------------
def test_a_new_file_with_a_gone_files_size_and_hash_is_a_move():
    gone = [FileRecord("old.txt", "h1", 10, 1), FileRecord("other.txt", "h2", 10, 1)]
    tasks = [
        Task("/d/new.txt", "new.txt", None, 10),
        Task("/d/copy.txt", "copy.txt", None, 10),  # same size, other content
        Task("/d/changed.txt", "changed.txt", "h9", 10),  # known: not a candidate
        Task("/d/big.txt", "big.txt", None, 99),
    ]
    hashes = {"/d/new.txt": "h1", "/d/copy.txt": "h3", "/d/changed.txt": "h2"}
    hashed = []

    def hash_of(path: Path) -> str:
        hashed.append(str(path))
        return hashes[str(path)]

    moves = find_moves(tasks, gone, hash_of, lambda p: (10, 5))
    assert [(m.old.source, m.record.source, m.record.mtime_ns) for m in moves] == [("old.txt", "new.txt", 5)]
    assert hashed == ["/d/new.txt", "/d/copy.txt"]  # only new files of a gone file's size are read


def test_each_gone_file_moves_once_and_an_unreadable_candidate_is_no_move():
    gone = [FileRecord("a.txt", "h", 3, 1)]
    tasks = [Task("/d/b.txt", "b.txt", None, 3), Task("/d/c.txt", "c.txt", None, 3)]
    assert [m.record.source for m in find_moves(tasks, gone, lambda p: "h", lambda p: (3, 1))] == ["b.txt"]

    def unreadable(path):
        raise PermissionError("no")

    assert find_moves(tasks, gone, unreadable, lambda p: (3, 1)) == []


def test_in_scope():
    assert in_scope("a/b/c.txt", None)
    assert in_scope("a/b/c.txt", {"a/b"}) and in_scope("a/b/c.txt", {"a/b/c.txt"})
    assert not in_scope("a/bc/d.txt", {"a/b"}) and not in_scope("x.txt", {"a"})
    assert in_scope("anything", {""})


# -- the runner, on real events, with a fake ingest --------------------------------------------------
class FakeIngest:
    def __init__(self, busy: int = 0):
        self.calls: list[tuple[str, tuple]] = []
        self.busy = busy
        self.done = threading.Event()

    def __call__(self, settings, exclude=(), only=None, embedders=None):
        if self.busy:
            self.busy -= 1
            raise IngestLockedError("Another ingest is writing")
        self.calls.append((str(settings.source_dir), tuple(only)))
        report = IngestReport(str(settings.source_dir), str(settings.db))
        report.outcomes = [
            FileOutcome(p, "failed", "not a PDF") if p.endswith(".pdf") else FileOutcome(p, "new")
            for p in only
            if p  # the first pass, over an empty folder: nothing
        ]
        if len(self.calls) >= 2:
            self.done.set()
        return report


def run_watcher(tmp_path, ingest, change, debounce=0.2, poll=0.0):
    from core.settings import load_settings

    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    said: list[str] = []
    settings = load_settings({"db": tmp_path / "db"}, environ={})
    options = WatchOptions((str(docs),), debounce=debounce, poll=poll)
    watcher = Watcher(settings, options, say=said.append, ingest=ingest)
    thread = threading.Thread(target=watcher.run)
    thread.start()
    try:
        assert watcher.synced.wait(30)
        change(docs)
        assert ingest.done.wait(30), said
    finally:
        watcher.stop()
        thread.join(30)
    assert not thread.is_alive()
    return docs, said


def test_the_runner_starts_with_the_whole_folder_then_ingests_what_events_name(tmp_path):
    ingest = FakeIngest()

    def change(docs):
        (docs / "a.txt").write_text("x")
        (docs / "b.txt").write_text("y")
        (docs / ".b.txt.swp").write_text("z")

    docs, said = run_watcher(tmp_path, ingest, change)
    assert ingest.calls[0] == (str(docs), ("",))  # the first pass: the whole folder
    assert ingest.calls[1] == (str(docs), ("a.txt", "b.txt"))  # one batch, the temp file left out
    assert said[0] == f"watching {docs} (filesystem events)"
    assert said[1].startswith("synced: 2 added, 0 changed, 0 moved, 0 removed, 0 failed in ")
    status = read_status(tmp_path / "db")
    assert status.state == "stopped" and not status.running and status.last_batch["added"] == 2


def test_the_runner_waits_for_another_ingest_and_tells_a_failure_once(tmp_path, monkeypatch):
    import watch.runner

    monkeypatch.setattr(watch.runner, "BUSY_RETRY_S", 0.05)
    ingest = FakeIngest(busy=2)

    def change(docs):
        (docs / "bad.pdf").write_text("not a pdf")

    docs, said = run_watcher(tmp_path, ingest, change)
    assert said[0] == f"{docs}: another ingest is writing to {tmp_path / 'db'}; waiting for it"
    assert said.count("cannot read bad.pdf: not a PDF") == 1


def test_with_poll_the_folder_is_looked_at_every_so_often_instead(tmp_path):
    ingest = FakeIngest()

    def change(docs):
        (docs / "sub").mkdir()
        (docs / "sub" / "a.txt").write_text("x")

    docs, said = run_watcher(tmp_path, ingest, change, debounce=0.1, poll=0.1)
    assert said[0] == f"watching {docs} (polling every 0.1 s)"
    assert "sub/a.txt" in ingest.calls[1][1]


def test_the_serve_watch_child_ends_when_the_server_is_killed(tmp_path):
    """`end_with`: the watcher of serve --watch gets SIGTERM when its parent dies, even by SIGKILL."""
    import signal
    import subprocess
    import sys

    from conftest import REPO

    child = (
        "import os, signal, sys, time; sys.path.insert(0, sys.argv[1]); from watch.child import end_with; "
        # Written aside, then renamed: the test must not read the file between its creation and its write.
        "signal.signal(signal.SIGTERM, lambda *a: (open(sys.argv[2] + '.part', 'w').write('stopped'), "
        "os.replace(sys.argv[2] + '.part', sys.argv[2]), sys.exit(0))); "
        "end_with(os.getppid()); open(sys.argv[3], 'w').write('up'); time.sleep(60)"
    )
    parent = (
        "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', sys.argv[1], *sys.argv[2:]]); "
        "time.sleep(60)"
    )
    stopped, up = tmp_path / "stopped", tmp_path / "up"
    server = subprocess.Popen([sys.executable, "-c", parent, child, str(REPO), str(stopped), str(up)])
    try:
        deadline = time.monotonic() + 30
        while not up.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert up.exists()
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        while not stopped.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert stopped.read_text() == "stopped"
    finally:
        if server.poll() is None:
            server.kill()


def test_several_folders_each_get_their_own_paths(tmp_path):
    from core.settings import load_settings

    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    ingest = FakeIngest()
    settings = load_settings({"db": tmp_path / "db"}, environ={})
    watcher = Watcher(settings, WatchOptions((str(one), str(two)), debounce=0.2), say=lambda line: None, ingest=ingest)
    thread = threading.Thread(target=watcher.run)
    thread.start()
    try:
        assert watcher.synced.wait(30)
        assert sorted(ingest.calls) == [(str(one), ("",)), (str(two), ("",))]
        (one / "a.txt").write_text("x")
        (two / "b.txt").write_text("y")
        deadline = time.monotonic() + 30
        while len(ingest.calls) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        watcher.stop()
        thread.join(30)
    assert sorted(ingest.calls[2:]) == [(str(one), ("a.txt",)), (str(two), ("b.txt",))]


def test_a_pruned_walk_finds_what_the_full_walk_finds_under_the_paths(tmp_path):
    from ingest.walk import find_documents

    docs, outside = tmp_path / "docs", tmp_path / "outside"
    for rel in ["a.txt", "sub/b.txt", "sub/deeper/c.txt", "subway/d.txt", ".git/e.txt", "sub/.hidden/f.txt"]:
        (docs / rel).parent.mkdir(parents=True, exist_ok=True)
        (docs / rel).write_text(rel)
    outside.mkdir()
    (outside / "o.txt").write_text("o")
    (docs / "sub" / "out.txt").symlink_to(outside / "o.txt")  # leaves the folder: skipped
    (docs / "sub" / "in.txt").symlink_to(docs / "a.txt")  # inside: followed
    (docs / "sub" / "broken.txt").symlink_to(docs / "gone.txt")
    full = find_documents(docs)
    for only in (["sub"], ["sub/deeper/c.txt", "a.txt"], ["sub/out.txt"], ["nothing/here.txt"], ["sub/", "subway"]):
        scope = {p.strip("/") for p in only}
        expected = [f for f in full if in_scope(f.source, scope)]
        assert find_documents(docs, only=only) == expected, only
    assert find_documents(docs, only=[""]) == full
    assert any(f.skipped for f in find_documents(docs, only=["sub/out.txt"]))


def test_a_file_written_forever_wakes_the_runner_only_when_it_might_be_quiet():
    b, clock, stats = batcher(debounce=1.0, max_wait=2.0)
    for _ in range(10):
        clock.now += 0.5
        stats.sig["/f/app.log"] = (int(clock.now * 10), 1)
        b.add("/f", "app.log")
    # overdue, nothing quiet: the next look is when app.log could first be quiet, not a busy loop
    assert b.due_in(clock()) == pytest.approx(1.0, abs=0.01)
    assert not b.take()


def test_a_file_written_and_not_closed_waits_for_its_close():
    b, clock, stats = batcher(debounce=1.0)
    b.open_wait = 60.0
    stats.sig["/f/copy.iso"] = (100, 1)
    stats.sig["/f/note.txt"] = (5, 1)
    b.add("/f", "copy.iso", writing=True)  # a copy that pauses longer than the quiet period
    b.add("/f", "note.txt", writing=False)
    clock.now += 5
    assert b.take().paths == {"/f": {"note.txt"}}
    assert b.due_in(clock()) == pytest.approx(55.0, abs=0.01)  # no wake-up before it might be due
    stats.sig["/f/copy.iso"] = (200, 2)
    b.add("/f", "copy.iso", writing=True)
    b.add("/f", "copy.iso")  # another kind of change (an attribute): still being written
    clock.now += 5
    assert not b.take()
    b.add("/f", "copy.iso", writing=False)  # closed: done
    clock.now += 1.1
    assert b.take().paths == {"/f": {"copy.iso"}}


def test_a_file_kept_open_for_writing_is_taken_after_open_wait():
    b, clock, stats = batcher(debounce=1.0)
    b.open_wait = 60.0
    stats.sig["/f/app.log"] = (1, 1)
    b.add("/f", "app.log", writing=True)
    clock.now += 59
    assert not b.take()
    clock.now += 1.1
    assert b.take().paths == {"/f": {"app.log"}}


def test_writes_and_closes_count_only_where_the_system_reports_closes():
    from watchdog.events import FileClosedEvent, FileModifiedEvent

    b, clock, _ = batcher(debounce=1.0)
    b.open_wait = 60.0
    inotify, polling = FolderEvents("/d", b, closes=True), FolderEvents("/e", b, closes=False)
    inotify.on_any_event(FileModifiedEvent("/d/a.txt"))
    polling.on_any_event(FileModifiedEvent("/e/a.txt"))
    clock.now += 2
    assert b.take().paths == {"/e": {"a.txt"}}  # with polling, a write is just a change
    inotify.on_any_event(FileClosedEvent("/d/a.txt"))
    clock.now += 2
    assert b.take().paths == {"/d": {"a.txt"}}


def test_an_ingest_that_meets_a_watchers_batch_is_told_so(tmp_path):
    from click.testing import CliRunner

    from core.locks import release_lock, take_lock
    from localgpt import cli

    docs, db = tmp_path / "docs", tmp_path / "db"
    docs.mkdir()
    (docs / "a.txt").write_text("hello")
    db.mkdir()
    lock = take_lock(db / ".ingest.lock", lambda: AssertionError("taken"))  # the batch's ingest lock
    try:
        write_status(db, WatchStatus(os.getpid(), time.time(), [str(docs)], "filesystem events", state="syncing"))
        result = CliRunner().invoke(cli, ["ingest", "--source-dir", str(docs), "--db", str(db), "--quiet"])
    finally:
        release_lock(lock)
    assert result.exit_code == 1
    assert f"Error: Another ingest is writing to {db} right now." in result.output
    assert f"It is `localgpt watch` (pid {os.getpid()}), which keeps this index in sync with {docs}" in result.output


def test_serve_watch_starts_the_watcher_beside_the_server_and_stops_it_after(monkeypatch):
    import types

    import uvicorn

    import watch.child
    from core.settings import load_settings
    from server.run import Plan, run

    events = []
    settings = load_settings({"db": "somewhere"}, environ={})
    monkeypatch.setattr(watch.child, "spawn_watcher", lambda s: events.append(("spawn", s.db)) or "child")
    monkeypatch.setattr(watch.child, "stop_watcher", lambda p: events.append(("stop", p)))
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: events.append(("serve", app)))
    engine = types.SimpleNamespace(settings=settings, close=lambda: events.append(("close", None)))
    run("app", engine, Plan("127.0.0.1", 0, None, False), watch=True)
    assert events == [("spawn", settings.db), ("serve", "app"), ("stop", "child"), ("close", None)]
    events.clear()
    run("app", engine, Plan("127.0.0.1", 0, None, False))
    assert events == [("serve", "app"), ("close", None)]


def test_the_watcher_child_gets_the_servers_settings():
    from core.settings import env_var, load_settings
    from watch.child import PASSED, _as_env

    settings = load_settings({"db": "/x/db", "follow_external_links": True, "watch_debounce": 2.5}, environ={})
    back = load_settings(environ={env_var(name): _as_env(getattr(settings, name)) for name in PASSED})
    assert all(getattr(back, name) == getattr(settings, name) for name in PASSED)
    assert back.follow_external_links is True and back.watch_debounce == 2.5 and back.db == Path("/x/db")


def test_a_folder_the_first_pass_cannot_ingest_stops_the_watcher_with_the_reason(tmp_path):
    from core.errors import SourceError
    from core.settings import load_settings

    def refuse(settings, **kwargs):
        raise SourceError(f"{settings.source_dir} is inside /d, which this index already holds.")

    docs = tmp_path / "docs"
    docs.mkdir()
    watcher = Watcher(load_settings({"db": tmp_path / "db"}, environ={}), WatchOptions((str(docs),)), ingest=refuse)
    with pytest.raises(SourceError, match="which this index already holds"):
        watcher.run()
    assert read_status(tmp_path / "db").state == "stopped"
    os.close(take_watch_lock(tmp_path / "db"))  # the lock was released
