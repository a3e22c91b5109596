"""Finding passages for a question: dense, BM25 or hybrid, then optional reranking and MMR.

question -> embed once
  dense:  nearest vectors (Chroma)                      score = cosine
  bm25:   FTS5 bm25() over the catalog                  score = -bm25 (higher is better)
  hybrid: both candidate lists fused (fusion.py)        score = fused score
-> reranker (cross-encoder, optional)                   score = the reranker's
-> MMR (optional): reorders for diversity, keeps the scores above
-> passages (small-to-big, passages.py): each hit widened with its neighbours; a hit
   already inside a better hit's passage is left out (its text is shown there)
-> top k, each with `relevance` = cosine to the question, whatever the mode
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.errors import SearchOptionError
from core.filters import parse_where
from core.settings import Settings
from core.types import Chunk, Hit
from embeddings import Embedder, load_embedder
from index import Index, open_index
from index.lexical import bm25_search
from index.store import IndexInfo
from retrieval.dense import cosine_to, dense_search
from retrieval.fusion import FUSIONS, fuse
from retrieval.mmr import mmr_order
from retrieval.passages import passages_for
from retrieval.rerank import Reranker

log = logging.getLogger(__name__)

MODES = ("dense", "bm25", "hybrid")
# Candidates each list contributes to hybrid fusion (or hands to the reranker / MMR).
FUSION_CANDIDATES = 50
RERANK_CANDIDATES = 30
MMR_CANDIDATES = 30


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise SearchOptionError(f"Unknown search mode {mode!r}. Use one of: {', '.join(MODES)}.")
    return mode


def check_fusion(settings: Settings) -> None:
    if settings.fusion not in FUSIONS:
        raise SearchOptionError(f"Unknown fusion {settings.fusion!r}. Use one of: {', '.join(FUSIONS)}.")
    if not 0.0 <= settings.bm25_weight <= 1.0:
        raise SearchOptionError(f"--bm25-weight {settings.bm25_weight} is outside 0..1.")


@dataclass(frozen=True)
class SearchRequest:
    """What to search for, and how; None takes the settings' value.

    `where`: a filter ("source=contracts/*", a list of such, {key: value}, or a core.filters.Filter).
    `mode`: dense, bm25 or hybrid. `rerank`: by default when a reranker is set.
    """

    question: str
    k: int | None = None
    where: Any = None
    mode: str | None = None
    mmr: bool | None = None
    rerank: bool | None = None


@dataclass
class _Candidate:
    chunk: Chunk
    score: float
    relevance: float | None = None


@dataclass
class Retriever:
    """An open index and the embedder that built it; reused across questions (chat, batch)."""

    index: Index
    embedder: Embedder
    settings: Settings
    _reranker: Reranker | None = field(default=None, repr=False)
    _worker: Any = field(default=None, repr=False)  # one thread for the vector search of hybrid mode

    def search(
        self,
        question: str,
        k: int | None = None,
        where: Any = None,
        *,
        mode: str | None = None,
        mmr: bool | None = None,
        rerank: bool | None = None,
    ) -> list[Hit]:
        """The k best passages for `question`, best first: `run` of a `SearchRequest` with these fields."""
        return self.run(SearchRequest(question, k, where, mode, mmr, rerank))

    def run(self, request: SearchRequest, vector: np.ndarray | None = None) -> list[Hit]:
        """The passages a request asks for, best first; `vector` is the question's embedding when the
        caller has it already (evaluation times retrieval apart from embedding; the answer reuses it)."""
        question, where = request.question, request.where
        if vector is None:
            vector = self.embedder.embed_query(question)
        k = request.k or self.settings.k
        mode = check_mode(request.mode or self.settings.search_mode)
        use_mmr = self.settings.mmr if request.mmr is None else request.mmr
        use_rerank = bool(self.settings.reranker) if request.rerank is None else request.rerank
        if use_rerank and not self.settings.reranker:
            raise SearchOptionError("Reranking needs a cross-encoder: pass --reranker PATH to a local model folder.")
        flt = parse_where(where)
        widen = self.settings.passage_chars > 0
        depth = 2 * k if widen else k  # hits inside a better hit's passage are left out: keep spares
        if use_rerank:
            depth = max(depth, RERANK_CANDIDATES)
        if use_mmr:
            depth = max(depth, MMR_CANDIDATES)

        conn = self.index.catalog.connection()
        pool = max(depth, FUSION_CANDIDATES) if mode == "hybrid" else depth
        matches: list = []
        pending = None
        if mode in ("dense", "hybrid"):
            if flt is None:
                # Ids and scores only: the catalog holds the text. In hybrid mode the vector search
                # runs beside BM25 (Chroma's core and SQLite both release the GIL; without a filter
                # it needs no SQLite connection, and connections stay in their thread).
                if mode == "hybrid":
                    pending = self._background().submit(self.index.vectors.query, vector, pool)
                else:
                    matches = self.index.vectors.query(vector, pool)
            else:
                matches = dense_search(self.index.vectors, self.index.catalog, vector, pool, flt)
        lexical = bm25_search(conn, question, pool, flt) if mode in ("bm25", "hybrid") else []
        if pending is not None:
            matches = pending.result()
        if matches:
            # During an ingest Chroma may briefly hold vectors the catalog does not (yet, or any
            # longer) list; only what the catalog holds is shown (see index/__init__.py).
            listed = self.index.catalog.has_ids(m.id for m in matches)
            matches = [m for m in matches if m.id in listed]

        if mode == "hybrid":
            ranked = fuse(
                [(m.id, m.score) for m in matches],
                [(m.id, m.score) for m in lexical],
                self.settings.fusion,
                self.settings.bm25_weight,
            )[:depth]
        elif mode == "dense":
            ranked = [(m.id, m.score) for m in matches[:depth]]
        else:
            ranked = [(m.id, m.score) for m in lexical[:depth]]
        chosen = self._candidates(ranked, matches, lexical)
        if use_rerank and chosen:
            scores = self.reranker().score(question, [c.chunk.text for c in chosen])
            for cand, s in zip(chosen, scores):
                cand.score = float(s)
            chosen.sort(key=lambda c: -c.score)
        vectors: dict[str, np.ndarray] = {}
        if use_mmr and chosen:
            vectors = self.index.vectors.vectors([c.chunk.id for c in chosen])
            dims = len(vector)
            matrix = np.stack([vectors.get(c.chunk.id, np.zeros(dims, dtype=np.float32)) for c in chosen])
            chosen = [chosen[i] for i in mmr_order(np.array([c.score for c in chosen]), matrix, depth if widen else k)]
        passages: list = [None] * len(chosen)
        if widen:
            chosen, passages = self._widen(chosen, k)
        chosen = chosen[:k]
        self._fill_relevance(vector, chosen, vectors)
        return [Hit(c.chunk, c.score, relevance=c.relevance, passage=p) for c, p in zip(chosen, passages)]

    def _widen(self, chosen: list[_Candidate], k: int) -> tuple[list[_Candidate], list]:
        """The first k candidates not already inside a better one's passage, with their passages."""
        kept: list[_Candidate] = []
        passages: list = []
        for cand in chosen:
            c = cand.chunk
            if any(
                o.chunk.source == c.source and p.first_index <= c.chunk_index <= p.last_index
                for o, p in zip(kept, passages)
            ):
                continue
            passages.append(passages_for(self.index.catalog, [c], self.settings.passage_chars)[0])
            kept.append(cand)
            if len(kept) == k:
                break
        return kept, passages

    def _candidates(self, ranked: list[tuple[str, float]], matches: list, lexical: list) -> list[_Candidate]:
        """The ranked ids as candidates with their chunk: from BM25's rows, else read from the catalog."""
        cosine = {m.id: m.score for m in matches}
        from_lexical = {m.id: m for m in lexical}
        by_content = {m.id: m for m in matches if m.metadata}  # a filtered dense search brings its content
        need = [cid for cid, _ in ranked if cid not in from_lexical and cid not in by_content]
        stored = self.index.catalog.get_chunks(need) if need else {}
        out = []
        for cid, score in ranked:
            if cid in from_lexical:
                m = from_lexical[cid]
                chunk = Chunk.from_metadata(cid, m.text, json.loads(m.meta))
            elif cid in by_content:
                chunk = Chunk.from_metadata(cid, by_content[cid].text, by_content[cid].metadata)
            elif cid in stored:
                chunk = stored[cid]
            else:
                continue  # gone from the catalog between the two reads (an ingest replaced its file)
            out.append(_Candidate(chunk, score, relevance=cosine.get(cid)))
        return out

    def _fill_relevance(self, vector: np.ndarray, chosen: list[_Candidate], known: dict[str, np.ndarray]) -> None:
        """Cosine to the question for hits that came from BM25 alone (read from the stored vectors)."""
        missing = [c.chunk.id for c in chosen if c.relevance is None and c.chunk.id not in known]
        stored = {**known, **(self.index.vectors.vectors(missing) if missing else {})}
        cosines = cosine_to(
            vector, {c.chunk.id: stored[c.chunk.id] for c in chosen if c.relevance is None and c.chunk.id in stored}
        )
        for c in chosen:
            if c.relevance is None:
                if c.chunk.id not in cosines:
                    log.warning("chunk %s has no stored vector; run ingest again to repair the index", c.chunk.id)
                c.relevance = cosines.get(c.chunk.id, 0.0)

    def reranker(self) -> Reranker:
        if self._reranker is None:
            self._reranker = Reranker(self.settings.reranker, device=self.settings.device)
        return self._reranker

    def _background(self):
        if self._worker is None:
            from concurrent.futures import ThreadPoolExecutor

            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dense-search")
        return self._worker

    def close(self) -> None:
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None
        self.index.close()

    def __enter__(self) -> "Retriever":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_retriever(settings: Settings) -> Retriever:
    """Open the index for reading; refuses an embedding model other than the one that built it."""
    check_mode(settings.search_mode)
    check_fusion(settings)
    index = open_index(settings.db, chroma_url=settings.chroma_url)
    try:
        embedder = load_embedder(settings, index.recorded_precision())
        info = embedder.info
        index.check_compatible(
            IndexInfo(
                info.name,
                info.fingerprint,
                info.dimensions,
                settings.chunk_tokens,
                settings.chunk_overlap,
                embedder.precision,
            ),
            for_writing=False,
        )
        reranker = Reranker(settings.reranker, device=settings.device) if settings.reranker else None
    except Exception:
        index.close()
        raise
    return Retriever(index=index, embedder=embedder, settings=settings, _reranker=reranker)
