"""Shared test set-up.

The network is blocked for the whole test session, in this process, at the socket level:
any attempt to connect anywhere but a Unix socket raises, is recorded, and fails the test
during which it happened (a library swallowing the error does not hide it). Subprocesses
run through `offline_cmd`, which puts them in a network namespace of their own when the
machine allows it (root), so they cannot reach the network either.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "source_documents"
NOTICE_QUESTION = "What is the notice period in the lease?"

# On an emulated CPU (qemu-x86_64 -cpu max: AVX2, no AVX-512) the kernels run thousands of times slower than
# natively, measured here: llama.cpp took 550 s to read a 139-token prompt, 20 s for a 4-token one; the embedder
# 9 s for one question, 166 s for 10 sentences. So the emulated checks do the least that still runs each
# runtime on that CPU: an ask quoting its evidence from a one-sentence document (the embedder, retrieval,
# selection and the record), and llama.cpp writing two tokens after an 18-token prompt (EMULATED_GENERATION).
ONE_CLAUSE = "Either party may end this lease by giving at least sixty (60) days' written notice."
EMULATED_ASK = ["ask", "--json", "--answer-style", "quote", "-k", "1", NOTICE_QUESTION]
EMULATED_GENERATION = """
import json
from core.settings import load_settings
from generation.backends import load_llm
from generation.backends.llama_native import loaded_variant
llm = load_llm(load_settings())
messages = [{"role": "system", "content": "Answer."}, {"role": "user", "content": "Yes?"}]
text = "".join(llm.stream_chat(messages, max_tokens=2, temperature=0.0, repeat_penalty=1.0))
print(json.dumps({"text": text, "variant": loaded_variant()}))
"""


def write_one_clause_folder(folder: Path) -> Path:
    """A folder holding one short lease clause (lease.txt): what the emulated ask reads."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lease.txt").write_text(f"Lease terms\n\n{ONE_CLAUSE}\n", encoding="utf-8")
    return folder


def assert_quotes_the_clause(answer: dict) -> None:
    """The emulated ask's answer (`ask --json --answer-style quote`): the clause, quoted and cited."""
    assert not answer["refused"], answer
    assert answer["passages"][0]["source"] == "lease.txt"
    assert "sixty (60) days" in answer["evidence"][0]["text"]
    assert "sixty (60) days" in answer["answer"] and "[1]" in answer["answer"], answer["answer"]


NETWORK_ATTEMPTS: list[str] = []
# Servers a test started on loopback and configured (tests/servers.py): (port) -> connections made to it.
ALLOWED_PORTS: set[int] = set()
CONNECTIONS: list[tuple[str, int]] = []
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
LOOPBACK_PORTS = ALLOWED_PORTS  # the same set, by the name serve's tests use


def allow_loopback(port: int) -> None:
    ALLOWED_PORTS.add(int(port))


class NetworkBlocked(OSError):
    pass


def _allowed(target) -> bool:
    return isinstance(target, tuple) and len(target) >= 2 and target[0] in _LOOPBACK and target[1] in ALLOWED_PORTS


def _blocked(what: str):
    def guard(*args, **kwargs):
        target = args[1] if what in ("connect", "connect_ex") and len(args) > 1 else (args[0] if args else kwargs)
        sock = args[0] if what in ("connect", "connect_ex") and args else None
        if sock is not None and getattr(sock, "family", None) == socket.AF_UNIX:
            return _REAL_CONNECT(*args, **kwargs)
        if _allowed(target):
            if what == "create_connection":
                return _REAL_CREATE_CONNECTION(*args, **kwargs)  # its own connect comes back here, and is recorded
            CONNECTIONS.append((str(target[0]), int(target[1])))
            return (_REAL_CONNECT if what == "connect" else _REAL_CONNECT_EX)(*args, **kwargs)
        NETWORK_ATTEMPTS.append(f"{what} {target!r}")
        raise NetworkBlocked(f"network access blocked in tests: {what} {target!r}")

    return guard


