"""Files renamed or moved inside a folder: found by content, so their chunks move instead of
being read and embedded again.

A new file (no record under its name) whose size is that of a file gone from the folder, and
whose SHA-256 is that file's content hash, is that file moved. Only files that left the catalog's
view (removed by this run's plan) are candidates: a copy, whose original is still there, is a new
file. Hashing costs a read of the candidate's bytes, never a parse or an embedding.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from index.catalog import FileRecord
from ingest.plan import Task


@dataclass(frozen=True)
class Move:
    old: FileRecord  # the record of the name that left
    task: Task  # the file under its new name
    record: FileRecord  # the new name's record (its stat, the same content hash)


def find_moves(
    to_read: Sequence[Task],
    gone: Sequence[FileRecord],
    hash_of: Callable[[Path], str],
    stat_of: Callable[[Path], tuple[int, int]],
) -> list[Move]:
    """The new files of `to_read` that are files of `gone` under another name. `hash_of` and
    `stat_of` ((size, mtime_ns)) read the file; one that cannot be read is not a move (the
    ordinary read reports why). Each gone file moves at most once."""
    by_size: dict[int, list[FileRecord]] = {}
    for record in gone:
        by_size.setdefault(record.size, []).append(record)
    moves = []
    for task in to_read:
        if task.known_hash is not None or not by_size.get(task.size):
            continue
        try:
            size, mtime_ns = stat_of(Path(task.path))
            if size != task.size:
                continue
            digest = hash_of(Path(task.path))
        except OSError:
            continue
        candidates = by_size[task.size]
        for old in candidates:
            if old.content_hash == digest:
                candidates.remove(old)
                record = FileRecord(task.source, digest, size, mtime_ns, root=task.root)
                moves.append(Move(old, task, record))
                break
    return moves
