"""Filesystem events (the `watchdog` library: inotify on Linux, FSEvents on macOS, or polling)
turned into the paths of watched folders that changed, fed to a `Batcher`.

Opening and reading a file is not a change (the ingest reads them): only creations, writes,
deletions and moves count. A move names both its ends, so a rename inside a folder reaches the
ingest as both names at once (ingest/moves.py keeps its chunks), and a move out as a removal.
When the kernel's event queue overflows, events were lost: the folder is looked at whole.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)

from core.errors import LocalGPTError
from watch.batch import Batcher
from watch.rules import ignored, is_ignore_file, relative_in

log = logging.getLogger(__name__)

# The events that change what a folder holds (a folder's own "modified" only echoes its files').
CHANGES = (
    FileCreatedEvent,
    FileModifiedEvent,
    FileClosedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
)
# watchdog's loggers that announce lost events (its inotify queue overflowed).
OVERFLOW_LOGGERS = ("watchdog.observers.inotify_c", "watchdog.observers.inotify")

OVERFLOW = "the system's queue of file events overflowed (events were lost)"


class FolderEvents(FileSystemEventHandler):
    """One watched folder's events, as its relative paths, into `batcher`. Paths under `skip`
    (the index's own folder, when it lies inside the watched one) are never changes."""

    def __init__(self, folder: str, batcher: Batcher, skip: tuple[str, ...] = (), closes: bool = False):
        """`closes`: the observer reports a file's close after writing (inotify does), so a file
        written to and not closed yet is known to be still being written."""
        self.folder = folder
        self.batcher = batcher
        self.skip = skip
        self.closes = closes

    def on_any_event(self, event: FileSystemEvent) -> None:
        if not isinstance(event, CHANGES):
            return
        writing = None
        if self.closes and isinstance(event, (FileModifiedEvent, FileClosedEvent)):
            writing = isinstance(event, FileModifiedEvent)
        for path in (event.src_path, getattr(event, "dest_path", "")):
            if path:
                self.changed(
                    str(path) if not isinstance(path, bytes) else path.decode(errors="surrogateescape"), writing
                )

    def changed(self, path: str, writing: bool | None = None) -> None:
        if any(relative_in(s, path) is not None for s in self.skip):
            return
        relative = relative_in(self.folder, path)
        if relative is None or ignored(relative):
            return
        if relative == "" or is_ignore_file(relative):
            self.batcher.rescan(self.folder, "its .localgptignore changed" if relative else "the folder itself changed")
        else:
            self.batcher.add(self.folder, relative, writing)

    def overflowed(self) -> None:
        log.warning("%s: %s; looking at the whole folder again", self.folder, OVERFLOW)
        self.batcher.rescan(self.folder, OVERFLOW)


class _OverflowHook(logging.Handler):
    """watchdog reports an inotify queue overflow only in a log record: turn it into rescans."""

    def __init__(self, on_overflow: Callable[[], None]):
        super().__init__(logging.WARNING)
        self.on_overflow = on_overflow

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self.on_overflow()


class Observing:
    """The running observer of some folders; `stop()` ends it."""

    def __init__(self, handlers: list[FolderEvents], poll: float = 0.0):
        from watchdog.observers import Observer
        from watchdog.observers.polling import PollingObserver

        self.handlers = handlers
        self.poll = poll
        # A long observer timeout: its threads wake for nothing but events (and stop()).
        self.observer = PollingObserver(timeout=poll) if poll > 0 else Observer(timeout=5.0)
        for handler in handlers:
            handler.closes = _reports_closes(self.observer)
        self._hook = _OverflowHook(self._overflowed)
        for name in OVERFLOW_LOGGERS:
            logger = logging.getLogger(name)
            if not logger.isEnabledFor(logging.WARNING):  # the hook must hear its warnings
                logger.setLevel(logging.WARNING)
            logger.addHandler(self._hook)
        try:
            for handler in handlers:
                self.observer.schedule(handler, handler.folder, recursive=True)
            self.observer.start()
        except OSError as exc:
            self._unhook()
            raise WatchLimitError(exc) from exc

    @property
    def mode(self) -> str:
        return f"polling every {self.poll:g} s" if self.poll > 0 else "filesystem events"

    def _overflowed(self) -> None:
        for handler in self.handlers:
            handler.overflowed()

    def _unhook(self) -> None:
        for name in OVERFLOW_LOGGERS:
            logging.getLogger(name).removeHandler(self._hook)

    def stop(self) -> None:
        self._unhook()
        self.observer.stop()
        self.observer.join(timeout=10)


def _reports_closes(observer) -> bool:
    """inotify reports a file's close after writing (IN_CLOSE_WRITE); FSEvents and polling do not."""
    try:
        from watchdog.observers.inotify import InotifyObserver
    except ImportError:  # not Linux
        return False
    return isinstance(observer, InotifyObserver)


class WatchLimitError(LocalGPTError):
    """The system refused to watch (inotify's limit on watches, a filesystem without events)."""

    def __init__(self, exc: OSError):
        super().__init__(
            f"The system cannot watch the folder ({exc.strerror or exc}). Raise the limit "
            "(sysctl fs.inotify.max_user_watches=524288), or pass --poll SECONDS to look for changes "
            "every SECONDS instead."
        )


def folder_of(path: str | Path) -> str:
    return str(Path(path).expanduser().resolve())
