"""Which file on disk a source names, refusing anything outside the folder it was ingested from.

A source is what the catalog stores (`label/relative/path`, forward slashes). The file is only
ever looked up through the catalog: a source the index does not hold is refused before any path
is built, and the path it resolves to (symbolic links followed) must lie inside its folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import LocalGPTError
from index.catalog import Catalog


class FileRefused(LocalGPTError):
    """A source that would leave its ingested folder (an absolute path, '..', a symbolic link out)."""

    http_status = 403


class SourceNotFound(FileRefused):
    """A source the index does not hold, or whose file is gone from the disk."""

    http_status = 404


def _unsafe(source: str) -> str:
    if not source:
        return "the source is empty"
    if "\x00" in source:
        return "the source holds a NUL character"
    if source.startswith(("/", "\\")) or (len(source) > 1 and source[1] == ":"):
        return "absolute paths are refused"
    if any(part in ("..", ".") for part in source.replace("\\", "/").split("/")):
        return "'..' and '.' are refused in a source"
    return ""


def readable(catalog: Catalog, source: str, folders: frozenset[str] | None) -> bool:
    """Whether `source` is a file of one of `folders` (None: any file)."""
    if folders is None:
        return True
    record = catalog.files().get(source)
    return record is not None and record.root in folders


def resolve_source(catalog: Catalog, source: str, folders: frozenset[str] | None = None) -> Path:
    """The real path of `source`, a file the index holds, inside the folder it was ingested from;
    with `folders`, one of those folders only (a file of another is not there, as far as the caller knows)."""
    reason = _unsafe(source)
    if reason:
        raise FileRefused(f"Refused {source!r}: {reason}. Use a source as /api/documents lists it.")
    record = catalog.files().get(source)
    if record is not None and folders is not None and record.root not in folders:
        record = None
    if record is None or not record.root:
        raise SourceNotFound(f"The index holds no file {source!r}. /api/documents lists what it holds.")
    root = next((r for r in catalog.roots() if r.path == record.root), None)
    if root is None:
        raise SourceNotFound(f"The folder {source!r} was ingested from is no longer in the index.")
    relative = source[len(root.label) + 1 :] if root.label and source.startswith(root.label + "/") else source
    folder = Path(os.path.realpath(root.path))
    path = Path(os.path.realpath(folder / relative))
    if folder not in path.parents:
        raise FileRefused(
            f"Refused {source!r}: it resolves outside the folder it was ingested from (a symbolic link?)."
        )
    if not path.is_file():
        raise SourceNotFound(f"{source!r} is in the index but no longer on disk at {path}; ingest its folder again.")
    return path
