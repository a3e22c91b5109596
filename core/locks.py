"""Exclusive locks on files, so that two runs never write the same thing at once: the ingest lock
(db/.ingest.lock) and a lock beside an output file (`batch -o FILE`)."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from core.errors import LocalGPTError
from core.files import PRIVATE_FILE


class OutputLockedError(LocalGPTError):
    """Another process is writing the same output file."""


def take_lock(path: str | Path, busy: Callable[[], LocalGPTError]) -> int:
    """An exclusive lock on `path` (created owner-only, kept afterwards), as an open descriptor for
    `release_lock`. Raises `busy()` at once when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise busy() from None
    return fd


def release_lock(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def lock_path(output: str | Path) -> Path:
    output = Path(output)
    return output.with_name(f".{output.name}.lock")


@contextmanager
def output_lock(output: str | Path) -> Iterator[None]:
    """Held while `output` is written; a second holder fails at once with what to do.
    The lock is the hidden file .NAME.lock beside it (kept, as db/.ingest.lock is)."""
    fd = take_lock(
        lock_path(output),
        lambda: OutputLockedError(
            f"Another run is writing {output} right now. Wait for it to finish (it resumes from what is "
            "there), or pass another --output."
        ),
    )
    try:
        yield
    finally:
        release_lock(fd)
