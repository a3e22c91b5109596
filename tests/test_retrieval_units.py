"""Retrieval pieces that need no model: FTS5 queries, BM25 over a real catalog (through Tantivy,
and through FTS5 as an index from before Tantivy has it), filters, fusion, MMR."""

import numpy as np
import pytest

from core.types import Chunk
from index.catalog import Catalog, FileRecord
from index.store import Index
from conftest import fts5_catalog
from core.errors import SearchOptionError
from core.filters import parse_where
from index.chroma_filter import chroma_where
from index.lexical import bm25_search, fts_query
from index.sql_filter import matching_sources
from index.vector_query import query_filtered
from index.vector_store import VectorMatch
from retrieval.fusion import reciprocal_rank_fusion
from retrieval.mmr import mmr_order

DOCS = {
    "manuals/pump.md": [
        "Error ERR-4031: the impeller is blocked. Clear debris from the intake.",
        "Error ERR-4013: the motor overheats. Let it cool for an hour.",
    ],
    "manuals/valve.md": ["Code E-17 means the valve sticks; see section 4.2 for the seal."],
    "contracts/lease.md": [
        "Clause 14.2: the tenant gives sixty days notice in writing.",
        "Clause 4.2: rent is due on the first working day of the month.",
    ],
    "contracts/old/supply.md": ["Clause 9: the supplier delivers within ten days."],
}


def fill(cat: Catalog) -> Catalog:
    for source, texts in DOCS.items():
        chunks = [Chunk.make(t, source, i, {"page": i + 1}) for i, t in enumerate(texts)]
        cat.replace_file(FileRecord(source, "h", 1, 1), chunks)
    return cat


@pytest.fixture()
def catalog(tmp_path):
    cat = fill(fts5_catalog(tmp_path / "catalog.sqlite"))
    yield cat
    cat.close()


class Match:
    def __init__(self, id, text, source, score):
        self.id, self.text, self.source, self.score = id, text, source, score


@pytest.fixture(params=["tantivy", "fts5"])
def lexical(request, tmp_path):
    """(catalog, search): BM25 as `Index.lexical` runs it, on each lexical index."""
    if request.param == "fts5":
        cat = fill(fts5_catalog(tmp_path / "catalog.sqlite"))
    else:
        cat = fill(Catalog(tmp_path / "catalog.sqlite"))
    index = Index(tmp_path, cat, lambda: None)

    def search(question, k=5, where=None):
        if request.param == "tantivy":
            index.settle_lexical()  # what an ingest does before and after its writes (FTS5 needs none)
        assert cat.lexical_engine() == request.param
        found = index.lexical(question, k, parse_where(where))
        return [Match(c.id, c.chunk.text, c.chunk.source, c.score) for c in found]

    search.index = index
    yield cat, search
    index.close()


def texts(matches):
    return [m.text for m in matches]


def test_fts_query_quotes_every_term_and_keeps_codes_as_phrases():
    assert fts_query("What does ERR-4031 mean?") == '"err 4031" OR "mean"'
    assert fts_query("clause 14.2") == '"clause" OR "14 2"'
    assert fts_query("what is it?") == '"what" OR "is" OR "it"'  # only stopwords: keep them
    assert fts_query("?! -- ...") == ""


@pytest.mark.parametrize(
    "question",
    [
        'NOT "unbalanced',
        "a AND (b OR",
        "NEAR(x y)",
        "text:rent",
        "rent*",
        "^rent",
        "ERR-4031 OR",
        '"',
        "C++ -x",
        "l'été über straße",
        "what is the rent; DROP TABLE chunks; --",
    ],
)
def test_user_text_never_raises_fts_syntax_errors(lexical, question):
    _, search = lexical
    search(question)  # must not raise


def test_exact_code_matches_only_that_code(lexical):
    _, search = lexical
    found = texts(search("ERR-4031"))
    assert found == [DOCS["manuals/pump.md"][0]]
    found = texts(search("What is clause 14.2 about?"))
    assert found[0] == DOCS["contracts/lease.md"][0]
    assert DOCS["manuals/valve.md"][0] not in found[:1]  # "4.2" is not "14.2"


def test_word_counts_are_chunks_holding_the_word_or_the_code(lexical):
    _, search = lexical
    search("warm up")  # the index settled
    counts = search.index.word_counts(["ERR-4031", "Clause", "clauses", "zebra", "4.2"])
    assert counts == {"ERR-4031": 1, "Clause": 3, "clauses": 3, "zebra": 0, "4.2": 2}


def test_bm25_stems_words(lexical):
    _, search = lexical
    assert texts(search("overheating motors"))[0] == DOCS["manuals/pump.md"][1]


def test_bm25_forgets_removed_and_replaced_chunks(lexical):
    catalog, search = lexical
    catalog.remove_files(["manuals/pump.md"])
    assert search("ERR-4031 impeller") == []
    catalog.replace_file(
        FileRecord("contracts/lease.md", "h2", 2, 2),
        [Chunk.make("Clause 14.3: pets are allowed.", "contracts/lease.md", 0)],
    )
    assert search("tenant sixty") == []
    assert texts(search("pets")) == ["Clause 14.3: pets are allowed."]


