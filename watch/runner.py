"""The watcher: one full incremental pass, then the changes events name, batch by batch, each
through the ordinary ingest (`run_ingest(..., only=paths)`), until stopped.

Single writer: a watcher holds db/.watch.lock while it runs, so a second watcher on the same
index stops at once with a clear error. Each batch takes the ingest lock as any ingest does;
when a `localgpt ingest` holds it, the batch waits for it (and that ingest, started while a batch
runs, gets the ingest lock's own error). Crash-safety is the ingest's: a watcher killed mid-batch
leaves what a killed ingest leaves, and its restart's full pass repairs and catches up.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from core.errors import IngestLockedError, LocalGPTError, SourceError
from core.locks import release_lock, take_lock
from core.settings import Settings
from index.permissions import make_private
from ingest.report import IngestReport
from watch.batch import Batch, Batcher
from watch.events import FolderEvents, Observing, folder_of
from watch.status import LOCK_FILE, WatchStatus, read_status, write_status

log = logging.getLogger(__name__)

BUSY_RETRY_S = 1.0  # while another ingest holds the index, a batch looks again this often


class WatcherRunningError(LocalGPTError):
    """Another watcher keeps this index in sync already."""


@dataclass(frozen=True)
class WatchOptions:
    folders: tuple[str, ...]  # resolved paths
    exclude: tuple[str, ...] = ()
    debounce: float = 1.0
    poll: float = 0.0  # 0: filesystem events
    max_wait: float = 30.0


@dataclass
class BatchLine:
    """What one batch did, for its log line."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    rescans: list[str] = field(default_factory=list)

    def add(self, report: IngestReport) -> None:
        for outcome in report.outcomes:
            key = {"new": "added"}.get(outcome.status, outcome.status)
            self.counts[key] = self.counts.get(key, 0) + 1

    def text(self) -> str:
        parts = [f"{self.counts.get(k, 0)} {k}" for k in ("added", "changed", "moved", "removed", "failed")]
        why = f" (rescan: {'; '.join(self.rescans)})" if self.rescans else ""
        return f"synced: {', '.join(parts)} in {self.seconds:.1f} s{why}"

    def to_json(self) -> dict:
        return {
            **{k: self.counts.get(k, 0) for k in ("added", "changed", "moved", "removed", "failed")},
            "seconds": round(self.seconds, 3),
        }


def take_watch_lock(db: Path) -> int:
    def busy() -> WatcherRunningError:
        status = read_status(db)
        who = f" (pid {status.pid})" if status and status.running else ""
        return WatcherRunningError(
            f"Another watcher{who} keeps {db} in sync already. Stop it first, or watch into another --db folder."
        )

    db = Path(db)
    db.mkdir(parents=True, exist_ok=True)
    make_private(db)
    return take_lock(db / LOCK_FILE, busy)


