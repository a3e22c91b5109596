"""What a search is asked (`SearchRequest`), what it uses of the settings (`SearchOptions`), and the
two resolved and validated into one `Plan`: the one place a request is checked (mode, filter, its keys)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import SearchOptionError
from core.filters import Filter, parse_where, within_folders
from core.settings import Settings
from retrieval.fusion import FUSIONS

MODES = ("dense", "bm25", "hybrid")
# Candidates each list contributes to hybrid fusion (or hands to the reranker / MMR).
FUSION_CANDIDATES = 50
RERANK_CANDIDATES = 30
MMR_CANDIDATES = 30


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise SearchOptionError(f"Unknown search mode {mode!r}. Use one of: {', '.join(MODES)}.")
    return mode


def check_fusion(fusion: str, bm25_weight: float) -> None:
    if fusion not in FUSIONS:
        raise SearchOptionError(f"Unknown fusion {fusion!r}. Use one of: {', '.join(FUSIONS)}.")
    if not 0.0 <= bm25_weight <= 1.0:
        raise SearchOptionError(f"--bm25-weight {bm25_weight} is outside 0..1.")


@dataclass(frozen=True)
class SearchOptions:
    """What retrieval uses of the settings: defaults for each request, and how to fuse and widen."""

    k: int = 6
    mode: str = "hybrid"
    fusion: str = "convex"
    bm25_weight: float = 0.5
    passage_chars: int = 2000  # 0: hits are the matched chunks alone
    mmr: bool = False
    reranker: str = ""  # a local cross-encoder folder; empty: no reranking
    device: str = "auto"  # where the reranker runs

    @classmethod
    def of(cls, settings: Settings) -> "SearchOptions":
        return cls(
            k=settings.k,
            mode=settings.search_mode,
            fusion=settings.fusion,
            bm25_weight=settings.bm25_weight,
            passage_chars=settings.passage_chars,
            mmr=settings.mmr,
            reranker=settings.reranker,
            device=settings.device,
        )

    def check(self) -> "SearchOptions":
        check_mode(self.mode)
        check_fusion(self.fusion, self.bm25_weight)
        return self


@dataclass(frozen=True)
class SearchRequest:
    """What to search for, and how; None takes the options' value.

    `where`: a filter ("source=contracts/*", a list of such, {key: value}, or a core.filters.Filter).
    `mode`: dense, bm25 or hybrid. `rerank`: by default when a reranker is set.
    `folders`: the only folders (as the index records them) the search may read: a caller's
    permissions, applied inside the index's queries with `where`; None: every folder.
    """

    question: str
    k: int | None = None
    where: Any = None
    mode: str | None = None
    mmr: bool | None = None
    rerank: bool | None = None
    folders: frozenset[str] | None = None


@dataclass(frozen=True)
class Plan:
    """A request resolved against the options: every step reads what it needs from here.

    `depth`: candidates kept after fusion (spares for hits left out inside a better hit's passage, and
    enough for the reranker or MMR to choose from); `pool`: how many each list gathers."""

    question: str
    k: int
    mode: str
    where: Filter | None
    mmr: bool
    rerank: bool
    passage_chars: int
    fusion: str
    bm25_weight: float
    depth: int
    pool: int

    @property
    def dense(self) -> bool:
        return self.mode in ("dense", "hybrid")

    @property
    def lexical(self) -> bool:
        return self.mode in ("bm25", "hybrid")


def plan(request: SearchRequest, options: SearchOptions) -> Plan:
    """The request with the options' defaults filled in; raises SearchOptionError for what cannot run
    (a mode or filter that does not parse, reranking without a reranker)."""
    k = request.k or options.k
    mode = check_mode(request.mode or options.mode)
    use_mmr = options.mmr if request.mmr is None else request.mmr
    use_rerank = bool(options.reranker) if request.rerank is None else request.rerank
    if use_rerank and not options.reranker:
        raise SearchOptionError("Reranking needs a cross-encoder: pass --reranker PATH to a local model folder.")
    where = parse_where(request.where)
    if request.folders is not None:
        where = within_folders(where, request.folders)
    widen = options.passage_chars > 0
    depth = 2 * k if widen else k  # hits inside a better hit's passage are left out: keep spares
    if use_rerank:
        depth = max(depth, RERANK_CANDIDATES)
    if use_mmr:
        depth = max(depth, MMR_CANDIDATES)
    pool = max(depth, FUSION_CANDIDATES) if mode == "hybrid" else depth
    return Plan(
        request.question,
        k,
        mode,
        where,
        use_mmr,
        use_rerank,
        options.passage_chars,
        options.fusion,
        options.bm25_weight,
        depth,
        pool,
    )