def test_source_glob_folder_and_page_filters_restrict_bm25(lexical):
    _, search = lexical

    def sources(where):
        return {m.source for m in search("clause error code", 10, where)}

    assert sources("source=contracts/*") == {"contracts/lease.md", "contracts/old/supply.md"}
    assert sources("source=contracts/old") == {"contracts/old/supply.md"}  # a folder, no glob
    assert sources("source=manuals/valve.md|contracts/old/*") == {"manuals/valve.md", "contracts/old/supply.md"}
    assert sources(["source=contracts/*", "page=2"]) == {"contracts/lease.md"}
    assert sources("page=2-5") == {"contracts/lease.md", "manuals/pump.md"}
    assert sources("source=nothing/*") == set()


class RecordingStore:
    """A vector store that records the Chroma `where` clause of each query and finds nothing."""

    def __init__(self):
        self.wheres = []

    def query(self, vector, k, where=None):
        self.wheres.append(chroma_where(where))
        return [VectorMatch(f"{len(self.wheres)}", 1.0 / len(self.wheres))]


def test_glob_resolves_to_sources_for_chroma_in_batches(catalog, monkeypatch):
    conn = catalog.connection()
    flt = parse_where(["source=*.md", "page=1"])
    assert matching_sources(conn, flt) == sorted(DOCS)
    monkeypatch.setattr("index.vector_query.SOURCE_BATCH", 3)
    store = RecordingStore()
    assert [m.id for m in query_filtered(store, catalog, np.zeros(2), 5, flt)] == ["1", "2"]  # best of both batches
    assert store.wheres == [
        {"$and": [{"source": {"$in": sorted(DOCS)[:3]}}, {"page": 1}]},
        {"$and": [{"source": sorted(DOCS)[3]}, {"page": 1}]},
    ]
    store = RecordingStore()
    assert query_filtered(store, catalog, np.zeros(2), 5, parse_where("source=none/*")) == []
    assert store.wheres == []
    query_filtered(store, catalog, np.zeros(2), 5, parse_where("page=1-2"))
    assert store.wheres == [{"$and": [{"page": {"$gte": 1}}, {"page": {"$lte": 2}}]}]


def test_chroma_is_never_given_a_glob():
    with pytest.raises(ValueError, match="resolve it to exact sources"):
        chroma_where(parse_where("source=*.md"))
    assert chroma_where(None) is None


@pytest.mark.parametrize("bad", ["source", "=x", "so urce=x", "source=", "page="])
def test_malformed_filters_say_how_to_write_them(bad):
    with pytest.raises(SearchOptionError, match="--where|KEY=VALUE"):
        parse_where(bad)


def test_filters_from_a_mapping():
    flt = parse_where({"source": "a/*", "page": [1, 2]})
    assert flt.describe() == "source=a/* and page=1|2"
    with pytest.raises(SearchOptionError):
        parse_where({"page": {"$gt": 1}})


def test_reciprocal_rank_fusion_rewards_agreement():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "d", "a"]])
    assert [item for item, _ in fused] == ["a", "c", "b", "d"]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 63)


def test_mmr_skips_near_duplicates():
    vectors = np.array([[1.0, 0.0], [0.999, 0.04], [0.6, 0.8], [0.0, 1.0]])
    relevance = np.array([0.9, 0.89, 0.85, 0.2])
    assert mmr_order(relevance, vectors, 3) == [0, 2, 1]
    assert mmr_order(relevance, vectors, 3, lam=1.0) == [0, 1, 2]  # no diversity: plain order
    assert mmr_order(np.array([]), np.zeros((0, 2)), 3) == []


def test_common_terms_past_the_budget_only_add_to_rare_matches_with_exact_bm25(catalog, monkeypatch):
    conn = catalog.connection()
    question = "clause tenant notice"  # clause: 3 rows; tenant, notice: 1 row each
    plain = bm25_search(conn, question, 5)
    assert len(plain) == 3
    monkeypatch.setattr("index.lexical.ROW_BUDGET", 2)
    split = bm25_search(conn, question, 5)
    assert [m.id for m in split] == [plain[0].id]  # only rows holding a rare term are candidates
    assert split[0].score == pytest.approx(plain[0].score, rel=1e-9)  # scored on every term, as plain BM25
    filtered = bm25_search(conn, question, 5, parse_where("source=manuals/*"))
    assert filtered == []


@pytest.mark.parametrize(
    "where, meta, expected",
    [
        ("source=contracts/*", {"source": "contracts/old/a.pdf"}, True),
        ("source=contracts/*", {"source": "manuals/a.pdf"}, False),
        ("source=contracts", {"source": "contracts/a.pdf"}, True),
        ("source=contracts", {"source": "contracts-old/a.pdf"}, False),
        ("source=a.pdf|*.md", {"source": "x/y.md"}, True),
        ("page=2-4", {"source": "a", "page": 3}, True),
        ("page=2-4", {"source": "a"}, False),
        ("page=3", {"page": 3}, True),
        ("sheet=Q3", {"sheet": "Q3"}, True),
        ("sheet=3", {"sheet": "3"}, False),  # typed like the SQL and Chroma forms
    ],
)
def test_filter_matches_metadata_like_the_sql_form(catalog, where, meta, expected):
    assert parse_where(where).matches(meta) is expected
