"""A `Filter` (core/filters.py) in PostgreSQL's language: a predicate over a row with a `source`
column and the chunk's metadata as `meta jsonb`, with psycopg's `%s` parameters.

The rules are `Filter.matches`'s: a value matches one of the same JSON type (page 3 is not "3",
true is not 1), a range matches numbers only (never booleans), a missing key matches nothing.
Path conditions (source globs and folders) are resolved to exact sources by the catalog first
(`Filter.with_exact_sources`), as for Chroma.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.filters import Condition, Filter


@dataclass(frozen=True)
class PgFilter:
    """A predicate for a WHERE clause, with its parameters in order."""

    sql: str
    params: tuple[Any, ...]


def _condition(cond: Condition) -> tuple[str, list[Any]]:
    if cond.paths:
        raise ValueError(
            f"the vector store cannot match the path condition {cond.key}={'|'.join(cond.values)}: "
            "resolve it to exact sources first (Filter.with_exact_sources)"
        )
    if cond.key == "source" and not any(isinstance(v, tuple) for v in cond.values):
        return "source = ANY(%s)", [[str(v) for v in cond.values]]
    alternatives, params = [], []
    for value in cond.values:
        if isinstance(value, tuple):
            # CASE keeps the cast from ever seeing a string: AND does not order its operands in SQL.
            alternatives.append(
                "(CASE WHEN jsonb_typeof(meta -> %s) = 'number' THEN (meta ->> %s)::float8 END) BETWEEN %s AND %s"
            )
            params.extend([cond.key, cond.key, float(value[0]), float(value[1])])
        else:
            # jsonb equality compares numbers as numbers; the type check keeps 1 from matching 1.0 or true.
            alternatives.append("(meta -> %s = %s::jsonb AND jsonb_typeof(meta -> %s) = %s)")
            params.extend([cond.key, json.dumps(value), cond.key, _json_type(value)])
    return "(" + " OR ".join(alternatives) + ")", params


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


def pg_where(flt: Filter | None) -> PgFilter | None:
    """The WHERE predicate of a filter; None for no filter."""
    if flt is None or not flt.conditions:
        return None
    parts, params = [], []
    for cond in flt.conditions:
        sql, p = _condition(cond)
        parts.append(sql)
        params.extend(p)
    return PgFilter(" AND ".join(parts), tuple(params))
