"""Keeping a long-running reader's view of the index current while another process ingests.

SQLite shows each new query what is committed. Chroma's local client does not: it keeps what it
loaded when it opened, so after an ingest by another process the catalog would list chunks whose
vectors the server's store cannot find. The server watches the catalog's files (a `stat`, no
read) and reopens its one vector store when they changed, at most once a second, with no search
running meanwhile (a read-write lock: searches share it, the reopening takes it alone).
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

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


def signature(files: list[Path]) -> tuple:
    """What changes whenever a commit lands in the catalog (its main file or its write-ahead log)."""
    out = []
    for path in files:
        try:
            st = os.stat(path)
            out.append((st.st_mtime_ns, st.st_size))
        except FileNotFoundError:
            out.append(None)
    return tuple(out)


class IndexWatcher:
    """Calls `reopen` (under the write lock) before a search when the catalog changed since the last one."""

    def __init__(self, catalog_file: Path, reopen: Callable[[], None]):
        self.files = [catalog_file, catalog_file.with_name(catalog_file.name + "-wal")]
        self.reopen = reopen
        self.lock = ReadWriteLock()
        self._seen = signature(self.files)
        self._checked = 0.0
        self._mutex = threading.Lock()
        self.reopened = 0

    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        with self._mutex:
            if not force and now - self._checked < REOPEN_AT_MOST_EVERY_S:
                return
            self._checked = now
            current = signature(self.files)
            if not force and current == self._seen:
                return
            self._seen = current
        with self.lock.writing():
            self.reopen()
            self.reopened += 1
