"""Retrieval as named steps, with fakes: the index on the in-memory store and a real catalog, the
bag-of-words embedder, a ranker that counts its calls. Fast: no model, no Chroma."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import SearchOptionError
from core.settings import load_settings
from core.types import Chunk
from fakes import FakeEmbedder, InMemoryStore
from index.catalog import Catalog, FileRecord
from index.store import Index
from retrieval import Retriever, SearchOptions, SearchRequest
from retrieval.options import plan

DOCS = {
    "contracts/lease.md": [
        "The tenant gives sixty days written notice to end the lease.",
        "Rent is due on the first working day of each month.",
        "The deposit is returned within thirty days after the lease ends.",
    ],
    "manuals/pump.md": [
        "Error ERR-4031 means the impeller is blocked; clear the intake.",
        "Descale the pump every three months with citric acid.",
    ],
    "notes/kettle.md": ["Descale the kettle every thirty days."],
}


def write(index: Index, embedder: FakeEmbedder, docs: dict[str, list[str]]) -> None:
    files = [
        (FileRecord(source, "h", 1, 1), [Chunk.make(t, source, i, {"page": i + 1}) for i, t in enumerate(texts)])
        for source, texts in docs.items()
    ]
    chunks = [c for _, cs in files for c in cs]
    index.write_files(files, embedder.embed([c.text for c in chunks]))


@pytest.fixture()
def index(tmp_path):
    store = InMemoryStore()
    index = Index(Path(tmp_path), Catalog(Path(tmp_path) / "catalog.sqlite"), store)
    write(index, FakeEmbedder(), DOCS)
    yield index
    index.close()


class CountingRanker:
    """Scores a passage by how many times it says "descale": a ranker anyone can check by hand."""

    def __init__(self):
        self.calls = 0

    def score(self, question, passages):
        self.calls += 1
        return np.array([p.lower().count("descale") + 0.001 * len(p) for p in passages], dtype=np.float32)


def retriever(index, **options) -> Retriever:
    return Retriever(index, FakeEmbedder(), SearchOptions(**{"passage_chars": 0, **options}))


def test_search_options_take_what_retrieval_uses_of_the_settings():
    settings = load_settings({"k": 3, "search_mode": "bm25", "bm25_weight": 0.3, "mmr": True}, environ={})
    options = SearchOptions.of(settings)
    assert (options.k, options.mode, options.bm25_weight, options.mmr) == (3, "bm25", 0.3, True)
    assert options.passage_chars == settings.passage_chars and options.reranker == ""
    with pytest.raises(SearchOptionError, match="fusion"):
        SearchOptions(fusion="sum").check()


def test_a_request_is_validated_once_in_its_plan(index):
    r = retriever(index)
    with pytest.raises(SearchOptionError, match="mode"):
        r.plan(SearchRequest("q", mode="fuzzy"))
    with pytest.raises(SearchOptionError, match="KEY=VALUE"):
        r.plan(SearchRequest("q", where="nonsense"))
    with pytest.raises(SearchOptionError, match="sheet"):  # no passage has it: named, with the keys there are
        r.validate(SearchRequest("q", where="sheet=Q3"))
    assert r.search("q", where="sheet=Q3") == []  # a library call is not refused: it finds nothing
    with pytest.raises(SearchOptionError, match="--reranker"):
        r.plan(SearchRequest("q", rerank=True))
    p = plan(SearchRequest("q", k=4, where="source=manuals/*"), SearchOptions(passage_chars=2000))
    assert (p.k, p.mode, p.depth, p.pool) == (4, "hybrid", 8, 50)  # spares for widening; fusion's pool
    assert p.where.describe() == "source=manuals/*"


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_every_mode_finds_the_passage_and_its_relevance(index, mode):
    hits = retriever(index).search("When is the rent due each month?", k=2, mode=mode)
    assert hits[0].chunk.source == "contracts/lease.md" and "Rent is due" in hits[0].chunk.text
    assert hits[0].chunk.page == 2  # the whole chunk: metadata too
    assert all(h.relevance is not None and h.relevance > 0 for h in hits)


def test_a_filter_restricts_every_mode(index):
    for mode in ("dense", "bm25", "hybrid"):
        hits = retriever(index).search("descale every thirty days", k=5, where="source=manuals", mode=mode)
        assert hits and {h.chunk.source for h in hits} == {"manuals/pump.md"}


def test_the_ranker_reorders_and_is_the_one_given(index):
    ranker = CountingRanker()
    r = retriever(index, reranker="some/folder")
    r.ranker = ranker
    hits = r.search("how often do I descale", k=2)
    assert ranker.calls == 1
    assert [h.chunk.text for h in hits] == [
        "Descale the pump every three months with citric acid.",
        "Descale the kettle every thirty days.",
    ]
    assert hits[0].score >= hits[1].score
    other = r.over(index)  # serve: one retriever per thread, one ranker for all
    other.search("descale", k=1)
    assert other.ranker is ranker and ranker.calls == 2


def test_widening_leaves_out_a_hit_inside_a_better_ones_passage(index):
    r = Retriever(index, FakeEmbedder(), SearchOptions(passage_chars=2000))
    hits = r.search("lease rent deposit tenant notice", k=3, mode="bm25")
    lease = [h for h in hits if h.chunk.source == "contracts/lease.md"]
    assert len(lease) == 1 and all(t in lease[0].text for t in DOCS["contracts/lease.md"])


def test_mmr_keeps_k_hits_and_their_scores(index):
    hits = retriever(index).search("descale", k=2, mmr=True)
    assert len(hits) == 2 and len({h.chunk.id for h in hits}) == 2


def test_a_long_lived_retriever_sees_another_writers_file(index, tmp_path):
    """What chat and batch need: another process's ingest, seen at the next search (Index.refresh)."""
    r = retriever(index)
    assert r.search("harbour invoice", k=1, mode="dense")[0].chunk.source != "billing/invoice.md"
    other = Index(Path(tmp_path), Catalog(Path(tmp_path) / "catalog.sqlite"), index.vectors.another())
    write(other, FakeEmbedder(), {"billing/invoice.md": ["The harbour invoice is due in March."]})
    other.close()
    hits = r.search("harbour invoice", k=1, mode="dense")
    assert hits[0].chunk.source == "billing/invoice.md" and hits[0].relevance > 0.4
