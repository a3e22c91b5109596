"""What the index holds, file by file (`localgpt documents`), and taking files out of it
(`localgpt remove`), without touching the disk."""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Sequence

from core.display import plural, shown
from core.errors import LocalGPTError
from index.catalog import Catalog, Root
from index.store import Index

_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class Document:
    source: str
    folder: str  # the folder it was ingested from ("" for an index from before folders were recorded)
    chunks: int
    pages: int | None
    size: int | None
    ingested_at: float | None
    last_failure: str = ""  # the reason it failed in its folder's last ingest, "" if it did not
    failure_known: bool = False  # that failure was acknowledged (localgpt acknowledge)
    indexed: bool = True

    def to_json(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        """One line for a terminal: the source (escaped), its chunks, pages, size, when, its failure."""
        parts = [plural(self.chunks, "chunk")]
        if self.pages:
            parts.append(plural(self.pages, "page"))
        if self.size is not None:
            parts.append(_size(self.size))
        if self.ingested_at:
            parts.append("ingested " + time.strftime("%Y-%m-%d %H:%M", time.localtime(self.ingested_at)))
        elif not self.indexed:
            parts.append("not in the index")
        text = f"  {shown(self.source)}  ({', '.join(parts)})"
        if self.last_failure:
            text += f"\n      last failure{' (acknowledged)' if self.failure_known else ''}: {self.last_failure}"
        return text


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def render(documents: list[Document], roots: list[Root]) -> str:
    """The listing grouped by folder, each folder with its label (the start of its sources)."""
    labels = {r.path: r.label for r in roots}
    lines: list[str] = []
    folder = None
    for doc in documents:
        if doc.folder != folder or not lines:
            folder = doc.folder
            group = [d for d in documents if d.folder == folder]
            label = labels.get(folder, "")
            named = f" (sources under {shown(label)}/)" if label else ""
            lines.append(
                f"{shown(folder) or '(folder not recorded)'}{named}: {plural(sum(d.indexed for d in group), 'file')}, "
                f"{plural(sum(d.chunks for d in group), 'chunk')}"
            )
        lines.append(doc.line())
    return "\n".join(lines) if lines else "The index holds no documents."


def _matches(source: str, pattern: str) -> bool:
    """A glob on the source, or a source or folder of sources ('office', 'office/contracts')."""
    if _GLOB_CHARS & set(pattern):
        return fnmatchcase(source, pattern)
    pattern = pattern.rstrip("/")
    return source == pattern or source.startswith(pattern + "/")


def list_documents(
    catalog: Catalog, folder: str | None = None, patterns: Sequence[str] = (), readable: frozenset[str] | None = None
) -> list[Document]:
    """Every file in the index and every file whose last ingest failed, sorted by folder and source.
    `folder`: only files ingested from that folder; `patterns`: only sources matching one of them;
    `readable`: only the folders a caller may read (asked of the catalog folder by folder)."""
    roots = catalog.roots()
    wanted = None if readable is None else sorted(readable)
    if folder is not None:
        root = find_root(roots, folder)
        if root is None or (readable is not None and root.path not in readable):
            raise LocalGPTError(f"The index holds no folder {folder}. Its folders: {_names(roots, readable)}.")
        wanted = [root.path]
    pages = catalog.pages_of_files()
    if wanted is None:
        records, failures = catalog.files(), catalog.failures()
    else:
        records, failures = {}, {}
        for path in wanted:
            records.update(catalog.files(root=path))
            failures.update(catalog.failures(root=path))
    out = []
    for record in records.values():
        failure = failures.pop(record.source, None)
        out.append(
            Document(
                record.source,
                record.root or "",
                record.chunk_count,
                pages.get(record.source),
                record.size,
                record.ingested_at,
                failure.reason if failure else "",
                bool(failure and failure.acknowledged),
            )
        )
    for failure in failures.values():
        out.append(
            Document(
                failure.source,
                failure.root,
                0,
                None,
                failure.size,
                None,
                failure.reason,
                failure.acknowledged,
                indexed=False,
            )
        )
    if patterns:
        out = [d for d in out if any(_matches(d.source, p) for p in patterns)]
    order = {r.path: n for n, r in enumerate(roots)}
    return sorted(out, key=lambda d: (order.get(d.folder, -1), d.source))


def _names(roots: list[Root], readable: frozenset[str] | None = None) -> str:
    return ", ".join(r.path for r in roots if readable is None or r.path in readable) or "none"


def find_root(roots: list[Root], folder: str | Path) -> Root | None:
    real = os.path.realpath(os.path.expanduser(str(folder)))
    return next((r for r in roots if r.path == real), None)


@dataclass
class Removal:
    sources: list[str]  # files taken out of the index
    folders: list[str]  # folders no longer recorded (all their files were named)


def resolve_targets(catalog: Catalog, targets: Sequence[str]) -> Removal:
    """What `remove TARGET...` means; every target must match something, or nothing is removed.

    A target is a folder the index holds (its path on disk), a file or folder on disk inside one,
    a source as `documents` lists it, a folder of sources ('office/contracts'), or a glob on sources."""
    roots = catalog.roots()
    files = catalog.files()
    failures = catalog.failures()
    known = set(files) | set(failures)
    sources: set[str] = set()
    folders: list[str] = []
    unmatched = []
    for target in targets:
        root = find_root(roots, target)
        if root is not None:
            folders.append(root.path)
            sources |= {s for s, r in files.items() if r.root == root.path}
            sources |= {s for s, f in failures.items() if f.root == root.path}
            continue
        matched = {s for s in known if _matches(s, target)}
        if not matched and os.path.exists(os.path.expanduser(target)):  # a path on disk inside a folder of the index
            real = Path(os.path.realpath(os.path.expanduser(target)))
            for r in roots:
                if Path(r.path) in real.parents:
                    matched = {s for s in known if _matches(s, r.source_of(real.relative_to(r.path).as_posix()))}
        if not matched:
            unmatched.append(target)
        sources |= matched
    if unmatched:
        raise LocalGPTError(
            f"Nothing in the index matches {', '.join(repr(t) for t in unmatched)}; nothing was removed. "
            "`localgpt documents` lists what it holds (sources, and the folders they come from)."
        )
    return Removal(sorted(sources), folders)


def remove(index: Index, removal: Removal) -> None:
    """Take the files out, crash-safely (Index.remove_files: a kill leaves nothing half-removed
    that the next write does not finish); the disk is not touched."""
    index.repair()
    indexed = index.catalog.files()
    index.remove_files([s for s in removal.sources if s in indexed])
    index.catalog.forget_failures(removal.sources)
    for folder in removal.folders:
        index.catalog.remove_root(folder)
