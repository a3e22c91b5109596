"""Metadata filters: restrict a search to some files, pages or other metadata.

    source=contracts/*          a glob on the path relative to the ingested folder
    source=contracts            a folder (everything under it) or one file
    source=*.pdf|*.docx         alternatives, separated by |
    page=3   page=3-7           a page, or a range of pages
    sheet=Q3                    any other metadata key, exact value

Several conditions are all required. The same filter becomes a SQL predicate over the
catalog (for BM25) and Chroma `where` clauses (for dense search). Chroma matches only
exact values, so a source glob is resolved against the catalog into the list of matching
sources first, sent in batches so that any number of files works.
"""
from __future__ import annotations

import re
import sqlite3
from fnmatch import fnmatchcase
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from retrieval.errors import SearchOptionError

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RANGE = re.compile(r"^\s*(-?\d+)\s*-\s*(-?\d+)\s*$")
_GLOB_CHARS = set("*?[")
# Sources per Chroma query when a glob matches many files.
SOURCE_BATCH = 1000


@dataclass(frozen=True)
class Condition:
    key: str
    values: tuple[Any, ...]  # alternatives; for "page" a value may be a (low, high) range


@dataclass(frozen=True)
class Filter:
    conditions: tuple[Condition, ...]

    def matches(self, meta: Mapping[str, Any]) -> bool:
        """Whether a chunk's metadata passes: the same rules as the SQL and Chroma forms."""
        return all(_condition_matches(c, meta) for c in self.conditions)

    def describe(self) -> str:
        return " and ".join(f"{c.key}={'|'.join(_show(v) for v in c.values)}" for c in self.conditions)


@dataclass(frozen=True)
class SqlFilter:
    """A predicate over `chunks AS c`, with its parameters."""

    sql: str
    params: tuple[Any, ...]


def _show(value: Any) -> str:
    return f"{value[0]}-{value[1]}" if isinstance(value, tuple) else str(value)


def _condition_matches(cond: Condition, meta: Mapping[str, Any]) -> bool:
    value = meta.get(cond.key)
    if value is None:
        return False
    for wanted in cond.values:
        if cond.key == "source":
            source = str(value)
            if _GLOB_CHARS & set(wanted):
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
        raise SearchOptionError(f"--where: {key!r} is not a metadata key. Use KEY=VALUE, e.g. --where 'source=contracts/*'.")
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
    return Condition(key, tuple(values))


def parse_where(where: str | Iterable[str] | Mapping[str, Any] | Filter | None) -> Filter | None:
    """A Filter from CLI text ("source=a/*", several allowed), a {key: value} mapping, or None."""
    if where is None or isinstance(where, Filter):
        return where
    conditions: list[Condition] = []
    if isinstance(where, Mapping):
        for key, value in where.items():
            if isinstance(value, Mapping):
                raise SearchOptionError(f"filter on {key!r}: operators are not supported; give a value or a list of values.")
            conditions.append(_condition(str(key), list(value) if isinstance(value, (list, tuple, set)) else [value]))
    else:
        for text in [where] if isinstance(where, str) else list(where):
            if "=" not in text:
                raise SearchOptionError(f"--where {text!r}: use KEY=VALUE, e.g. --where 'source=contracts/*' or --where 'page=3'.")
            key, _, value = text.partition("=")
            conditions.append(_condition(key.strip(), [v for v in value.split("|") if v.strip()]))
    return Filter(tuple(conditions)) if conditions else None


def _source_sql(values: Sequence[str]) -> tuple[str, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    for value in values:
        if _GLOB_CHARS & set(value):
            parts.append("c.source GLOB ?")
            params.append(value)
        else:  # one file, or a folder and everything under it
            parts.append("(c.source = ? OR c.source GLOB ?)")
            params.extend([value, _glob_escape(value.rstrip("/")) + "/*"])
    return "(" + " OR ".join(parts) + ")", params


def _glob_escape(text: str) -> str:
    return "".join(f"[{ch}]" if ch in _GLOB_CHARS else ch for ch in text)


def to_sql(flt: Filter) -> SqlFilter:
    parts: list[str] = []
    params: list[Any] = []
    for cond in flt.conditions:
        if cond.key == "source":
            sql, p = _source_sql(cond.values)
            parts.append(sql)
            params.extend(p)
            continue
        path = f"$.{cond.key}"
        alternatives = []
        for value in cond.values:
            if isinstance(value, tuple):
                alternatives.append("json_extract(c.meta, ?) BETWEEN ? AND ?")
                params.extend([path, value[0], value[1]])
            else:
                alternatives.append("json_extract(c.meta, ?) = ?")
                params.extend([path, value])
        parts.append("(" + " OR ".join(alternatives) + ")")
    return SqlFilter(" AND ".join(parts), tuple(params))


def matching_sources(conn: sqlite3.Connection, flt: Filter) -> list[str] | None:
    """The sources a filter's source condition allows; None when it has no source condition."""
    source_conds = [c for c in flt.conditions if c.key == "source"]
    if not source_conds:
        return None
    parts, params = [], []
    for cond in source_conds:
        sql, p = _source_sql(cond.values)
        parts.append(sql)
        params.extend(p)
    rows = conn.execute(f"SELECT DISTINCT c.source FROM chunks AS c WHERE {' AND '.join(parts)} ORDER BY c.source", params)
    return [row[0] for row in rows]


def _chroma_condition(cond: Condition) -> dict:
    alternatives = []
    for value in cond.values:
        if isinstance(value, tuple):
            alternatives.append({"$and": [{cond.key: {"$gte": value[0]}}, {cond.key: {"$lte": value[1]}}]})
        else:
            alternatives.append({cond.key: value})
    return alternatives[0] if len(alternatives) == 1 else {"$or": alternatives}


def _and(parts: list[dict]) -> dict | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


def to_chroma(conn: sqlite3.Connection, flt: Filter) -> list[dict | None]:
    """Chroma `where` clauses whose union is the filter: one per batch of matching sources.

    An empty list means nothing matches (no query needed).
    """
    others = [_chroma_condition(c) for c in flt.conditions if c.key != "source"]
    sources = matching_sources(conn, flt)
    if sources is None:
        return [_and(others)]
    clauses = []
    for start in range(0, len(sources), SOURCE_BATCH):
        batch = sources[start : start + SOURCE_BATCH]
        by_source = {"source": batch[0]} if len(batch) == 1 else {"source": {"$in": batch}}
        clauses.append(_and([by_source, *others]))
    return clauses
