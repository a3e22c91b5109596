"""Run a question set against the open index in several retrieval modes and summarise."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

from evaluation.metrics import CUTOFFS, percentile, score_question
from evaluation.qa import QAItem
from core.display import plural
from core.errors import SearchOptionError
from retrieval.retriever import MODES, Retriever, SearchRequest

DEPTH = 10


@dataclass(frozen=True)
class ModeSpec:
    """A mode as the eval names it: 'hybrid', 'hybrid+rerank', 'dense+mmr', ..."""

    name: str
    mode: str
    rerank: bool = False
    mmr: bool = False

    @classmethod
    def parse(cls, name: str) -> "ModeSpec":
        base, *extras = name.strip().split("+")
        if base not in MODES or any(e not in ("rerank", "mmr") for e in extras):
            raise SearchOptionError(
                f"Unknown eval mode {name!r}. Use dense, bm25 or hybrid, optionally with +rerank and/or +mmr."
            )
        return cls(name.strip(), base, "rerank" in extras, "mmr" in extras)

    def request(self, question: str, k: int, where=None) -> SearchRequest:
        return SearchRequest(question, k, where, mode=self.mode, mmr=self.mmr, rerank=self.rerank)


def default_modes(has_reranker: bool) -> list[str]:
    return [*MODES, "hybrid+rerank"] if has_reranker else list(MODES)


@dataclass
class ModeResult:
    name: str
    recall: dict[int, float]
    mrr: float
    ndcg: float
    latencies_ms: list[float] = field(repr=False)
    missed: list[str] = field(default_factory=list)  # ids of questions not found in the top 10
    passage_chars: float = 0.0  # mean characters of the text a hit shows (its passage), over all hits returned

    def to_json(self) -> dict:
        return {
            **{f"recall@{k}": round(v, 4) for k, v in self.recall.items()},
            "mrr@10": round(self.mrr, 4),
            "ndcg@10": round(self.ndcg, 4),
            "mean_passage_chars": round(self.passage_chars, 1),
            "latency_ms": {
                "p50": round(percentile(self.latencies_ms, 50), 2),
                "p95": round(percentile(self.latencies_ms, 95), 2),
            },
            "missed": self.missed,
        }


@dataclass
class EvalReport:
    questions: int
    modes: list[ModeResult]
    embed_ms: list[float] = field(repr=False)

    def to_json(self) -> dict:
        return {
            "questions": self.questions,
            "depth": DEPTH,
            "query_embedding_ms": {
                "p50": round(percentile(self.embed_ms, 50), 2),
                "p95": round(percentile(self.embed_ms, 95), 2),
            },
            "modes": {m.name: m.to_json() for m in self.modes},
        }

    def table(self) -> str:
        head = f"{'mode':<16}{'R@1':>7}{'R@5':>7}{'R@10':>7}{'MRR@10':>8}{'nDCG@10':>9}{'chars':>7}{'p50 ms':>9}{'p95 ms':>9}"
        rows = [head]
        for m in self.modes:
            rows.append(
                f"{m.name:<16}"
                + "".join(f"{m.recall[k]:>7.3f}" for k in CUTOFFS)
                + f"{m.mrr:>8.3f}{m.ndcg:>9.3f}{m.passage_chars:>7.0f}"
                f"{percentile(m.latencies_ms, 50):>9.1f}{percentile(m.latencies_ms, 95):>9.1f}"
            )
        rows.append(
            f"{plural(self.questions, 'question')}, scored on the passages shown (chars: their mean length). "
            "Latency is retrieval alone; embedding the question took "
            f"p50 {percentile(self.embed_ms, 50):.1f} ms, p95 {percentile(self.embed_ms, 95):.1f} ms more."
        )
        return "\n".join(rows)


def evaluate(
    retriever: Retriever,
    items: Sequence[QAItem],
    modes: Sequence[str],
    where=None,
    on_question: Callable[[int], None] | None = None,
) -> EvalReport:
    """Each question embedded once, then searched in every mode (top 10)."""
    specs = [ModeSpec.parse(m) for m in modes]
    if items:  # warm-up, not timed: models load, caches fill
        vector = retriever.embedder.embed_query(items[0].question)
        for spec in specs:
            retriever.run(spec.request(items[0].question, DEPTH, where), vector)
    scores = {s.name: [] for s in specs}
    latencies = {s.name: [] for s in specs}
    missed = {s.name: [] for s in specs}
    chars = {s.name: [] for s in specs}
    embed_ms = []
    for n, item in enumerate(items, start=1):
        started = time.perf_counter()
        vector = retriever.embedder.embed_query(item.question)
        embed_ms.append((time.perf_counter() - started) * 1000)
        for spec in specs:
            started = time.perf_counter()
            hits = retriever.run(spec.request(item.question, DEPTH, where), vector)
            latencies[spec.name].append((time.perf_counter() - started) * 1000)
            texts = [h.text for h in hits]
            chars[spec.name].extend(len(t) for t in texts)
            score = score_question(item, [h.chunk for h in hits], DEPTH, texts)
            scores[spec.name].append(score)
            if score.recall[10] == 0:
                missed[spec.name].append(item.id)
        if on_question:
            on_question(n)
    results = []
    count = max(len(items), 1)
    for spec in specs:
        s = scores[spec.name]
        results.append(
            ModeResult(
                spec.name,
                {k: sum(q.recall[k] for q in s) / count for k in CUTOFFS},
                sum(q.mrr for q in s) / count,
                sum(q.ndcg for q in s) / count,
                latencies[spec.name],
                missed[spec.name],
                sum(chars[spec.name]) / max(len(chars[spec.name]), 1),
            )
        )
    return EvalReport(len(items), results, embed_ms)
