"""The progress line of an ingest, on stderr: files, chunks, elapsed time, rate.

On a terminal the line is redrawn in place (at most 5 times a second); into a file or a
pipe a line is written every 10 seconds, so logs stay readable. `Progress(enabled=False)`
(--quiet) writes nothing.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    def __init__(self, total_files: int, enabled: bool = True, stream: TextIO | None = None):
        self.total_files = total_files
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.files = 0
        self.chunks = 0
        self.started = time.perf_counter()
        self._embed_started: float | None = None
        self._last = 0.0
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._every = 0.2 if self._tty else 10.0
        self._width = 0

    def file_done(self, count: int = 1) -> None:
        self.files += count
        self._maybe_draw()

    def embedding(self) -> None:
        """Embedding starts now: the rate counts from the first call."""
        if self._embed_started is None:
            self._embed_started = time.perf_counter()

    def chunks_done(self, count: int) -> None:
        self.embedding()
        self.chunks += count
        self._maybe_draw()

    def line(self) -> str:
        elapsed = time.perf_counter() - self.started
        rate = self.chunks / max(time.perf_counter() - self._embed_started, 1e-6) if self._embed_started else 0.0
        share = self.files / self.total_files if self.total_files else 1.0
        bar = "#" * int(share * 20)
        return (
            f"[{bar:<20}] {self.files}/{self.total_files} files | {self.chunks} chunks | "
            f"{rate:.1f} chunks/s | {_clock(elapsed)} elapsed"
        )

    def _maybe_draw(self) -> None:
        now = time.perf_counter()
        if self.enabled and now - self._last >= self._every:
            self._last = now
            self._draw()

    def _draw(self, final: bool = False) -> None:
        text = self.line()
        if self._tty:
            self.stream.write("\r" + text.ljust(self._width) + ("\n" if final else ""))
            self._width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(final=True)
