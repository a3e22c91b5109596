"""Finding the documents in a folder.

Policy (docs/formats.md):
- Hidden files and folders (".git/", ".DS_Store") and temp/lock files ("~$lock.docx",
  ".~lock.x.odt#", "x.tmp", "x~", "Thumbs.db") are skipped silently.
- Symbolic links whose target lies inside the folder are followed; the chunk's source is the
  link's path inside the folder. A link whose target lies outside the folder (a file or a
  folder) is not followed: one stray link would put a private file into the index and into
  answers. It is returned with `skipped` set (listed in the summary and the report);
  `follow_external_links=True` (--follow-external-links) follows it.
- Symbolic links to folders are followed each real folder once: a link back to a
  folder already being walked (a loop) or already walked is skipped, so nothing is read twice
  and no loop is followed.
- A broken link, a link loop, or a folder that cannot be listed is returned with `problem`
  set, so the run lists it among the failures with that reason.
"""

from __future__ import annotations

import errno
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Collection

from core.errors import SourceError

log = logging.getLogger(__name__)

# Files nobody wants indexed: editor/office lock files, OS metadata.
_JUNK_PREFIXES = ("~$", ".~lock", "~")
_JUNK_NAMES = {"thumbs.db", "desktop.ini", "ehthumbs.db"}
_JUNK_SUFFIXES = ("~", ".tmp", ".temp", ".swp", ".swo", ".part", ".crdownload", "#")


@dataclass(frozen=True)
class Found:
    path: Path  # absolute (or as given under root); for a link, the link itself
    source: str  # relative to the root, forward slashes
    problem: str = ""  # why it cannot be read ("broken symbolic link ..."), "" when readable
    skipped: str = ""  # why it is deliberately not read (a link leaving the folder), "" otherwise


@dataclass(frozen=True)
class _Wanted:
    """The paths a pruned walk looks for, and the folders on the way to them."""

    paths: frozenset[str]
    ancestors: frozenset[str]

    @classmethod
    def of(cls, only: Collection[str] | None) -> "_Wanted | None":
        paths = None if only is None else {p.strip("/") for p in only}
        if paths is None or "" in paths:
            return None
        ancestors = {"/".join(p.split("/")[:n]) for p in paths for n in range(1, p.count("/") + 1)}
        return cls(frozenset(paths), frozenset(ancestors))

    def holds(self, source: str) -> bool:
        parts = source.split("/")
        return any("/".join(parts[:n]) in self.paths for n in range(1, len(parts) + 1))

    def leads_to(self, source: str) -> bool:
        return source in self.ancestors or self.holds(source)


def is_hidden_or_temp(name: str) -> bool:
    lower = name.lower()
    return (
        name.startswith(".")
        or name.startswith(_JUNK_PREFIXES)
        or lower in _JUNK_NAMES
        or lower.endswith(_JUNK_SUFFIXES)
    )


def _link_problem(path: Path) -> str:
    """The reason a symbolic link cannot be followed, or ''."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return f"broken symbolic link: its target {os.readlink(path)} does not exist"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop: the link points back to itself"
        return f"cannot follow the symbolic link: {exc.strerror or exc}"
    return ""


def _leaves(path: Path, inside: Path) -> bool:
    """Whether the link `path` resolves to somewhere outside the real folder `inside`."""
    target = Path(os.path.realpath(path))
    return target != inside and inside not in target.parents


def find_documents(root: Path, follow_external_links: bool = False, only: Collection[str] | None = None) -> list[Found]:
    """Every non-hidden file under `root`, recursively, in a stable (sorted) order. With `only`
    (paths relative to `root`, as a watcher names what changed): just the files at or under them,
    found by the same walk pruned to the folders that lead there ("" among them: everything)."""
    root = Path(root).expanduser()
    if not root.exists():
        raise SourceError(f"Folder {root} does not exist. Pass --source-dir with the folder of documents to ingest.")
    if not root.is_dir():
        raise SourceError(f"{root} is not a folder. Pass --source-dir with the folder of documents to ingest.")
    found: list[Found] = []
    wanted = _Wanted.of(only)
    real_root = Path(os.path.realpath(root))
    seen: set[tuple[int, int]] = set()  # (device, inode) of every folder entered

    def walk(folder: Path) -> None:
        info = os.stat(folder)
        key = (info.st_dev, info.st_ino)
        if key in seen:
            log.info("skipping %s: a link to a folder already read (or a loop)", folder)
            return
        seen.add(key)
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            source = folder.relative_to(root).as_posix()
            found.append(Found(folder, source, f"cannot list the folder: {exc.strerror or exc}"))
            return
        for entry in entries:
            if is_hidden_or_temp(entry.name):
                continue
            path = Path(entry.path)
            source = path.relative_to(root).as_posix()
            if wanted and not wanted.leads_to(source):
                continue
            try:
                is_link = entry.is_symlink()
                if is_link:
                    problem = _link_problem(path)
                    if problem:
                        found.append(Found(path, source, problem))
                        continue
                    if not follow_external_links and _leaves(path, real_root):
                        kind = "folder" if entry.is_dir(follow_symlinks=True) else "file"
                        found.append(
                            Found(
                                path,
                                source,
                                skipped=f"symbolic link to a {kind} outside the folder "
                                f"({os.path.realpath(path)}); pass --follow-external-links to read it",
                            )
                        )
                        continue
                if entry.is_dir(follow_symlinks=True):
                    walk(path)
                elif entry.is_file(follow_symlinks=True) and (not wanted or wanted.holds(source)):
                    found.append(Found(path, source))
                # sockets, fifos, devices: not documents, skipped
            except OSError as exc:
                found.append(Found(path, source, f"cannot read the entry: {exc.strerror or exc}"))

    walk(root)
    return found
