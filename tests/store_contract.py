"""The contract every vector store passes (index/vector_store.py), in the style of Haystack's
`haystack/testing/document_store.py`: one class of tests about behaviour, one subclass per store
(tests/test_store_contract.py), which gives two fixtures:

- `store`: a new, empty store;
- `other_writer`: writes to the same store as another writer would (for a store on disk, another
  process), as `other_writer.upsert(ids, vectors, metadatas)` and `other_writer.delete_ids(ids)`.

A new store is done when its subclass passes. The Index-level tests run the store under the real
catalog: glob and folder filters, whole candidates, a writer's changes after `Index.refresh`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.filters import parse_where
from core.types import Chunk
from index.catalog import Catalog, FileRecord
from index.store import Index

DIMS = 16

# (source, page or None, extra metadata) for each chunk of the test corpus.
CORPUS = [
    ("contracts/lease.md", 1, {}),
    ("contracts/lease.md", 2, {}),
    ("contracts/old/supply.md", 1, {}),
    ("contracts/old/supply.md", 3, {}),
    ("manuals/pump.pdf", 1, {"sheet": "Q3"}),
    ("manuals/pump.pdf", 2, {"sheet": "Q4"}),
    ("manuals/valve.pdf", 5, {}),
    ("notes.txt", None, {"ocr": True}),
]


def unit_vectors(n: int, seed: int = 3) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, DIMS)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def corpus_chunks() -> list[Chunk]:
    index_in_file: dict[str, int] = {}
    chunks = []
    for source, page, extra in CORPUS:
        n = index_in_file.get(source, 0)
        index_in_file[source] = n + 1
        meta = {**extra, **({"page": page} if page is not None else {})}
        chunks.append(Chunk.make(f"text {n} of {source}", source, n, meta))
    return chunks


def brute_force(chunks: list[Chunk], vectors: np.ndarray, query: np.ndarray, k: int, flt) -> list[str]:
    """The reference answer: cosine over every chunk passing the filter (`Filter.matches`)."""
    scored = [
        (float(np.dot(vectors[i], query)), c.id)
        for i, c in enumerate(chunks)
        if flt is None or flt.matches(c.metadata())
    ]
    return [cid for _, cid in sorted(scored, key=lambda pair: -pair[0])[:k]]


class VectorStoreContract:
    @pytest.fixture()
    def written(self, store):
        chunks = corpus_chunks()
        vectors = unit_vectors(len(chunks))
        store.upsert([c.id for c in chunks], vectors, [c.metadata() for c in chunks])
        return chunks, vectors

    # -- write, count, delete ---------------------------------------------------
    def test_an_empty_store_holds_and_finds_nothing(self, store):
        assert store.count() == 0
        assert store.ids() == set()
        assert store.query(unit_vectors(1)[0], 5) == []
        assert store.vectors(["nope"]) == {}

    def test_written_vectors_are_counted_listed_and_read_back(self, store, written):
        chunks, vectors = written
        assert store.count() == len(chunks)
        assert store.ids() == {c.id for c in chunks}
        got = store.vectors([chunks[0].id, chunks[3].id, "nope"])
        assert set(got) == {chunks[0].id, chunks[3].id}
        assert np.allclose(got[chunks[3].id], vectors[3], atol=1e-5)

    def test_a_write_with_the_same_id_replaces(self, store, written):
        chunks, vectors = written
        store.upsert([chunks[0].id], vectors[1:2], [chunks[0].metadata()])
        assert store.count() == len(chunks)
        assert np.allclose(store.vectors([chunks[0].id])[chunks[0].id], vectors[1], atol=1e-5)

    def test_delete_by_id_and_by_source(self, store, written):
        chunks, _ = written
        store.delete_ids([chunks[0].id, "nope"])
        assert chunks[0].id not in store.ids() and store.count() == len(chunks) - 1
        assert store.ids_of_sources(["manuals/pump.pdf"]) == {c.id for c in chunks if c.source == "manuals/pump.pdf"}
        store.delete_sources(["manuals/pump.pdf", "notes.txt"])
        assert store.ids() == {c.id for c in chunks[1:] if c.source not in ("manuals/pump.pdf", "notes.txt")}
        assert store.ids_of_sources(["manuals/pump.pdf"]) == set()

    def test_many_sources_at_once(self, store):
        chunks = [Chunk.make(f"t{i}", f"many/{i:03d}.txt", 0) for i in range(250)]
        store.upsert([c.id for c in chunks], unit_vectors(len(chunks)), [c.metadata() for c in chunks])
        sources = [c.source for c in chunks[:230]]
        assert store.ids_of_sources(sources) == {c.id for c in chunks[:230]}
        store.delete_sources(sources)
        assert store.ids() == {c.id for c in chunks[230:]}

    # -- query --------------------------------------------------------------------
    def test_query_gives_the_nearest_first_with_cosine_scores(self, store, written):
        chunks, vectors = written
        query = unit_vectors(1, seed=9)[0]
        found = store.query(query, 4)
        assert [m.id for m in found] == brute_force(chunks, vectors, query, 4, None)
        cosine = {c.id: float(np.dot(vectors[i], query)) for i, c in enumerate(chunks)}
        assert [m.score for m in found] == pytest.approx([cosine[m.id] for m in found], abs=1e-4)
        assert [m.id for m in store.query(vectors[2], 1)] == [chunks[2].id]
        assert len(store.query(query, 100)) == len(chunks) and store.query(query, 0) == []

    @pytest.mark.parametrize(
        "where",
        [
            "page=1",
            "page=2-3",
            "page=1|5",
            "sheet=Q3",
            {"ocr": True},
            ["page=1", "sheet=Q3"],
            {"source": ["contracts/lease.md", "manuals/valve.pdf"]},
            {"source": "notes.txt"},
            {"source": ["contracts/lease.md", "manuals/pump.pdf"], "page": "2"},
        ],
    )
    def test_a_filter_is_applied_inside_the_query(self, store, written, where):
        chunks, vectors = written
        flt = parse_where(where)
        if flt.path_conditions:  # exact sources: what the index hands a store
            exact = [v for c in flt.path_conditions for v in c.values]
            flt = flt.with_exact_sources(exact)
        query = unit_vectors(1, seed=5)[0]
        expected = brute_force(chunks, vectors, query, 2, flt)
        assert expected  # the filter matches something, so the test can fail
        # k smaller than the matches: a store that filtered after its query could come back short.
        assert [m.id for m in store.query(query, 2, where=flt)] == expected
        assert [m.id for m in store.query(query, 100, where=flt)] == brute_force(chunks, vectors, query, 100, flt)

    def test_a_filter_nothing_passes_finds_nothing(self, store, written):
        assert store.query(unit_vectors(1)[0], 5, where=parse_where("page=99")) == []

    # -- another writer -------------------------------------------------------------
    def test_another_writers_changes_are_seen_after_refresh(self, store, written, other_writer):
        chunks, vectors = written
        store.query(vectors[0], 3)  # the reader has read, and may hold what it read
        more = [Chunk.make("new text", "later/new.md", 0, {"page": 7})]
        new_vector = unit_vectors(1, seed=21)
        other_writer.upsert([more[0].id], new_vector, [more[0].metadata()])
        store.refresh()
        assert store.count() == len(chunks) + 1
        assert [m.id for m in store.query(new_vector[0], 1)] == [more[0].id]
        assert [m.id for m in store.query(new_vector[0], 5, where=parse_where("page=7"))] == [more[0].id]
        assert more[0].id in store.vectors([more[0].id])
        other_writer.delete_ids([more[0].id, chunks[0].id])
        store.refresh(force=True)
        assert store.count() == len(chunks) - 1
        assert more[0].id not in {m.id for m in store.query(new_vector[0], 100)}

    # -- through the index: globs, folders, whole candidates ---------------------------
    @pytest.fixture()
    def index(self, store, tmp_path):
        chunks = corpus_chunks()
        index = Index(Path(tmp_path), Catalog(Path(tmp_path) / "catalog.sqlite"), store)
        by_file: dict[str, list[Chunk]] = {}
        for c in chunks:
            by_file.setdefault(c.source, []).append(c)
        files = [(FileRecord(source, "h", 1, 1), file_chunks) for source, file_chunks in by_file.items()]
        vectors = unit_vectors(len(chunks))
        order = [c.id for _, file_chunks in files for c in file_chunks]
        rows = {c.id: vectors[i] for i, c in enumerate(chunks)}
        index.write_files(files, np.stack([rows[cid] for cid in order]))
        yield index, chunks, vectors
        index.close()

    @pytest.mark.parametrize(
        "where",
        [
            "source=contracts/*",
            "source=contracts",
            "source=contracts/old/",
            "source=*.pdf|notes.txt",
            ["source=*.md", "page=1"],
            ["source=manuals", "sheet=Q4"],
        ],
    )
    def test_glob_and_folder_filters_through_the_index(self, index, where):
        index, chunks, vectors = index
        flt = parse_where(where)
        query = unit_vectors(1, seed=8)[0]
        expected = brute_force(chunks, vectors, query, 3, flt)
        assert expected
        found = index.nearest(query, 3, flt)
        assert [c.chunk.id for c in found] == expected
        by_id = {c.id: c for c in chunks}
        assert [c.chunk for c in found] == [by_id[cid] for cid in expected]  # text and metadata, whole

    def test_a_glob_no_file_matches_finds_nothing(self, index):
        index, _, vectors = index
        assert index.nearest(vectors[0], 3, parse_where("source=nothing/*")) == []

    def test_the_index_shows_only_what_the_catalog_lists(self, index, store):
        index, chunks, vectors = index
        stray = Chunk.make("not in the catalog", "contracts/stray.md", 0)
        store.upsert([stray.id], vectors[:1] * 1.0, [stray.metadata()])  # as a killed ingest leaves it
        found = index.nearest(vectors[0], len(chunks) + 1)
        assert stray.id not in {c.chunk.id for c in found} and len(found) == len(chunks)

    def test_the_index_sees_another_writers_file_after_refresh(self, index, other_writer, tmp_path):
        index, chunks, _ = index
        new = Chunk.make("a file written by another ingest", "later/new.md", 0)
        vector = unit_vectors(1, seed=33)
        other_writer.upsert([new.id], vector, [new.metadata()])  # the vectors first, as ingest writes them
        other = Catalog(Path(tmp_path) / "catalog.sqlite")  # the other ingest's catalog connection
        try:
            other.replace_file(FileRecord(new.source, "h", 1, 1), [new])
        finally:
            other.close()
        index.refresh()
        assert [c.chunk.id for c in index.nearest(vector[0], 1)] == [new.id]
