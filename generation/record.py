"""The answer record: one plain dict that every front end shows an answer from.

`ask --json` prints it, `batch` writes it (JSONL as it is; CSV and Markdown rendered from it),
`chat`'s `/sources` lists its `retrieved` hits, and the server returns it. docs/answer-record.md
describes each key and docs/answer.schema.json is its JSON Schema; tests validate outputs against it.
"""

from __future__ import annotations

from typing import Any

from core.types import Hit
from generation.answer import Answer

SCHEMA_VERSION = 1


def hit_record(hit: Hit, **more: Any) -> dict[str, Any]:
    """One hit, with the same keys wherever it appears (sources, passages, retrieved, left_out, search)."""
    return {**more, **hit.to_json()}


def search_record(hits: list[Hit]) -> list[dict[str, Any]]:
    """What a search returns (`search --json`, the server's /api/search): its hits, ranked from 1."""
    return [hit_record(hit, rank=n) for n, hit in enumerate(hits, start=1)]


def answer_record(result: Answer) -> dict[str, Any]:
    """Everything known about one answer, as JSON-ready data (see the module docstring)."""
    number = {h.chunk.id: n for n, h in enumerate(result.passages, start=1)}
    excerpts = result.excerpts
    passages = [
        hit_record(h, n=n, **({"excerpt": excerpts[n - 1]} if n <= len(excerpts) else {}))
        for n, h in enumerate(result.passages, start=1)
    ]
    return {
        "schema_version": SCHEMA_VERSION,
        "question": result.question,
        "answer": result.text,
        "answer_method": result.answer_method,
        "refused": result.refused,
        "refused_by": result.refused_by,
        "citation_method": result.citation_method,
        "cited": sorted(result.cited),
        "evidence": [{**e.to_json(), "citation": result.passages[e.n - 1].chunk.citation()} for e in result.evidence],
        "sources": [passages[n - 1] for n in sorted(result.cited)],  # the cited passages, as listed there
        "passages": passages,
        "retrieved": [hit_record(h, rank=rank, n=number.get(h.chunk.id)) for rank, h in enumerate(result.retrieved, 1)],
        "left_out": [hit_record(h) for h in result.left_out],
        "closest": [hit_record(h) for h in result.closest],
        "unsupported_figures": list(result.unsupported),
        "invalid_markers": list(result.invalid_markers),
        "withheld": result.withheld,
        "generated": result.generated,
        "interrupted": result.interrupted,
        "prompt_tokens": result.prompt_tokens,
        "timings": {k: round(v, 4) for k, v in result.timings.items()},
    }
