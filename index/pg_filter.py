"""A `Filter` (core/filters.py) in PostgreSQL's language: a predicate over a row with a `source`
column and the chunk's metadata as `meta jsonb`, with psycopg's `%s` parameters.

The rules are `Filter.matches`'s: a value matches one of the same JSON type (page 3 is not "3",
true is not 1), a range matches numbers only (never booleans), a missing key matches nothing.
The vector table gets path conditions (source globs and folders) resolved to exact sources first
(`Filter.with_exact_sources`), as Chroma does; the catalog's chunks table matches them itself
(`paths=True`): a glob as an anchored regular expression, a folder as a prefix.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from core.filters import Condition, Filter, is_glob


@dataclass(frozen=True)
class PgFilter:
    """A predicate for a WHERE clause, with its parameters in order."""

    sql: str
    params: tuple[Any, ...]


def glob_regex(glob: str) -> str:
    """An fnmatch glob (`*` and `?` cross `/`, `[seq]`, `[!seq]`) as an anchored POSIX regular
    expression, read as `fnmatch.translate` reads it."""
    out, i, n = ["^"], 0, len(glob)
    while i < n:
        ch = glob[i]
        i += 1
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            j = i + (i < n and glob[i] == "!")
            j += j < n and glob[j] == "]"
            while j < n and glob[j] != "]":
                j += 1
            if j >= n:  # no closing bracket: a literal "["
                out.append("\\[")
                continue
            body, i = glob[i:j], j + 1
            body = body.replace("\\", "\\\\")
            if body.startswith("!"):
                body = "^" + body[1:]
            elif body.startswith("^"):
                body = "\\" + body
            out.append(f"[{body}]")
        else:
            out.append(re.escape(ch))
    return "".join(out) + "$"


def _paths(column: str, values: tuple[Any, ...]) -> tuple[str, list[Any]]:
    parts, params = [], []
    for value in values:
        if is_glob(value):
            parts.append(f"{column} ~ %s")
            params.append(glob_regex(value))
        else:  # one file, or a folder and everything under it
            parts.append(f"({column} = %s OR starts_with({column}, %s))")
            params.extend([value, value.rstrip("/") + "/"])
    return "(" + " OR ".join(parts) + ")", params


def _folders(alias: str, values: tuple[Any, ...], files: str) -> tuple[str, list[Any]]:
    """Rows of files ingested from one of `values` (their root): through the table `files`, or, with
    `files` "", over a row of that table itself. No folders: nothing passes."""
    if not values:
        return "false", []
    if not files:
        return f"{alias}root = ANY(%s)", [list(values)]
    return f"{alias}source IN (SELECT f.source FROM {files} AS f WHERE f.root = ANY(%s))", [list(values)]


def _condition(cond: Condition, alias: str, paths: bool, files: str) -> tuple[str, list[Any]]:
    source, meta = f"{alias}source", f"{alias}meta"
    if cond.folders and paths:
        return _folders(alias, cond.values, files)
    if cond.paths and paths:
        return _paths(source, cond.values)
    if cond.by_file:
        raise ValueError(
            f"the vector store cannot match the path condition {cond.key}={'|'.join(cond.values)}: "
            "resolve it to exact sources first (Filter.with_exact_sources)"
        )
    if cond.key == "source" and not any(isinstance(v, tuple) for v in cond.values):
        return f"{source} = ANY(%s)", [[str(v) for v in cond.values]]
    alternatives, params = [], []
    for value in cond.values:
        if isinstance(value, tuple):
            # CASE keeps the cast from ever seeing a string: AND does not order its operands in SQL.
            alternatives.append(
                f"(CASE WHEN jsonb_typeof({meta} -> %s) = 'number' THEN ({meta} ->> %s)::float8 END) BETWEEN %s AND %s"
            )
            params.extend([cond.key, cond.key, float(value[0]), float(value[1])])
        else:
            # jsonb equality compares numbers as numbers; the type check keeps 1 from matching 1.0 or true.
            alternatives.append(f"({meta} -> %s = %s::jsonb AND jsonb_typeof({meta} -> %s) = %s)")
            params.extend([cond.key, json.dumps(value), cond.key, _json_type(value)])
    return "(" + " OR ".join(alternatives) + ")", params


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


def pg_where(flt: Filter | None, alias: str = "", paths: bool = False, files: str = "") -> PgFilter | None:
    """The WHERE predicate of a filter over `<alias>source` and `<alias>meta`; None for no filter.
    `paths`: match globs and folders here (the catalog), else they must be exact sources already.
    `files`: the catalog's files table, through which a readable-folders condition is matched ("":
    the row is a file's own, with its `root`)."""
    if flt is None or not flt.conditions:
        return None
    parts, params = [], []
    for cond in flt.conditions:
        sql, p = _condition(cond, alias, paths, files)
        parts.append(sql)
        params.extend(p)
    return PgFilter(" AND ".join(parts), tuple(params))
