"""Chroma's HNSW graph is searched at our depth (index/chroma_search_depth.py): a new local index
is made with it, and an index made with Chroma's default gets it when opened, so every process
that opens the same index searches alike."""

from __future__ import annotations

import numpy as np

from index.chroma_search_depth import EF_SEARCH, current_depth
from index.chroma_store import COLLECTION, ChromaStore


def test_a_new_store_searches_at_our_depth(tmp_path):
    store = ChromaStore(tmp_path / "chroma")
    assert current_depth(store._collection) == EF_SEARCH


def test_a_store_made_with_chromas_default_depth_gets_ours_when_opened(tmp_path):
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"), settings=Settings(anonymized_telemetry=False))
    old = client.get_or_create_collection(COLLECTION, embedding_function=None, metadata={"hnsw:space": "cosine"})
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((50, 8)).astype(np.float32)
    old.add(ids=[f"c{i}" for i in range(50)], embeddings=vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    assert current_depth(old) == 100  # what Chroma gives a collection by default
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    store = ChromaStore(tmp_path / "chroma")
    assert current_depth(store._collection) == EF_SEARCH
    assert store.count() == 50 and store.query(vectors[0] / np.linalg.norm(vectors[0]), 1)[0].id == "c0"
