"""Every vector store passes the same contract (tests/store_contract.py): the in-memory fake, Chroma
on disk, Chroma's own server on loopback, and PostgreSQL with pgvector. A new store adds one subclass here."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import REPO, offline_cmd
from fakes import InMemoryStore
from core.filters import parse_where
from store_contract import VectorStoreContract


class TestInMemoryStore(VectorStoreContract):
    @pytest.fixture()
    def store(self):
        return InMemoryStore()

    @pytest.fixture()
    def other_writer(self, store):
        return store.another()


class _OtherProcess:
    """Writes to a local Chroma folder from another process (tests/store_writer.py)."""

    def __init__(self, path: Path, scratch: Path):
        self.path, self.scratch = path, scratch

    def _run(self, action: str, data: dict) -> None:
        data_file = self.scratch / f"{uuid.uuid4().hex}.json"
        data_file.write_text(json.dumps(data))
        cmd = offline_cmd(
            [sys.executable, str(REPO / "tests" / "store_writer.py"), str(self.path), action, str(data_file)]
        )
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]

    def upsert(self, ids, vectors, metadatas) -> None:
        self._run(
            "upsert", {"ids": list(ids), "vectors": [list(map(float, v)) for v in vectors], "metadatas": metadatas}
        )

    def delete_ids(self, ids) -> None:
        self._run("delete", {"ids": list(ids)})


@pytest.mark.slow
class TestLocalChroma(VectorStoreContract):
    @pytest.fixture()
    def store(self, tmp_path):
        from index.chroma_store import ChromaStore

        return ChromaStore(tmp_path / "chroma")

    @pytest.fixture()
    def other_writer(self, store, tmp_path):
        return _OtherProcess(store.path, tmp_path)


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    from servers import chroma_server

    server = chroma_server(tmp_path_factory.mktemp("chroma-server") / "data").start()
    yield server.url
    server.close()


@pytest.mark.slow
class TestChromaServer(VectorStoreContract):
    @pytest.fixture()
    def store(self, chroma_url):
        from index.chroma_remote import ChromaServerStore

        return ChromaServerStore(chroma_url, f"contract_{uuid.uuid4().hex[:12]}", must_exist=False)

    @pytest.fixture()
    def other_writer(self, store, chroma_url):
        from index.chroma_remote import ChromaServerStore

        return ChromaServerStore(chroma_url, store.collection_name, must_exist=True)  # a second client


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory):
    from servers import postgres_server

    return postgres_server(tmp_path_factory.mktemp("postgres") / "data").get_uri()


@pytest.mark.slow
class TestPgVector(VectorStoreContract):
    @staticmethod
    def _open(url: str, schema: str):
        from index.pg_connect import PgAddress, PgDatabase
        from index.pg_vectors import PgVectorStore

        return PgVectorStore(PgDatabase(PgAddress(url, schema)))

    @pytest.fixture()
    def store(self, postgres_url):
        store = self._open(postgres_url, f"contract_{uuid.uuid4().hex[:12]}")
        yield store
        store.db.close()

    @pytest.fixture()
    def other_writer(self, store, postgres_url):
        other = self._open(postgres_url, store.schema)  # a second pool: another host's connections
        yield other
        other.db.close()

    @pytest.mark.parametrize(
        "where", ["page=1", "page=1-2", "page=1.5", "page=abc", {"page": "1"}, {"flag": True}, {"label": "1"}]
    )
    def test_a_filter_keeps_metadata_types_apart_as_filter_matches_does(self, store, where):
        """Postgres compares JSON values: a filter must still tell 1 from "1" and from true, and a
        range must skip strings and booleans, exactly as `Filter.matches` (and so every other store) does."""
        from store_contract import unit_vectors

        metas = [
            {"source": "a.txt", "page": 1},
            {"source": "b.txt", "page": "1"},
            {"source": "c.txt", "page": True},
            {"source": "d.txt", "page": 1.5},
            {"source": "e.txt", "page": "abc", "flag": True},
            {"source": "f.txt", "label": "1", "flag": 1},
            {"source": "g.txt", "label": 1},
            {"source": "h.txt"},
        ]
        ids = [m["source"] for m in metas]
        store.upsert(ids, unit_vectors(len(ids)), metas)
        flt = parse_where(where)
        expected = {m["source"] for m in metas if flt.matches(m)}
        assert expected  # each filter matches something, so the test can fail
        assert {m.id for m in store.query(unit_vectors(1, seed=4)[0], 10, where=flt)} == expected