_REAL_CONNECT = socket.socket.connect
_REAL_CONNECT_EX = socket.socket.connect_ex
_REAL_CREATE_CONNECTION = socket.create_connection


# Session fixtures that load a real model or ingest with one: a test using any of them (directly
# or through another fixture) is marked `slow`. Tests that start subprocesses, servers or bundle
# builds are marked in their own files. `pytest -m "not slow"` runs the logic alone.
REAL_MODEL_FIXTURES = {"sample_db", "embedder", "llm"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def pytest_configure(config):
    os.environ.setdefault("LOCALGPT_THREADS", "2")
    socket.socket.connect = _blocked("connect")
    socket.socket.connect_ex = _blocked("connect_ex")
    socket.create_connection = _blocked("create_connection")


@pytest.fixture(autouse=True)
def _fail_on_network_attempt():
    before = len(NETWORK_ATTEMPTS)
    yield
    attempts = NETWORK_ATTEMPTS[before:]
    assert not attempts, f"the code tried to reach the network: {attempts}"


@pytest.fixture(autouse=True)
def _no_localgpt_env(monkeypatch):
    """A user's LOCALGPT_* variables must not change what tests see."""
    for key in list(os.environ):
        if key.startswith("LOCALGPT_") and key != "LOCALGPT_THREADS":
            monkeypatch.delenv(key, raising=False)


def _can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


CAN_UNSHARE = _can_unshare()


def offline_cmd(args: list[str]) -> list[str]:
    """`args` run in a network namespace with no interfaces up, where the machine allows it."""
    return ["unshare", "-n", *args] if CAN_UNSHARE else list(args)


def localgpt_cmd(*args: str) -> list[str]:
    """The CLI of this checkout, as a subprocess command, cut off from the network."""
    return offline_cmd([sys.executable, str(REPO / "localgpt.py"), *args])


@pytest.fixture()
def fake_llm():
    """Make a scripted model: `fake_llm("first reply", "second reply")` (tests/fakes.py)."""
    from fakes import FakeLLM

    return lambda *replies: FakeLLM(list(replies))


@pytest.fixture()
def fake_embedder():
    """Deterministic bag-of-words vectors: texts sharing words are similar (tests/fakes.py)."""
    from fakes import FakeEmbedder

    return FakeEmbedder()


@pytest.fixture(scope="session")
def settings_for(tmp_path_factory):
    """Settings pointing at a given db folder, everything else default."""
    from core.settings import load_settings

    def make(db: Path, **overrides):
        return load_settings({"db": db, **overrides}, environ={"LOCALGPT_THREADS": "2"})

    return make


def ingest_folder(source: Path, db: Path) -> Path:
    """`source` ingested into `db` in this process with the default settings, every file read; `db`."""
    from core.settings import load_settings
    from ingest.pipeline import run_ingest

    report = run_ingest(load_settings({"db": db, "source_dir": source}, environ={}))
    assert report.exit_code == 0, report.failed
    return db


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory) -> Path:
    """The sample documents ingested once for the session (read-only for tests)."""
    return ingest_folder(SAMPLES, tmp_path_factory.mktemp("sample") / "db")


@pytest.fixture(scope="session")
def embedder():
    from core.settings import load_settings
    from embeddings import load_embedder

    return load_embedder(load_settings(environ={}))


@pytest.fixture(scope="session")
def llm():
    """The bundled LLM, loaded once for the session."""
    from core.settings import load_settings
    from generation import load_llm

    return load_llm(load_settings(environ={"LOCALGPT_THREADS": "2"}))


def fts5_catalog(path: Path):
    """A catalog whose lexical index is FTS5, as every index made before Tantivy had it."""
    import sqlite3

    from index.catalog import FTS5, LEXICAL_KEY, Catalog

    with sqlite3.connect(str(path)) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT OR REPLACE INTO info(key, value) VALUES (?, ?)", (LEXICAL_KEY, FTS5))
    conn.close()
    return Catalog(path)
