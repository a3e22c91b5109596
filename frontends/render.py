"""How an answer reads in a terminal (ask, chat) and a report (batch Markdown), from its answer record.

Every function here takes the record of generation/record.py (a dict), never the `Answer` itself:
what a user sees and what `--json` prints cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from generation.sentences import one_line

Record = dict[str, Any]

SNIPPET_CHARS = 160


def source_lines(
    record: Record, none_cited: str = "Sources (the answer cited none; passages it was given):"
) -> list[str]:
    """'Sources:' and one line per cited passage, in passage order; what the answer rests on."""
    if record["refused"]:
        return []
    if record["sources"]:
        return ["Sources:", *(f"  [{s['n']}] {s['citation']}" for s in record["sources"])]
    if not record["passages"]:
        return []
    return [none_cited, *(f"  [{p['n']}] {p['citation']}" for p in record["passages"])]


def evidence_lines(record: Record) -> list[str]:
    """'Evidence:' and each quoted sentence with its [n], file and page: what the answer rests on, verbatim."""
    if record["refused"] or not record["evidence"]:
        return []
    return [
        "Evidence (quoted from the documents):",
        *(f'  [{e["n"]}] "{one_line(e["text"])}" ({e["citation"]})' for e in record["evidence"]),
    ]


def closest_lines(record: Record) -> list[str]:
    """A refusal's pointer: where the nearest passages are, for a reader to look ('' when none)."""
    if not record["refused"] or not record.get("closest"):
        return []
    return ["Closest passages found (they do not answer it):", *(f"  {h['citation']}" for h in record["closest"])]


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _scores(hit: Record) -> str:
    scores = f"score {hit['score']:.3f}"
    if hit.get("relevance") is not None and hit["relevance"] != hit["score"]:
        scores += f", relevance {hit['relevance']:.3f}"
    return scores


def passage_lines(record: Record) -> list[str]:
    """Every retrieved passage with its scores and the start of its text; cited ones marked with * (chat's /sources)."""
    cited = set(record["cited"])
    lines = []
    for hit in record["retrieved"]:
        mark = "*" if hit["n"] is not None and hit["n"] in cited else " "
        lines.append(f"{mark}[{hit['rank']}] {hit['citation']} ({_scores(hit)})")
        lines.append(f"     {snippet(hit['text'])}")
    return lines


def retrieved_lines(record: Record, min_score: float) -> list[str]:
    """Every retrieved passage, whole, with why it was or was not given to the model (ask --show-sources)."""
    left_out = {h["chunk_id"] for h in record["left_out"]}
    lines = [f"Retrieved passages ({len(record['retrieved'])}):"]
    for hit in record["retrieved"]:
        relevance = hit.get("relevance")
        if hit["n"] is not None:
            role = f"[{hit['n']}]"
        elif hit["chunk_id"] in left_out:
            role = "left out: no room in the context window"
        elif record["refused_by"] == "threshold" or (relevance is not None and relevance < min_score):
            role = "not given to the model: relevance below --min-score"
        else:
            role = "not given to the model: none of its sentences ranked among the best"
        shown_relevance = f", relevance {relevance:.3f}" if relevance is not None else ""
        text = (hit["passage"]["text"] if "passage" in hit else hit["text"]).strip()
        lines += [
            "",
            f"#{hit['rank']} {hit['citation']} (score {hit['score']:.3f}{shown_relevance}) {role}",
            "    " + text.replace("\n", "\n    "),
        ]
    return lines
