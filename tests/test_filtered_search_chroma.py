"""A user who may read one folder of several, searching a real index (Chroma on disk, the SQLite
catalog, Tantivy): every search, whichever way the index answers it (the catalog checking the
store's nearest, the passing ids held in memory, the folder's vectors searched exactly), finds
only that folder's chunks, and the same ones each time."""

from __future__ import annotations

import numpy as np
import pytest

from core.filters import within_folders
from core.settings import load_settings
from core.types import Chunk
from index import open_index
from index.catalog import FileRecord
from index.store import IndexInfo
from retrieval.retriever import Retriever, SearchOptions, SearchRequest

pytestmark = pytest.mark.slow  # real Chroma

FOLDERS = ["/team/hr", "/team/eng", "/team/sales", "/team/legal"]
DIMS = 32


def build(db, rng) -> dict[str, np.ndarray]:
    """Four folders of 3 files x 40 chunks; returns each chunk's vector by id."""
    vectors_by_id = {}
    with open_index(db, write=True) as index:
        index.check_compatible(IndexInfo("test-model", "fp", DIMS, 200, 20), True)
        for n, folder in enumerate(FOLDERS):
            root = index.catalog.add_root(folder, "" if n == 0 else folder.rsplit("/", 1)[1])
            for f in range(3):
                source = root.source_of(f"doc-{f}.txt")
                chunks = [Chunk.make(f"word{n} text{f} piece {i} alpha", source, i, {"page": i + 1}) for i in range(40)]
                vectors = rng.standard_normal((40, DIMS)).astype(np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                index.write_files([(FileRecord(source, f"h{n}{f}", 40, 1, root=root.path), chunks)], vectors)
                vectors_by_id.update({c.id: v for c, v in zip(chunks, vectors)})
    return vectors_by_id


def test_a_restricted_users_searches_find_only_their_folder_whichever_path_answers(tmp_path):
    rng = np.random.default_rng(5)
    vectors_by_id = build(tmp_path / "db", rng)
    settings = load_settings(environ={})
    with open_index(tmp_path / "db") as index:
        retriever = Retriever(index, None, SearchOptions.of(settings))
        hr_sources = set(index.catalog.files("/team/hr"))
        hr_ids = {cid for cid in index.catalog.chunk_ids_of(hr_sources)}
        assert len(hr_ids) == 120
        for mode in ("dense", "hybrid"):
            vector = rng.standard_normal(DIMS).astype(np.float32)
            vector /= np.linalg.norm(vector)
            expected = sorted(hr_ids, key=lambda cid: -float(vectors_by_id[cid] @ vector))
            rounds = []
            for _ in range(4):  # first by query, then from memory, then exactly over the folder's vectors
                hits = retriever.run(
                    SearchRequest("alpha piece", 5, mode=mode, folders=frozenset({"/team/hr"})), vector
                )
                assert hits and {h.chunk.source for h in hits} <= hr_sources
                rounds.append([h.chunk.id for h in hits])
            assert rounds[1:] == rounds[:-1]
            if mode == "dense":
                assert rounds[0][0] == expected[0]
            owner = retriever.run(SearchRequest("alpha piece", 5, mode=mode), vector)
            assert {h.chunk.source for h in owner} - hr_sources  # the owner's search reaches other folders
        only_hr = within_folders(None, {"/team/hr"})
        vector = rng.standard_normal(DIMS).astype(np.float32)
        expected = sorted(hr_ids, key=lambda cid: -float(vectors_by_id[cid] @ vector))
        for _ in range(4):  # the store's nearest, checked, then the folder's vectors: the same exact list
            assert [c.id for c in index.nearest(vector, 20, only_hr)] == expected[:20]


def test_whether_a_document_names_a_word_is_read_from_the_lexical_index(tmp_path):
    """The answer's subject check asks whether the evidence's document names the question's subject."""
    build(tmp_path / "db", np.random.default_rng(1))
    with open_index(tmp_path / "db") as index:
        hr_doc = sorted(index.catalog.files("/team/hr"))[0]
        assert index.document_mentions(hr_doc, ["word0"])
        assert not index.document_mentions(hr_doc, ["word1"])  # another folder's word
        assert index.document_mentions(hr_doc, ["nothing", "text0"])
