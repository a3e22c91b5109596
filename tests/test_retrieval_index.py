"""Retrieval against a real index (Chroma + catalog, the bundled embedder) of a small corpus
full of codes and clause numbers: what BM25 and hybrid find that dense search misses,
filters, relevance in every mode, deletions, and the reranker plumbing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.filters import parse_where
from core.settings import load_settings
from index.chroma_filter import chroma_where
from ingest.pipeline import run_ingest
from retrieval import open_retriever


pytestmark = pytest.mark.slow  # a corpus ingested with the real embedder

PROBLEMS = [
    ("the impeller is blocked by scale", "remove the front cover and clear the impeller"),
    ("the heating element is cold", "check the thermal fuse and replace it"),
    ("the water tank is not detected", "reseat the tank and clean the contacts"),
    ("the pump motor runs dry", "refill the water tank and prime the pump"),
    ("the brew group is jammed", "remove the brew group and rinse it"),
    ("the flow meter reads no water", "descale the machine and test the flow meter"),
]
CODES = ["ERR-4031", "ERR-4013", "ERR-3041", "ERR-1403", "ERR-4310", "ERR-3104"]

CLAUSES = {
    "14.2": "The tenant may end this lease by giving sixty days written notice to the landlord.",
    "4.12": "The landlord may end this lease by giving ninety days written notice to the tenant.",
    "12.4": "Either party may end this agreement at once by written notice after a material breach.",
    "2.14": "Notice under this agreement is given in writing to the address of the other party.",
}


def write_corpus(root: Path) -> None:
    (root / "manuals").mkdir(parents=True, exist_ok=True)
    (root / "contracts" / "2024").mkdir(parents=True, exist_ok=True)
    for n, (code, (problem, fix)) in enumerate(zip(CODES, PROBLEMS)):
        # Named without the code: the file name is part of what is embedded (the chunk's head), and
        # this corpus is about codes the embedder cannot tell apart when only the text carries them.
        (root / "manuals" / f"fault-{n}.md").write_text(
            f"# Error {code}\n\nThe display shows {code} when {problem}. To fix it, {fix}.\n"
        )
    for number, text in CLAUSES.items():
        folder = root / "contracts" / ("2024" if number.startswith("1") else "")
        (folder / f"clause-{number.replace('.', '-')}.md").write_text(f"# Clause {number}\n\nClause {number}. {text}\n")


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory):
    root = tmp_path_factory.mktemp("codes")
    write_corpus(root / "docs")
    db = root / "db"
    report = run_ingest(load_settings({"db": db, "source_dir": root / "docs"}, environ={}))
    assert report.exit_code == 0, report.failed
    return db


@pytest.fixture(scope="module")
def retriever(corpus_db):
    with open_retriever(load_settings({"db": corpus_db}, environ={})) as r:
        yield r


def sources(hits):
    return [h.chunk.source for h in hits]


def test_exact_code_bm25_and_hybrid_find_what_dense_misses(retriever):
    dense = sources(retriever.search("ERR-4031", k=3, mode="dense"))
    assert dense[0] != "manuals/fault-0.md"  # the near-identical codes look alike to the embedder
    assert sources(retriever.search("ERR-4031", k=3, mode="bm25")) == ["manuals/fault-0.md"]  # only the exact code
    assert sources(retriever.search("ERR-4031", k=3, mode="hybrid"))[0] == "manuals/fault-0.md"


def test_clause_number_bm25_ranks_the_exact_clause_first(retriever):
    question = "What does clause 14.2 say?"
    assert sources(retriever.search(question, k=3, mode="dense"))[0] != "contracts/2024/clause-14-2.md"
    assert sources(retriever.search(question, k=3, mode="bm25"))[0] == "contracts/2024/clause-14-2.md"
    assert "contracts/2024/clause-14-2.md" in sources(retriever.search(question, k=3, mode="hybrid"))


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_relevance_is_the_cosine_to_the_question_in_every_mode(retriever, mode):
    question = "How do I clear the impeller (ERR-4031)?"
    hits = retriever.search(question, k=4, mode=mode)
    assert hits
    query = retriever.embedder.embed_query(question)
    stored = retriever.index.vectors.vectors([h.chunk.id for h in hits])
    for hit in hits:
        assert hit.relevance == pytest.approx(float(np.dot(query, stored[hit.chunk.id])), abs=1e-4)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize("mode", ["dense", "bm25", "hybrid"])
def test_filters_restrict_every_mode(retriever, mode):
    hits = retriever.search("notice to end the lease", k=10, mode=mode, where="source=contracts/2024")
    assert hits and set(sources(hits)) <= {"contracts/2024/clause-14-2.md", "contracts/2024/clause-12-4.md"}
    hits = retriever.search(
        "ERR-4031 notice lease", k=10, mode=mode, where=["source=manuals/*|contracts/clause-2-14.md"]
    )
    assert "contracts/clause-2-14.md" in sources(hits)
    assert not any(s.startswith("contracts/2024") or s == "contracts/clause-4-12.md" for s in sources(hits))
    assert retriever.search("notice", k=5, mode=mode, where="source=nothing/*") == []


def test_private_text_is_stored_once_and_every_mode_returns_it(corpus_db, retriever):
    phrase = CLAUSES["14.2"]
    holding = [
        p.relative_to(corpus_db).parts[0]
        for p in corpus_db.rglob("*")
        if p.is_file() and phrase.encode() in p.read_bytes()
    ]
    assert holding == ["catalog.sqlite"]  # the vector store keeps vectors and metadata, not a second copy of the text
    for mode in ("dense", "bm25", "hybrid"):
        for where in (None, "source=contracts/2024"):
            hits = retriever.search("sixty days written notice to the landlord", k=2, mode=mode, where=where)
            assert (hits[0].chunk.source, hits[0].chunk.text) == (
                "contracts/2024/clause-14-2.md",
                f"Clause 14.2\n\nClause 14.2. {phrase}",
            ), (mode, where)


def test_mmr_returns_distinct_passages_from_the_same_pool(retriever):
    plain = retriever.search("error on the display", k=4, mode="hybrid")
    diverse = retriever.search("error on the display", k=4, mode="hybrid", mmr=True)
    assert len(diverse) == 4 and len(set(h.chunk.id for h in diverse)) == 4
    assert diverse[0].chunk.id == plain[0].chunk.id  # the best passage stays first


def test_deleted_and_changed_files_leave_both_indexes(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("Part number XK-9921 is the left hinge.\n")
    (docs / "b.md").write_text("Part number QZ-1180 is the door seal.\n")
    settings = load_settings({"db": tmp_path / "db", "source_dir": docs}, environ={})
    assert run_ingest(settings).exit_code == 0
    with open_retriever(settings) as r:
        assert sources(r.search("XK-9921", k=2, mode="bm25")) == ["a.md"]
    (docs / "a.md").unlink()
    (docs / "b.md").write_text("Part number QZ-1181 replaces the door seal.\n")
    assert run_ingest(settings).exit_code == 0
    with open_retriever(settings) as r:
        assert r.search("XK-9921", k=2, mode="bm25") == []
        assert r.search("QZ-1180", k=2, mode="bm25") == []
        assert sources(r.search("QZ-1181", k=2, mode="bm25")) == ["b.md"]
        assert r.index.vectors.ids() == r.index.catalog.chunk_ids()
        assert sources(r.search("hinge", k=5, mode="hybrid")) == ["b.md"]


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory):
    """A cross-encoder with random weights, built here: no reranker weights ship on PyPI.

    It cannot rank well; it proves the path works (load from a folder offline, score pairs,
    reorder by those scores).
    """
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from embeddings.bundled import bundled_embedding_model_path

    folder = tmp_path_factory.mktemp("reranker") / "tiny-cross-encoder"
    tokenizer = AutoTokenizer.from_pretrained(str(bundled_embedding_model_path()), local_files_only=True)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=1,
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_reranker_orders_passages_by_its_own_scores(corpus_db, tiny_cross_encoder):
    from sentence_transformers import CrossEncoder

    settings = load_settings({"db": corpus_db, "reranker": str(tiny_cross_encoder)}, environ={})
    question = "What should I do when the pump runs dry?"
    with open_retriever(settings) as r:
        pool = r.search(question, k=30, mode="hybrid", rerank=False)
        hits = r.search(question, k=5)  # a reranker in the settings: used by default
    expected = CrossEncoder(str(tiny_cross_encoder), local_files_only=True).predict(
        [(question, h.chunk.text) for h in pool]
    )
    best = sorted(zip(expected, (h.chunk.id for h in pool)), key=lambda pair: -pair[0])[:5]
    assert [h.chunk.id for h in hits] == [cid for _, cid in best]
    assert [h.score for h in hits] == pytest.approx([float(s) for s, _ in best], abs=1e-4)
    assert all(h.relevance is not None and -1 <= h.relevance <= 1 for h in hits)


def test_missing_reranker_folder_says_what_to_pass(corpus_db, tmp_path):
    from core.errors import ModelLoadError

    with pytest.raises(ModelLoadError, match="--reranker"):
        open_retriever(load_settings({"db": corpus_db, "reranker": str(tmp_path / "nope")}, environ={}))


def test_filtered_dense_gives_the_same_hits_whether_chroma_filters_or_we_do(retriever, monkeypatch):
    question = "How do I fix the pump?"
    where = ["source=manuals/*", "page=1|2|3"]  # markdown has no pages: nothing passes
    assert retriever.search(question, k=3, mode="dense", where=where) == []
    few = "source=contracts/2024|manuals/fault-0.md"
    catalog = retriever.index.catalog
    held = catalog.passing_now
    monkeypatch.setattr(catalog, "passing_now", lambda flt: None)  # no ids in memory: the catalog checks by query
    ours = retriever.search(question, k=3, mode="dense", where=few)
    monkeypatch.setattr(catalog, "passing_now", held)
    retriever.search(question, k=3, mode="dense", where=few)
    exact = retriever.search(question, k=3, mode="dense", where=few)  # asked again: its few chunks, exactly
    assert catalog.passing_now(parse_where(few)) is not None
    assert [h.chunk.id for h in exact] == [h.chunk.id for h in ours]
    monkeypatch.setattr(catalog, "passing_now", lambda flt: None)
    monkeypatch.setattr("index.vector_query.OVERFETCH", 1)
    monkeypatch.setattr("index.vector_query.OVERFETCH_MIN", 1)
    monkeypatch.setattr("index.vector_query.OVERFETCH_MAX", 1)  # too few pass, no wider try: Chroma filters
    store = retriever.index.vectors
    wheres = []
    real_query = store.query
    monkeypatch.setattr(
        store, "query", lambda v, k, where=None: wheres.append(chroma_where(where)) or real_query(v, k, where=where)
    )
    chroma = retriever.search(question, k=3, mode="dense", where=few)
    assert wheres[-1] == {
        "source": {
            "$in": sorted(["contracts/2024/clause-14-2.md", "contracts/2024/clause-12-4.md", "manuals/fault-0.md"])
        }
    }
    assert [h.chunk.id for h in chroma] == [h.chunk.id for h in ours]
    assert {h.chunk.source for h in ours} == {
        "contracts/2024/clause-14-2.md",
        "contracts/2024/clause-12-4.md",
        "manuals/fault-0.md",
    }


def test_serve_threads_share_one_reranker(corpus_db, tiny_cross_encoder):
    """`serve --reranker` loaded one cross-encoder per worker thread; one ranker serves them all."""
    import threading

    from server.engine import Engine

    engine = Engine(load_settings({"db": corpus_db, "reranker": str(tiny_cross_encoder)}, environ={}))
    found = {}

    def search_in_a_thread(name):
        retriever = engine.retriever()
        found[name] = (retriever.ranker, engine.search("the pump runs dry", k=2))

    try:
        threads = [threading.Thread(target=search_in_a_thread, args=(n,)) for n in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        engine.close()
    (ranker_a, hits_a), (ranker_b, hits_b) = found["a"], found["b"]
    assert ranker_a is not None and ranker_a is ranker_b
    assert [h.chunk.id for h in hits_a] == [h.chunk.id for h in hits_b] and len(hits_a) == 2
