"""Which changed paths a watcher acts on: the folder's own paths, not editors' and systems' temp
files, not hidden folders (.git/), never the index itself."""

from __future__ import annotations

import os
from pathlib import Path

from ingest.exclude import IGNORE_FILE
from ingest.walk import is_hidden_or_temp


def relative_in(folder: str, path: str) -> str | None:
    """`path` relative to `folder` with forward slashes ("" for the folder itself), or None outside it."""
    try:
        rel = os.path.relpath(path, folder)
    except ValueError:  # another drive (Windows)
        return None
    if rel == ".":
        return ""
    if rel == ".." or rel.startswith(".." + os.sep):
        return None
    return Path(rel).as_posix()


def is_ignore_file(relative: str) -> bool:
    """The folder's .localgptignore: when it changes, what is excluded changes (a rescan)."""
    return relative == IGNORE_FILE


def ignored(relative: str) -> bool:
    """Whether a change at `relative` is none of the index's business: a temp or lock file
    (.swp, ~, .tmp, .part, .crdownload, ~$x.docx, .~lock.x#), a system file (.DS_Store,
    Thumbs.db) or anything inside a hidden folder, as the ingest's walk skips them (ingest/walk.py)."""
    if relative == "" or is_ignore_file(relative):
        return False
    return any(is_hidden_or_temp(part) for part in relative.split("/"))


def inside(path: str, folder: str) -> bool:
    return relative_in(folder, path) is not None
