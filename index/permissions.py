"""The index holds private text: its folder is 0700 and its files 0600, whatever the umask.

`make_private` runs when the index is opened for writing: from then on everything the process
creates is owner-only (umask 077; SQLite gives its -wal/-shm files the database file's mode),
and whatever an older version or another tool left readable in the folder is tightened.
`exposed_paths` finds what others can still read or write, for `localgpt doctor`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from core.files import PRIVATE_DIR, PRIVATE_FILE

_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def make_private(db: Path) -> None:
    """Create `db` if needed, owner-only, and make everything the process creates from now owner-only."""
    os.umask(0o077)
    Path(db).mkdir(parents=True, exist_ok=True)
    tighten(Path(db))


def tighten(db: Path) -> None:
    """Take group and other permissions off `db` and everything under it (links are left alone)."""
    for path in [db, *_walk(db)]:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode) or not mode & _OTHERS:
            continue
        os.chmod(path, PRIVATE_DIR if stat.S_ISDIR(mode) else PRIVATE_FILE)


def exposed_paths(db: Path) -> list[tuple[Path, int]]:
    """(path, mode) of `db` and everything under it that a group or other users can reach."""
    found = []
    for path in [db, *_walk(db)]:
        mode = path.lstat().st_mode
        if not stat.S_ISLNK(mode) and mode & _OTHERS:
            found.append((path, stat.S_IMODE(mode)))
    return found


def _walk(db: Path) -> list[Path]:
    paths: list[Path] = []
    for folder, dirs, files in os.walk(db):
        paths.extend(Path(folder) / name for name in (*dirs, *files))
    return paths