class Watcher:
    """`run()` blocks until `stop()` (from another thread or a signal handler)."""

    def __init__(
        self,
        settings: Settings,
        options: WatchOptions,
        say: Callable[[str], None] | None = None,
        ingest: Callable[..., IngestReport] | None = None,
    ):
        self.settings = settings
        self.options = options
        self.say = say or log.warning
        self._ingest_fn = ingest
        self.batcher = Batcher(options.debounce, options.max_wait)
        self._stop = threading.Event()
        self.synced = threading.Event()  # set after the first full pass
        self._reported: dict[str, str] = {}  # source -> the failure already told
        self._embedders: dict = {}  # the model, loaded by the first batch that embeds, kept for the next
        self.batches = 0
        self.status: WatchStatus | None = None

    def stop(self) -> None:
        self._stop.set()
        self.batcher.stop()

    def run(self) -> None:
        db = Path(self.settings.db)
        lock = take_watch_lock(db)
        observing = None
        try:
            skip = (folder_of(db),)
            handlers = [FolderEvents(f, self.batcher, skip) for f in self.options.folders]
            observing = Observing(handlers, self.options.poll)  # before the first pass: nothing is missed
            self.status = WatchStatus(os.getpid(), time.time(), list(self.options.folders), observing.mode)
            write_status(db, self.status)
            first = Batch(rescan={f: "start" for f in self.options.folders})
            self._run_batch(first, first_pass=True)
            self.synced.set()
            self.say(f"watching {', '.join(self.options.folders)} ({observing.mode})")
            while True:
                batch = self.batcher.wait(self._stop)
                if batch is None:
                    break
                self._run_batch(batch)
        finally:
            if observing is not None:
                observing.stop()
            if self.status is not None:
                self.status.state = "stopped"
                write_status(db, self.status)
            release_lock(lock)

    # -- one batch ----------------------------------------------------------------
    def _run_batch(self, batch: Batch, first_pass: bool = False) -> None:
        started = time.perf_counter()
        line = BatchLine(rescans=[] if first_pass else [f"{f}: {why}" for f, why in batch.rescan.items()])
        self._set_state("syncing")
        for folder in batch.folders():
            # the whole folder: [""] (None would refuse an empty folder, which a watcher waits on)
            only = [""] if folder in batch.rescan else sorted(batch.paths.get(folder, ()))
            report = self._ingest(folder, only, first_pass)
            if report is not None:
                line.add(report)
                self._tell_failures(report)
        line.seconds = time.perf_counter() - started
        self.batches += 1
        if not first_pass or any(line.counts.get(k) for k in ("added", "changed", "moved", "removed", "failed")):
            self.say(line.text())
        if self.status is not None:
            self.status.last_sync = time.time()
            self.status.last_batch = line.to_json()
        self._set_state("watching")

    def _set_state(self, state: str) -> None:
        if self.status is not None:
            self.status.state = state
            write_status(Path(self.settings.db), self.status)

    def _ingest(self, folder: str, only: Sequence[str], first_pass: bool = False) -> IngestReport | None:
        """One folder's part of a batch. A folder the first pass cannot ingest (inside another
        folder of the index, a bad .localgptignore) stops the watcher with the reason; later, a
        batch that meets such an error says so and the watcher goes on (the next change retries)."""
        from ingest.pipeline import run_ingest

        ingest = self._ingest_fn or run_ingest
        settings = self.settings.replace(source_dir=Path(folder))
        told_busy = False
        while True:
            try:
                return ingest(settings, exclude=self.options.exclude, only=only, embedders=self._embedders)
            except IngestLockedError:
                if not told_busy:
                    self.say(f"{folder}: another ingest is writing to {self.settings.db}; waiting for it")
                    told_busy = True
                if self._stop.wait(BUSY_RETRY_S):
                    return None
            except SourceError as exc:
                if first_pass:
                    raise
                self.say(f"{folder}: {exc}")
                return None

    def _tell_failures(self, report: IngestReport) -> None:
        """Each unreadable file once, with its reason; again only when that changes, or after it was read."""
        for outcome in report.outcomes:
            if outcome.status == "failed":
                if self._reported.get(outcome.source) != outcome.reason:
                    self._reported[outcome.source] = outcome.reason
                    self.say(f"cannot read {outcome.source}: {outcome.reason}")
            else:
                self._reported.pop(outcome.source, None)


def folders_to_watch(settings: Settings, given: Sequence[str]) -> tuple[str, ...]:
    """The folders asked for; none: those the index holds, else the source_dir setting."""
    if given:
        return tuple(dict.fromkeys(folder_of(f) for f in given))
    from index.store import index_exists
    from index import open_index

    if index_exists(Path(settings.db)):
        with open_index(Path(settings.db), chroma_url=settings.chroma_url) as index:
            roots = [r.path for r in index.catalog.roots()]
        if roots:
            return tuple(roots)
    return (folder_of(settings.source_dir),)


def run_watch(
    settings: Settings, given: Sequence[str], exclude: Sequence[str] = (), say: Callable[[str], None] | None = None
) -> None:
    """`localgpt watch`: until SIGINT or SIGTERM."""
    import signal

    folders = folders_to_watch(settings, given)
    for folder in folders:
        if not Path(folder).is_dir():
            raise SourceError(f"Folder {folder} does not exist. Pass --source-dir with a folder of documents.")
    options = WatchOptions(folders, tuple(exclude), settings.watch_debounce, settings.watch_poll)
    watcher = Watcher(settings, options, say)

    def on_signal(signum, frame) -> None:
        watcher.stop()
        signal.signal(signum, signal.SIG_DFL)  # a second one ends it at once

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    watcher.run()
