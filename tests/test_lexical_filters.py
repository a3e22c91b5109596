"""Every lexical index applies a `--where` filter exactly as `Filter.matches` defines it (the
reference both the SQL and the Chroma forms keep): on the store contract's corpus, each filter's
lexical hits are the chunks that hold the word and pass the filter, no more, no fewer. Run on
Tantivy and on FTS5 (an index from before Tantivy)."""

from __future__ import annotations

import pytest

from conftest import fts5_catalog
from core.filters import parse_where
from index.catalog import Catalog, FileRecord
from index.store import Index
from store_contract import CORPUS, corpus_chunks

FILTERS = [
    "source=contracts/*",
    "source=contracts",
    "source=contracts/old",
    "source=*.pdf",
    "source=manuals/valve.pdf|notes.txt",
    "source=nothing/*",
    "page=1",
    "page=2-3",
    "page=9",
    "sheet=Q3",
    "sheet=Q3|Q4",
    "sheet=Q5",
    ["source=manuals/*", "page=2"],
    ["source=contracts/*", "page=1-2"],
    ["source=*.pdf", "sheet=Q4"],
]


@pytest.fixture(params=["tantivy", "fts5"])
def index(request, tmp_path):
    path = tmp_path / "catalog.sqlite"
    catalog = fts5_catalog(path) if request.param == "fts5" else Catalog(path)
    chunks = corpus_chunks()
    for source in dict.fromkeys(s for s, _, _ in CORPUS):
        catalog.replace_file(FileRecord(source, "h", 1, 1), [c for c in chunks if c.source == source])
    index = Index(tmp_path, catalog, lambda: None)
    if request.param == "tantivy":
        index.settle_lexical()
    assert catalog.lexical_engine() == request.param
    yield index, chunks
    index.close()


@pytest.mark.parametrize("where", FILTERS, ids=lambda w: " ".join(w) if isinstance(w, list) else w)
def test_a_filter_keeps_exactly_the_chunks_filter_matches_allows(index, where):
    index, chunks = index
    flt = parse_where(where)
    found = {c.id for c in index.lexical("text", 50, flt)}  # every chunk's text holds "text"
    assert found == {c.id for c in chunks if flt.matches(c.metadata())}
