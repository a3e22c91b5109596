"""Keeping a long-running reader's view of a vector store current while another process writes.

SQLite shows each new query what is committed. Chroma's local client does not: it keeps what it
loaded when it opened, so after an ingest by another process the catalog would list chunks whose
vectors the reader's store cannot find. A store that has this problem watches its own files (a
`stat`, no read) and reopens when they changed, at most once a second, with no read running
meanwhile (a read-write lock: reads share it, the reopening takes it alone).
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

REOPEN_AT_MOST_EVERY_S = 1.0


class ReadWriteLock:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._readers:
                self._cond.wait()
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


def signature(files: Sequence[Path]) -> tuple:
    """What changes whenever a commit lands in these files (a SQLite file and its write-ahead log)."""
    out = []
    for path in files:
        try:
            st = os.stat(path)
            out.append((st.st_mtime_ns, st.st_size))
        except FileNotFoundError:
            out.append(None)
    return tuple(out)


class ChangeWatch:
    """Whether `files` changed since the last look; looks at most once every REOPEN_AT_MOST_EVERY_S
    unless forced. `seen()` records the files as they are now (after a reopen)."""

    def __init__(self, files: Sequence[Path]):
        self.files = list(files)
        self._seen = signature(self.files)
        self._checked = 0.0
        self._mutex = threading.Lock()

    def changed(self, force: bool = False) -> bool:
        now = time.monotonic()
        with self._mutex:
            if not force and now - self._checked < REOPEN_AT_MOST_EVERY_S:
                return False
            self._checked = now
            current = signature(self.files)
            if not force and current == self._seen:
                return False
            self._seen = current
            return True

    def seen(self) -> None:
        with self._mutex:
            self._seen = signature(self.files)
