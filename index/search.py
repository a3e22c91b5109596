"""The index's answers to a query: whole candidates (chunk text and metadata from the catalog,
the score from the store that found it), never ids or rows.

- `nearest`: the vector store's k nearest passing the filter (checked by the catalog's SQL, or by
  the store's own query when few pass: index/vector_query.py);
- `lexical`: BM25 through Tantivy (index/lexical_tantivy.py), the filter in its query; for an
  index from before Tantivy, over the catalog's FTS5 index (index/lexical.py), the filter in its SQL.

Both keep only chunks the catalog lists now: during an ingest the store may briefly hold vectors
the catalog does not (yet, or any longer) list (index/__init__.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from core.types import Chunk
from index.catalog import Catalog
from index.lexical import bm25_search
from index.vector_store import VectorMatch


@dataclass(frozen=True)
class Candidate:
    """A chunk a search found, with its score in that search (cosine for `nearest`, BM25 for `lexical`)."""

    chunk: Chunk
    score: float

    @property
    def id(self) -> str:
        return self.chunk.id


def with_content(matches: list[VectorMatch], catalog: Catalog) -> list[Candidate]:
    """The store's matches as candidates, their text and metadata from the catalog; a match the
    catalog no longer (or not yet) lists is dropped."""
    content = catalog.texts_and_meta([m.id for m in matches])
    return [Candidate(Chunk.from_metadata(m.id, *content[m.id]), m.score) for m in matches if m.id in content]


def tantivy_lexical(catalog: Catalog, words, question: str, k: int, flt=None) -> list[Candidate]:
    """`lexical`, through the Tantivy index `words` (index/lexical_tantivy.py): the filter's path
    conditions resolved to exact sources by the catalog, then applied in Tantivy's query."""
    sources = catalog.matching_sources(flt) if flt is not None else None
    hits = words.search(question, k, flt, sources)
    content = catalog.texts_and_meta([chunk_id for chunk_id, _ in hits])
    return [Candidate(Chunk.from_metadata(i, *content[i]), score) for i, score in hits if i in content]


def lexical(catalog: Catalog, question: str, k: int, flt=None) -> list[Candidate]:
    """The k chunks that best match `question` by BM25, best first; only those passing `flt`."""
    return [
        Candidate(Chunk.from_metadata(m.id, m.text, json.loads(m.meta)), m.score)
        for m in bm25_search(catalog.connection(), question, k, flt)
    ]
