"""A lock on an output file, so that two runs never write it at once (`batch -o FILE`)."""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from core.errors import LocalGPTError


class OutputLockedError(LocalGPTError):
    """Another process is writing the same output file."""


def lock_path(output: str | Path) -> Path:
    output = Path(output)
    return output.with_name(f".{output.name}.lock")


@contextmanager
def output_lock(output: str | Path) -> Iterator[None]:
    """Held while `output` is written; a second holder fails at once with what to do.
    The lock is the hidden file .NAME.lock beside it (kept, as db/.ingest.lock is)."""
    path = lock_path(output)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise OutputLockedError(
            f"Another run is writing {output} right now. Wait for it to finish (it resumes from what is "
            "there), or pass another --output."
        ) from None
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
