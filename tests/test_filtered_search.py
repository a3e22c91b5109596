"""A search under a filter (a user's readable folders, a --where) finds what an unfiltered search of
only those chunks would: the ids passing are held in memory only while the catalog is unchanged,
a few passing chunks are searched exactly, and a search that needs only some of its candidates
asks the store for fewer. Fast tests: a real SQLite catalog, the in-memory vector store."""

from __future__ import annotations

import numpy as np
import pytest

from core.filters import parse_where, within_folders
from core.types import Chunk
from fakes import InMemoryStore
from index.catalog import Catalog, FileRecord
from index.passing_sets import PassingSets
from index.subset_search import Subsets
from index.vector_query import first_width, nearest_passing

HR, ENG = "/srv/docs/hr", "/srv/docs/eng"


def add_file(catalog, store, root: str, source: str, n: int, rng) -> list[Chunk]:
    chunks = [Chunk.make(f"{source} part {i}", source, i, {"page": i + 1}) for i in range(n)]
    catalog.replace_files([(FileRecord(source, "h" + source, 1, 1, root=root), chunks)])
    vectors = rng.standard_normal((n, 16)).astype(np.float32)
    store.upsert([c.id for c in chunks], vectors, [c.metadata() for c in chunks])
    return chunks


@pytest.fixture()
def folders(tmp_path):
    """A catalog and store of two folders: hr (2 files of 20 chunks), eng (18 files of 20)."""
    rng = np.random.default_rng(3)
    catalog, store = Catalog(tmp_path / "catalog.sqlite"), InMemoryStore()
    catalog.add_root(HR, "")
    catalog.add_root(ENG, "eng")
    chunks = {}
    for n in range(2):
        chunks.update({c.id: c for c in add_file(catalog, store, HR, f"hr-{n}.txt", 20, rng)})
    for n in range(18):
        chunks.update({c.id: c for c in add_file(catalog, store, ENG, f"eng/e-{n}.txt", 20, rng)})
    yield catalog, store, chunks, rng
    catalog.close()


def exact(store, chunks, vector, k, allowed) -> list[str]:
    """The k nearest of the chunks `allowed` admits, by brute force over the store's vectors."""
    q = vector / np.linalg.norm(vector)
    held = store.vectors(list(chunks))
    scored = sorted((-float(held[i] @ q), i) for i in chunks if allowed(chunks[i]))
    return [i for _, i in scored[:k]]


def test_passing_sets_are_read_at_the_second_ask_and_forgotten_at_any_change():
    reads = []

    def read(limit):
        reads.append(limit)
        return frozenset({"a", "b"})

    sets = PassingSets(limit=10)
    only = within_folders(None, {HR})
    assert sets.get(1, only, read) is None and reads == []  # a one-off filter costs no read
    assert sets.get(1, only, read) == {"a", "b"} and reads == [10]
    assert sets.get(1, only, read) == {"a", "b"} and reads == [10]
    assert sets.get(2, only, read) is None  # the catalog changed: asked afresh
    assert sets.get(2, only, read) == {"a", "b"} and len(reads) == 2
    too_many = PassingSets(limit=1)
    too_many.get(1, only, lambda limit: None)
    assert too_many.get(1, only, lambda limit: None) is None  # more pass than it keeps: by query


def test_the_ids_in_memory_follow_every_commit_of_another_connection(folders, tmp_path):
    catalog, store, chunks, rng = folders
    only_hr = within_folders(None, {HR})
    hr_ids = {i for i, c in chunks.items() if not c.source.startswith("eng/")}
    assert catalog.passing_now(only_hr) is None
    assert catalog.passing_now(only_hr) == hr_ids
    writer = Catalog(tmp_path / "catalog.sqlite", setup=False)  # another process's ingest
    added = add_file(writer, store, HR, "hr-new.txt", 3, rng)
    assert catalog.passing_now(only_hr) is None  # changed: never the old set
    assert catalog.passing_now(only_hr) == hr_ids | {c.id for c in added}
    writer.remove_files(["hr-0.txt"])
    catalog.passing_now(only_hr)
    now = catalog.passing_now(only_hr)
    assert now and not any(chunks[i].source == "hr-0.txt" for i in now if i in chunks)
    writer.close()


