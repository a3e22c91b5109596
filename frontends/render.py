"""How answers and their passages read in a terminal (chat) and a report (batch Markdown)."""
from __future__ import annotations

from core.types import Hit
from generation import Answer

SNIPPET_CHARS = 160


def source_lines(result: Answer) -> list[str]:
    """'Sources:' and one line per cited passage, in passage order; what the answer rests on."""
    if result.refused:
        return []
    if result.cited:
        return ["Sources:", *(f"  [{n}] {result.passages[n - 1].chunk.citation()}" for n in sorted(result.cited))]
    if not result.passages:
        return []
    return [
        "Sources (the answer cited none; passages it was given):",
        *(f"  [{n}] {hit.chunk.citation()}" for n, hit in enumerate(result.passages, start=1)),
    ]


def evidence_lines(result: Answer) -> list[str]:
    """'Evidence:' and each quoted sentence with its [n], file and page: what the answer rests on, verbatim."""
    if result.refused or not result.evidence:
        return []
    return ["Evidence (quoted from the documents):",
            *(f'  [{e.n}] "{e.quote()}" ({result.passages[e.n - 1].chunk.citation()})' for e in result.evidence)]


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def passage_lines(hits: list[Hit], cited: list[int] = ()) -> list[str]:
    """Every passage with its scores and the start of its text; cited ones marked with *."""
    lines = []
    for n, hit in enumerate(hits, start=1):
        mark = "*" if n in cited else " "
        scores = f"score {hit.score:.3f}"
        if hit.relevance is not None and hit.relevance != hit.score:
            scores += f", relevance {hit.relevance:.3f}"
        lines.append(f"{mark}[{n}] {hit.chunk.citation()} ({scores})")
        lines.append(f"     {snippet(hit.chunk.text)}")
    return lines
