"""The progress line of an ingest, on stderr: the work done in chunks (of how many, estimated
until every file is read), files, the rate, the file being read or embedded, the time elapsed
and, once it can be told, the time left.

    [####      ]  41% 812/~1,980 chunks, 3/16 files, 24.1 chunks/s, ~0:45 left, reading R-intro.pdf

How many chunks the unread files hold is estimated from their sizes, at the chunks per byte of
the files of the same type read so far (of all files read, for a type not read yet); the time
left from the rates of embedding and reading so far. Neither is shown before it means something:
a few seconds of embedding, and most of the unread bytes in types already seen.

On a terminal the line is redrawn in place (at most 5 times a second) and cut to its width;
into a file or a pipe a line is written every 10 seconds, so logs stay readable.
`Progress(enabled=False)` (--quiet) writes nothing.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import time
from typing import Callable, Iterable, TextIO

# The time left is shown once embedding has run this long and done this many chunks ...
ESTIMATE_AFTER_S = 3.0
ESTIMATE_AFTER_CHUNKS = 32
# ... and at most this share of the unread bytes is in file types not read yet.
UNSEEN_SHARE = 0.5
BAR = 10


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _kind(source: str) -> str:
    return os.path.splitext(source)[1].lower()


def _middle_cut(name: str, width: int) -> str:
    if len(name) <= width:
        return name
    keep = max(width - 1, 2)
    return name[: keep // 2] + "…" + name[len(name) - (keep - keep // 2) :]


class Progress:
    def __init__(
        self,
        total_files: int,
        enabled: bool = True,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.total_files = total_files
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.clock = clock
        self.files = 0
        self.chunks = 0  # embedded
        self.started = clock()
        self._embed_started: float | None = None
        self._last = float("-inf")
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._every = 0.2 if self._tty else 10.0
        self._width = 0
        # What is left to read: source -> bytes; what was read: chunks and bytes by file type.
        self._unread: dict[str, int] = {}
        self._read_bytes: dict[str, int] = {}
        self._read_chunks: dict[str, int] = {}
        self._known_chunks = 0  # chunks of the files read so far (embedded or waiting to be)
        self._bytes_read = 0
        self._reading: Callable[[], list[str]] | None = None
        self._finished: Callable[[], list[tuple[str, int | None]]] | None = None
        self._counted: set[str] = set()  # files whose chunks are counted
        self._embedding: list[str] = []
        self._closed = False

    # -- what the ingest tells it -------------------------------------------------
    def expect(self, files: Iterable[tuple[str, int]]) -> None:
        """The files to be read, as (source, bytes)."""
        for source, size in files:
            self._unread[source] = max(int(size), 0)

    def follow(
        self,
        reading: Callable[[], list[str]] | None,
        finished: Callable[[], list[tuple[str, int | None]]] | None = None,
    ) -> None:
        """`reading()` tells the files the workers are reading now, `finished()` those read but not yet
        taken up, as (source, chunks) (asked at each redraw: the estimate counts them at once)."""
        self._reading = reading
        self._finished = finished

    def redraw(self) -> None:
        """Draw the line now if it is due (the ingest is about to wait)."""
        self._maybe_draw()

    def file_read(self, source: str, chunks: int | None) -> None:
        """A file is read into `chunks` chunks (None: it was unchanged or failed: no chunks to embed)."""
        self._count(source, chunks)
        self._maybe_draw()

    def _count(self, source: str, chunks: int | None) -> None:
        if source in self._counted:
            return
        self._counted.add(source)
        size = self._unread.pop(source, 0)
        self._bytes_read += size
        if chunks is not None:
            kind = _kind(source)
            self._read_bytes[kind] = self._read_bytes.get(kind, 0) + size
            self._read_chunks[kind] = self._read_chunks.get(kind, 0) + chunks
            self._known_chunks += chunks

    def file_done(self, count: int = 1) -> None:
        self.files += count
        self._maybe_draw()

    def embedding(self, sources: list[str] | None = None) -> None:
        """Embedding starts now (of the files `sources`): the rate counts from the first call."""
        if self._embed_started is None:
            self._embed_started = self.clock()
        if sources is not None:
            self._embedding = list(sources)

    def chunks_done(self, count: int) -> None:
        self.embedding()
        self.chunks += count
        self._maybe_draw()

    # -- what it shows ------------------------------------------------------------
    def total_chunks(self) -> tuple[int, bool] | None:
        """(chunks of the whole run, exact?): exact once every file is read; estimated while most
        unread bytes are of types already read; None before."""
        if not self._unread:
            return max(self._known_chunks, self.chunks), True
        all_bytes = sum(self._read_bytes.values())
        if not all_bytes:
            return None
        overall = sum(self._read_chunks.values()) / all_bytes
        unseen = sum(size for source, size in self._unread.items() if _kind(source) not in self._read_bytes)
        if unseen > UNSEEN_SHARE * sum(self._unread.values()):
            return None
        guess = 0.0
        for source, size in self._unread.items():
            kind = _kind(source)
            ratio = self._read_chunks[kind] / self._read_bytes[kind] if self._read_bytes.get(kind) else overall
            guess += size * ratio
        return max(self._known_chunks + round(guess), self.chunks), False

    def seconds_left(self) -> float | None:
        """The time left, once it means something: the slower of embedding what is left at the rate so
        far and reading what is left at the rate so far."""
        total = self.total_chunks()
        if total is None or self._embed_started is None:
            return None
        now = self.clock()
        embedding_for = now - self._embed_started
        if embedding_for < ESTIMATE_AFTER_S or self.chunks < ESTIMATE_AFTER_CHUNKS:
            return None
        left = (total[0] - self.chunks) / (self.chunks / embedding_for)
        unread = sum(self._unread.values())
        if unread and self._bytes_read:
            left = max(left, unread / (self._bytes_read / max(now - self.started, 1e-6)))
        return max(left, 0.0)

    def line(self, width: int | None = None) -> str:
        """The line as shown; `width`: the terminal's, the file name is cut to fit it."""
        for source, chunks in self._finished() if self._finished is not None else []:
            self._count(source, chunks)
        now = self.clock()
        rate = self.chunks / max(now - self._embed_started, 1e-6) if self._embed_started else 0.0
        total = self.total_chunks()
        if total and total[0]:
            share = min(self.chunks / total[0], 1.0)
            head = f"[{'#' * int(share * BAR):<{BAR}}] {int(share * 100):3d}%"
            counted = f"{self.chunks:,}/{'' if total[1] else '~'}{total[0]:,} chunk{'' if total[0] == 1 else 's'}"
        else:
            share = self.files / self.total_files if self.total_files else 1.0
            head = f"[{'#' * int(share * BAR):<{BAR}}]"
            counted = f"{self.chunks:,} chunk{'' if self.chunks == 1 else 's'}"
        left = None if self._closed else self.seconds_left()
        times = f"~{_clock(left)} left" if left is not None else f"{_clock(now - self.started)} elapsed"
        files = f"{self.files}/{self.total_files} file{'' if self.total_files == 1 else 's'}"
        text = f"{head} {counted}, {files}, {rate:.1f} chunks/s, {times}"
        doing = self._doing()
        if doing:
            verb, name = doing
            if width is not None:
                room = width - 1 - len(text) - len(", ") - len(verb)
                name = _middle_cut(name, room) if room >= 8 else ""
            if name:
                text += f", {verb}{name}"
        return text[: width - 1] if width is not None and len(text) >= width else text

    def _doing(self) -> tuple[str, str] | None:
        """What the ingest waits on: the file a worker reads, else the file being embedded."""
        from core.display import shown

        reading = self._reading() if self._reading is not None else []
        for verb, files in (("reading ", reading), ("embedding ", self._embedding)):
            if files:
                more = f" and {len(files) - 1} more" if len(files) > 1 else ""
                return verb, shown(files[0]) + more
        return None

    def _maybe_draw(self) -> None:
        now = self.clock()
        if self.enabled and now - self._last >= self._every:
            self._last = now
            self._draw()

    def _draw(self, final: bool = False) -> None:
        width = self._columns() if self._tty else None
        text = self.line(width)
        if self._tty:
            self.stream.write("\r" + text.ljust(self._width) + ("\n" if final else ""))
            self._width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def _columns(self) -> int:
        """The width of the terminal the line is drawn on ($COLUMNS first, as shutil reads it)."""
        try:
            return int(os.environ["COLUMNS"])
        except (KeyError, ValueError):
            pass
        try:
            return os.get_terminal_size(self.stream.fileno()).columns or 80
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            return shutil.get_terminal_size((80, 24)).columns

    def close(self) -> None:
        if self.enabled:
            self._reading = self._finished = None
            self._embedding = []
            self._closed = True
            self._draw(final=True)
