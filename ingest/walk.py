"""Finding the documents in a folder."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.errors import SourceError

# Files nobody wants indexed: editor/office lock files, OS metadata.
_JUNK_PREFIXES = ("~$", ".~lock", "~")
_JUNK_NAMES = {"Thumbs.db", "desktop.ini"}


@dataclass(frozen=True)
class Found:
    path: Path  # absolute
    source: str  # relative to the root, forward slashes


def is_hidden_or_temp(name: str) -> bool:
    return name.startswith(".") or name.startswith(_JUNK_PREFIXES) or name in _JUNK_NAMES or name.endswith(("~", ".tmp"))


def find_documents(root: Path) -> list[Found]:
    """Every non-hidden file under `root`, recursively, in a stable order."""
    root = Path(root).expanduser()
    if not root.exists():
        raise SourceError(f"Folder {root} does not exist. Pass --source-dir with the folder of documents to ingest.")
    if not root.is_dir():
        raise SourceError(f"{root} is not a folder. Pass --source-dir with the folder of documents to ingest.")
    found: list[Found] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not is_hidden_or_temp(d))
        for name in sorted(filenames):
            if is_hidden_or_temp(name):
                continue
            path = Path(dirpath) / name
            found.append(Found(path=path, source=path.relative_to(root).as_posix()))
    return found
