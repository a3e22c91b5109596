"""How an answer and a search read: in a terminal (ask, chat, search) and in batch's answer files
(Markdown, CSV), from their records.

Every function here takes the records of generation/record.py (dicts), never the `Answer` or the
hits themselves: what a user sees and what `--json` prints cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from core.display import plural
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


EVIDENCE_TITLE = "Evidence (quoted from the documents):"


def quoted(evidence: Record) -> str:
    """One evidence sentence as it is shown everywhere: [n] "the sentence" (file, page)."""
    return f'[{evidence["n"]}] "{one_line(evidence["text"])}" ({evidence["citation"]})'


def evidence_lines(record: Record) -> list[str]:
    """'Evidence:' and each quoted sentence with its [n], file and page: what the answer rests on, verbatim."""
    if record["refused"] or not record["evidence"]:
        return []
    return [EVIDENCE_TITLE, *(f"  {quoted(e)}" for e in record["evidence"])]


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


def _passage_text(hit: Record) -> str:
    return hit["passage"]["text"] if "passage" in hit else hit["text"]


def search_lines(hits: list[Record]) -> list[str]:
    """`localgpt search`: each hit (search_record) with its citation, scores and whole passage, best first."""
    if not hits:
        return ["No passages found."]
    lines = []
    for hit in hits:
        relevance = f"  relevance {hit['relevance']:.3f}" if hit.get("relevance") is not None else ""
        lines.append(f"{hit['rank']}. {hit['citation']}  (score {hit['score']:.4f}{relevance})")
        lines += [f"   {line}" for line in _passage_text(hit).strip().splitlines()]
        lines.append("")
    return lines


def markdown_answer_lines(record: Record) -> list[str]:
    """An answered question's section body in batch's Markdown report: answer, evidence, sources, a summary."""
    lines = [record.get("answer", "").strip() or "(empty answer)", ""]
    evidence = record.get("evidence") or []
    if evidence:
        lines += [EVIDENCE_TITLE, *(f"> {quoted(e)}" for e in evidence), ""]
    sources = record.get("sources") or []
    if sources:
        lines.append("Sources:")
        lines += [
            f"- [{s['n']}] {s['citation']}" + (f" (relevance {s['relevance']:.2f})" if "relevance" in s else "")
            for s in sources
        ]
        lines.append("")
    passages = record.get("passages") or []
    timings = record.get("timings") or {}
    relevances = [p["relevance"] for p in passages if "relevance" in p]
    best = f", best relevance {max(relevances):.2f}" if relevances else ""
    lines += [f"*{plural(len(passages), 'passage')} retrieved{best}; {timings.get('total_s', 0):.1f} s.*", ""]
    return lines


def csv_answer_fields(record: Record) -> dict[str, str]:
    """The columns of batch's CSV that show an answer's evidence, sources and passages."""
    sources = record.get("sources") or []
    return {
        "evidence": " | ".join(quoted(e) for e in record.get("evidence") or []),
        "sources": "; ".join(s["citation"] for s in sources),
        "source_scores": "; ".join(f"{s['score']:.4f}" for s in sources),
        "retrieved": "; ".join(f"{p['citation']} ({p['score']:.4f})" for p in record.get("passages") or []),
    }
