"""What an ingest has to do: compare the folder with the catalog by size and mtime (no reading)."""

from __future__ import annotations

from dataclasses import dataclass, field

from index.catalog import FileRecord
from ingest.walk import Found


@dataclass(frozen=True)
class Task:
    """A file to read: new, or changed in size or mtime (its content hash decides, in the worker)."""

    path: str
    source: str
    known_hash: str | None  # the catalog's hash of this source, None for a new file
    size: int = 0  # bytes, when planned
    root: str | None = None  # the folder it is ingested from (recorded with the file)


@dataclass
class Plan:
    to_read: list[Task] = field(default_factory=list)
    unchanged: list[FileRecord] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unreadable: list[tuple[Found, str]] = field(default_factory=list)  # (file, reason): cannot even stat it


def make_plan(
    documents: list[Found], known: dict[str, FileRecord], root: str | None = None, everything: bool = False
) -> Plan:
    """A file with the size and mtime the catalog recorded is unchanged; any other is read.
    With `everything`, every file is read and embedded again (the index's recipe changed).

    `known`: the catalog's files of this folder only (other folders' files are never removed here).
    A renamed file is a removal of its old source and a new file."""
    plan = Plan()
    present: set[str] = set()
    for doc in documents:
        present.add(doc.source)
        problem = doc.problem
        if problem:
            plan.unreadable.append((doc, problem))
            continue
        try:
            stat = doc.path.stat()
        except PermissionError:
            plan.unreadable.append((doc, "permission denied: cannot read the file"))
            continue
        except OSError as exc:
            plan.unreadable.append((doc, f"cannot read the file: {exc.strerror or exc}"))
            continue
        record = known.get(doc.source)
        if everything:
            plan.to_read.append(Task(str(doc.path), doc.source, None, stat.st_size, root))
        elif record and record.size == stat.st_size and record.mtime_ns == stat.st_mtime_ns:
            plan.unchanged.append(record)
        else:
            plan.to_read.append(
                Task(str(doc.path), doc.source, record.content_hash if record else None, stat.st_size, root)
            )
    plan.removed = sorted(s for s in known if s not in present)
    return plan


def in_scope(source: str, scope: set[str] | None) -> bool:
    """Whether `source` is one of `scope`'s sources or lies under one of them (None: everything;
    "" in it: the whole unlabelled folder)."""
    if scope is None or "" in scope or source in scope:
        return True
    parts = source.split("/")
    return any("/".join(parts[:n]) in scope for n in range(1, len(parts)))


def reading_order(tasks: list[Task]) -> list[Task]:
    """The smallest file first, so embedding starts as soon as a worker is up; then the largest
    first, so that with several workers no big file is left to parse alone at the end."""
    if len(tasks) < 2:
        return list(tasks)
    first = min(tasks, key=lambda t: (t.size, t.source))
    rest = sorted((t for t in tasks if t is not first), key=lambda t: (-t.size, t.source))
    return [first, *rest]
