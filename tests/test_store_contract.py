"""Every vector store passes the same contract (tests/store_contract.py): the in-memory fake, Chroma
on disk, and Chroma's own server on loopback. A new store adds one subclass here."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import REPO, offline_cmd
from fakes import InMemoryStore
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
