"""Files: their SHA-256, and files that only their owner may read (they quote the user's documents).

Whatever the umask, a file made here is mode 0600: batch answers, the chat history, lock files.
The index's own folder is made private by index/permissions.py, with the same modes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import IO

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_BLOCK = 1 << 20


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, read a block at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def open_private(path: str | Path, mode: str = "w") -> IO[str]:
    """`path` opened for text writing ("w": emptied, "a": appended to), created owner-only."""
    flags = os.O_CREAT | os.O_WRONLY | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    return os.fdopen(os.open(path, flags, PRIVATE_FILE), mode, encoding="utf-8", newline="")


def create_private(path: str | Path) -> None:
    """`path` created if missing, and owner-only even if it existed with another mode."""
    os.close(os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, PRIVATE_FILE))
    os.chmod(path, PRIVATE_FILE)
