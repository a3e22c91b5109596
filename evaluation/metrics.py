"""Retrieval metrics for one question, from the ranked chunks a search returned.

A question has a set of things to find:
- qrels: each relevant document (or chunk id) is one thing; a chunk finds a document when
  its source is that path (or ends with /path) or its id is that id.
- expected strings, match "any": one thing, found by the first chunk holding any string;
- expected strings, match "all": one thing, found at the rank where the chunks so far
  hold every string between them.
Text is compared case-insensitively with whitespace runs collapsed.

recall@k: share of the things found in the top k. MRR@10: 1 / rank of the first find.
nDCG@10: binary gain at the rank where each thing is first found, over the ideal
(all things at the top ranks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from core.types import Chunk
from evaluation.qa import QAItem

CUTOFFS = (1, 5, 10)


def normalise(text: str) -> str:
    return " ".join(text.split()).lower()


def _matches(chunk: Chunk, ref: str) -> bool:
    ref = ref.replace("\\", "/")
    return chunk.id == ref or chunk.source == ref or chunk.source.endswith("/" + ref.lstrip("/"))


def find_ranks(item: QAItem, chunks: Sequence[Chunk], texts: Sequence[str] | None = None) -> tuple[list[int], int]:
    """(ranks, 1-based, at which each thing to find was first found; how many things there are).

    `texts`: what the user reads of each hit (its widened passage); the chunks' own texts by default."""
    if item.qrels:
        ranks = []
        for ref in item.qrels:
            rank = next((r for r, c in enumerate(chunks, start=1) if _matches(c, ref)), None)
            if rank is not None:
                ranks.append(rank)
        return sorted(ranks), len(item.qrels)
    wanted = [normalise(s) for s in item.expected]
    missing = set(wanted)
    for rank, chunk in enumerate(chunks, start=1):
        text = normalise(texts[rank - 1] if texts is not None else chunk.text)
        held = {w for w in wanted if w in text}
        if item.match == "any" and held:
            return [rank], 1
        missing -= held
        if item.match == "all" and not missing:
            return [rank], 1
    return [], 1


@dataclass(frozen=True)
class QuestionScore:
    recall: dict[int, float]
    mrr: float
    ndcg: float


def score_question(
    item: QAItem, chunks: Sequence[Chunk], depth: int = 10, texts: Sequence[str] | None = None
) -> QuestionScore:
    ranks, total = find_ranks(item, chunks, texts)
    recall = {k: sum(1 for r in ranks if r <= k) / total for k in CUTOFFS}
    within = [r for r in ranks if r <= depth]
    mrr = 1.0 / within[0] if within else 0.0
    dcg = sum(1.0 / math.log2(r + 1) for r in within)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(total, depth) + 1))
    return QuestionScore(recall, mrr, dcg / ideal if ideal else 0.0)


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
