"""Events into batches: a burst of changes (an editor's save, a `git checkout` of 500 files) is
one batch once the folder has been quiet for `debounce` seconds, and a file is taken only when
its size and mtime have not moved since its last event (a copy in progress waits).

Plain logic over an injected clock and stat, so it is tested without a filesystem. `Batcher`
is fed from the observer's thread and waited on by the runner's: a condition guards it, and the
runner sleeps on it with no timeout while nothing is pending (no loop when idle).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

Signature = tuple[int, int] | None  # (size, mtime_ns); None: not there (deleted, or a folder gone)


def signature(path: str) -> Signature:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns) if not os.path.isdir(path) else (0, 0)


@dataclass
class Batch:
    """What changed, per watched folder: paths relative to it, and the folders to look at whole."""

    paths: dict[str, set[str]] = field(default_factory=dict)
    rescan: dict[str, str] = field(default_factory=dict)  # folder -> why (an overflow, .localgptignore)

    def folders(self) -> list[str]:
        return sorted(set(self.paths) | set(self.rescan))

    def __bool__(self) -> bool:
        return bool(self.paths or self.rescan)


def split_stable(recorded: dict[str, Signature], current: dict[str, Signature]) -> tuple[set[str], set[str]]:
    """(stable, moving): a path is stable when its size and mtime are those its last event saw."""
    stable, moving = set(), set()
    for path, seen in recorded.items():
        (stable if current.get(path) == seen else moving).add(path)
    return stable, moving


@dataclass
class _Pending:
    at: float  # its last event
    sig: Signature  # its size and mtime then
    writing: bool = False  # written to and not closed since (inotify's close events): still being written


class Batcher:
    """Pending changes, and when they are due as one batch.

    Due when nothing new came for `debounce` seconds; a folder that never quiets down (a log
    written every second) still gets a batch every `max_wait` seconds, of the paths quiet by then.
    A file written to and not closed since (where the system tells closes: inotify) is still being
    written: it waits for its close, or for `open_wait` seconds of quiet (a writer that keeps its
    file open, a log).
    """

    def __init__(
        self,
        debounce: float,
        max_wait: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        stat: Callable[[str], Signature] = signature,
        open_wait: float = 60.0,
    ):
        self.debounce = debounce
        self.max_wait = max(max_wait, debounce)
        self.open_wait = max(open_wait, debounce)
        self._clock = clock
        self._stat = stat
        self._cond = threading.Condition()
        self._paths: dict[str, dict[str, _Pending]] = {}  # folder -> relative path -> its pending change
        self._rescan: dict[str, str] = {}
        self._first: float | None = None
        self._last: float | None = None
        self._stopped = False

    # -- fed by the observer ----------------------------------------------------
    def add(self, folder: str, relative: str, writing: bool | None = None) -> None:
        """A change at `relative`; `writing`: True for a write, False for a close after writing,
        None for any other change (a file still being written stays so)."""
        now = self._clock()
        sig = self._stat(os.path.join(folder, relative))
        with self._cond:
            paths = self._paths.setdefault(folder, {})
            was = paths.get(relative)
            still = was.writing if (was is not None and writing is None) else bool(writing)
            paths[relative] = _Pending(now, sig, still)
            self._touched(now)

    def rescan(self, folder: str, why: str) -> None:
        with self._cond:
            self._rescan.setdefault(folder, why)
            self._touched(self._clock())

    def _touched(self, now: float) -> None:
        if self._first is None:
            self._first = now
        self._last = now
        self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    # -- read by the runner -----------------------------------------------------
    def pending(self) -> int:
        with self._cond:
            return sum(len(p) for p in self._paths.values()) + len(self._rescan)

    def due_in(self, now: float) -> float | None:
        """Seconds until a batch is due (0: now), None when nothing is pending."""
        with self._cond:
            return self._due_in(now)

    def _ready_at(self, change: _Pending) -> float:
        return change.at + (self.open_wait if change.writing else self.debounce)

    def _due_in(self, now: float) -> float | None:
        """A batch goes once the folder is quiet (or the oldest change is `max_wait` old) and
        something is ready by then: a rescan, or a path quiet for its own wait."""
        if self._last is None:
            return None
        go = min(self._last + self.debounce, self._first + self.max_wait)
        ready = min((self._ready_at(c) for p in self._paths.values() for c in p.values()), default=float("inf"))
        if self._rescan:
            ready = now
        return max(0.0, max(go, ready) - now)

    def take(self) -> Batch:
        """The due batch: every path ready (quiet for `debounce` seconds, or `open_wait` for a file
        still open for writing) and stable since its last event; a moving one is kept for later,
        as if it had just changed. Empty when none is due."""
        now = self._clock()
        with self._cond:
            if self._due_in(now) != 0.0:
                return Batch()
            batch = Batch(rescan=dict(self._rescan))
            self._rescan.clear()
            recorded: dict[str, dict[str, Signature]] = {}
            for folder, paths in self._paths.items():
                for rel in [rel for rel, c in paths.items() if self._ready_at(c) <= now]:
                    recorded.setdefault(folder, {})[rel] = paths.pop(rel).sig
            self._paths = {f: p for f, p in self._paths.items() if p}
            self._first = self._last = None
            if self._paths:  # paths still settling: their own times count
                times = [c.at for p in self._paths.values() for c in p.values()]
                self._first, self._last = min(times), max(times)
        for folder, sigs in recorded.items():
            current = {rel: self._stat(os.path.join(folder, rel)) for rel in sigs}
            stable, moving = split_stable(sigs, current)
            if stable:
                batch.paths[folder] = stable
            for rel in moving:
                self.add(folder, rel)
        return batch

    def wait(self, stop: threading.Event) -> Batch | None:
        """Block until a batch is due (None once stopped). While nothing is pending it sleeps
        until an event comes, with no timeout."""
        while True:
            with self._cond:
                while not self._stopped and not stop.is_set():
                    due = self._due_in(self._clock())
                    if due == 0.0:
                        break
                    self._cond.wait(timeout=due)  # None: until notified
                if self._stopped or stop.is_set():
                    return None
            batch = self.take()
            if batch:
                return batch
