"""A `Filter` (core/filters.py) in Chroma's language: `where` clauses (the same for an on-disk
Chroma and a Chroma server). Chroma matches exact values only, so a filter's path conditions
(source globs and folders) must be resolved to exact sources first (`Filter.with_exact_sources`)."""

from __future__ import annotations

from typing import Any, Sequence

from core.filters import Condition, Filter


def _condition(cond: Condition) -> dict[str, Any]:
    if cond.by_file:
        raise ValueError(
            f"Chroma cannot match the path condition {cond.key}={'|'.join(cond.values)}: "
            "resolve it to exact sources first (Filter.with_exact_sources)"
        )
    alternatives = []
    for value in cond.values:
        if isinstance(value, tuple):
            alternatives.append({"$and": [{cond.key: {"$gte": value[0]}}, {cond.key: {"$lte": value[1]}}]})
        else:
            alternatives.append({cond.key: value})
    if cond.key == "source" and len(cond.values) > 1:
        return {"source": {"$in": list(cond.values)}}
    return alternatives[0] if len(alternatives) == 1 else {"$or": alternatives}


def chroma_where(flt: Filter | None) -> dict[str, Any] | None:
    """The Chroma `where` clause of a filter; None for no filter."""
    if flt is None or not flt.conditions:
        return None
    parts = [_condition(c) for c in flt.conditions]
    return parts[0] if len(parts) == 1 else {"$and": parts}


def sources_where(sources: Sequence[str]) -> dict[str, Any]:
    """Chunks of any of these files (deleting or listing a file's vectors)."""
    return {"source": {"$in": list(sources)}} if len(sources) > 1 else {"source": sources[0]}
