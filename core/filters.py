"""Metadata filters, as plain data: restrict a search to some files, pages or other metadata.

    source=contracts/*          a glob on the path relative to the ingested folder
    source=contracts            a folder (everything under it) or one file
    source=*.pdf|*.docx         alternatives, separated by |
    page=3   page=3-7           a page, or a range of pages
    sheet=Q3                    any other metadata key, exact value

A server adds one more condition that no `--where` can write: the folders the caller may read
(`within_folders`), matched on the folder each chunk's file was ingested from, so that every
store applies a user's permissions inside its query, before ranking (docs/api.md, "A team").

Several conditions are all required. `parse_where` reads the `--where` syntax (or a mapping)
into a `Filter`; each store translates a `Filter` into its own query language, in `index/`:
SQL over the catalog (index/sql_filter.py) and Chroma `where` clauses (index/chroma_filter.py).
`Filter.matches` is the reference meaning both translations keep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any, Iterable, Mapping, Sequence

from core.errors import SearchOptionError

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RANGE = re.compile(r"^\s*(-?\d+)\s*-\s*(-?\d+)\s*$")
GLOB_CHARS = frozenset("*?[")
# The key of a folder condition: not a metadata key but the folder (its path as the index records
# it) that a chunk's file was ingested from. `Filter.matches` reads it from the metadata it is given.
FOLDER_KEY = "folder"


@dataclass(frozen=True)
class Condition:
    key: str
    values: tuple[Any, ...]  # alternatives; a (low, high) tuple is a range of numbers
    paths: bool = False  # the values are files, folders or globs (source=), not exact values
    folders: bool = False  # the values are ingested folders (within_folders): the files' root, not metadata

    @property
    def by_file(self) -> bool:
        """Whether the catalog resolves it into the files it allows before a store sees it."""
        return self.paths or self.folders


def is_glob(value: str) -> bool:
    return bool(GLOB_CHARS & set(value))


@dataclass(frozen=True)
class Filter:
    conditions: tuple[Condition, ...]

    def matches(self, meta: Mapping[str, Any]) -> bool:
        """Whether a chunk's metadata passes: the same rules as the SQL and Chroma forms."""
        return all(_condition_matches(c, meta) for c in self.conditions)

    def describe(self) -> str:
        return " and ".join(f"{c.key}={'|'.join(_show(v) for v in c.values)}" for c in self.conditions)

    @property
    def path_conditions(self) -> tuple[Condition, ...]:
        """The conditions on files (source globs and folders, readable folders): the catalog resolves
        them into the sources they allow."""
        return tuple(c for c in self.conditions if c.by_file)

    def with_exact_sources(self, sources: Sequence[str]) -> "Filter":
        """This filter with its path conditions replaced by one exact list of sources (the files they
        match, resolved by the catalog): the form a store that matches exact values only can take."""
        others = tuple(c for c in self.conditions if not c.by_file)
        return replace(self, conditions=(Condition("source", tuple(sources)), *others))


def _show(value: Any) -> str:
    return f"{value[0]}-{value[1]}" if isinstance(value, tuple) else str(value)


def _condition_matches(cond: Condition, meta: Mapping[str, Any]) -> bool:
    value = meta.get(cond.key)
    if value is None:
        return False
    if cond.folders:
        return value in cond.values
    for wanted in cond.values:
        if cond.paths:
            source = str(value)
            if is_glob(wanted):
                if fnmatchcase(source, wanted):
                    return True
            elif source == wanted or source.startswith(wanted.rstrip("/") + "/"):
                return True
        elif isinstance(wanted, tuple):
            if isinstance(value, (int, float)) and not isinstance(value, bool) and wanted[0] <= value <= wanted[1]:
                return True
        elif value == wanted and type(value) is type(wanted):
            return True
    return False


def _typed(raw: str) -> Any:
    """Metadata keeps numbers as numbers; "3" must match page 3."""
    text = raw.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def _condition(key: str, raw_values: Sequence[Any]) -> Condition:
    if not _KEY.match(key):
        raise SearchOptionError(
            f"--where: {key!r} is not a metadata key. Use KEY=VALUE, e.g. --where 'source=contracts/*'."
        )
    values: list[Any] = []
    for raw in raw_values:
        if key == "source":
            text = str(raw).strip()
            if not text:
                raise SearchOptionError("--where source= needs a path or a glob, e.g. --where 'source=contracts/*'.")
            values.append(text.replace("\\", "/"))
        elif key == "page" and isinstance(raw, str) and _RANGE.match(raw):
            low, high = (int(x) for x in _RANGE.match(raw).groups())
            values.append((min(low, high), max(low, high)))
        else:
            values.append(_typed(raw) if isinstance(raw, str) else raw)
    if not values:
        raise SearchOptionError(f"--where {key}= has no value.")
    return Condition(key, tuple(values), paths=key == "source")


def parse_where(where: str | Iterable[str] | Mapping[str, Any] | Filter | None) -> Filter | None:
    """A Filter from CLI text ("source=a/*", several allowed), a {key: value} mapping, or None."""
    if where is None or isinstance(where, Filter):
        return where
    conditions: list[Condition] = []
    if isinstance(where, Mapping):
        for key, value in where.items():
            if isinstance(value, Mapping):
                raise SearchOptionError(
                    f"filter on {key!r}: operators are not supported; give a value or a list of values."
                )
            conditions.append(_condition(str(key), list(value) if isinstance(value, (list, tuple, set)) else [value]))
    else:
        for text in [where] if isinstance(where, str) else list(where):
            if "=" not in text:
                raise SearchOptionError(
                    f"--where {text!r}: use KEY=VALUE, e.g. --where 'source=contracts/*' or --where 'page=3'."
                )
            key, _, value = text.partition("=")
            conditions.append(_condition(key.strip(), [v for v in value.split("|") if v.strip()]))
    return Filter(tuple(conditions)) if conditions else None


def within_folders(flt: Filter | None, folders: Iterable[str]) -> Filter:
    """`flt` (or no filter) restricted to chunks of files ingested from one of `folders` (their paths
    as the index records them); no folders: a filter that nothing passes."""
    condition = Condition(FOLDER_KEY, tuple(sorted(set(folders))), folders=True)
    return Filter((*(flt.conditions if flt is not None else ()), condition))