def test_the_ids_in_memory_follow_this_connections_own_writes(folders):
    catalog, store, chunks, rng = folders
    only_eng = within_folders(None, {ENG})
    catalog.passing_now(only_eng)
    before = catalog.passing_now(only_eng)
    catalog.remove_files(["eng/e-0.txt"])
    assert catalog.passing_now(only_eng) is None
    assert len(catalog.passing_now(only_eng)) == len(before) - 20


def test_a_few_passing_chunks_are_searched_exactly(folders):
    catalog, store, chunks, rng = folders
    only_hr = within_folders(None, {HR})
    catalog.passing_now(only_hr)
    known = catalog.passing_now(only_hr)
    subsets = Subsets()
    for _ in range(5):
        vector = rng.standard_normal(16).astype(np.float32)
        found = nearest_passing(store, catalog, vector, 7, only_hr, share=0.1, subsets=subsets)
        assert [m.id for m in found] == exact(store, chunks, vector, 7, lambda c: not c.source.startswith("eng/"))
        assert [round(m.score, 5) for m in found] == [
            round(m.score, 5) for m in store.query(vector, 400) if m.id in known
        ][:7]  # scored as the store scores: cosine
    assert Subsets(limit=len(known) - 1).nearest(store, only_hr, known, vector, 7) is None  # too many: the graph


def test_the_vectors_held_for_a_filter_are_read_again_when_its_chunks_change(folders, tmp_path):
    catalog, store, chunks, rng = folders
    only_hr = within_folders(None, {HR})
    subsets = Subsets()
    catalog.passing_now(only_hr)
    nearest_passing(store, catalog, np.ones(16, np.float32), 3, only_hr, subsets=subsets)
    writer = Catalog(tmp_path / "catalog.sqlite", setup=False)
    added = add_file(writer, store, HR, "hr-new.txt", 1, rng)
    target = store.vectors([added[0].id])[added[0].id]
    catalog.passing_now(only_hr)
    found = nearest_passing(store, catalog, target, 1, only_hr, subsets=subsets)
    assert [m.id for m in found] == [added[0].id]
    writer.close()


def test_a_search_needing_some_of_its_candidates_keeps_an_exact_prefix(folders):
    """Hybrid search fuses 50 nearest but shows a few: under a filter it may keep fewer than 50, but
    never a list with a gap (a passing chunk closer than a kept one left out)."""
    catalog, store, chunks, rng = folders
    only_hr = within_folders(None, {HR})  # 40 of 400 chunks: a share of 0.1
    for _ in range(10):
        vector = rng.standard_normal(16).astype(np.float32)
        found = [m.id for m in nearest_passing(store, catalog, vector, 30, only_hr, share=0.1, least=5)]
        assert len(found) >= 5
        assert found == exact(store, chunks, vector, len(found), lambda c: not c.source.startswith("eng/"))


def test_the_first_ask_stops_at_the_store_depth_when_that_gives_enough():
    assert first_width(50, 0.1) == 750  # all 50 wanted: 1.5x what the share needs
    assert first_width(50, 0.1, least=12) == 500  # 12 wanted: the store's own search depth
    assert first_width(12, 0.1, least=12) == 200
    assert first_width(50, None, least=12) == 400
    assert first_width(50, 0.001, least=12) == 0  # far too narrow: the store filters


def test_a_where_filter_and_folders_together_search_exactly(folders):
    catalog, store, chunks, rng = folders
    flt = within_folders(parse_where("page=1-3"), {ENG})
    subsets = Subsets()
    catalog.passing_now(flt)
    vector = rng.standard_normal(16).astype(np.float32)
    found = nearest_passing(store, catalog, vector, 5, flt, subsets=subsets)
    assert [m.id for m in found] == exact(
        store, chunks, vector, 5, lambda c: c.source.startswith("eng/") and c.metadata()["page"] <= 3
    )
