"""Real servers on loopback, started here: Chroma's own server (`chroma run`) holding the vectors,
llama-cpp-python's OpenAI-compatible server generating. Everything a user does with
--chroma-url and --llm-url, and that nothing else is ever contacted."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from conftest import CONNECTIONS, NETWORK_ATTEMPTS, REPO, SAMPLES
from localgpt import cli
from servers import chroma_server, failing_server, free_port, llama_server
from test_ingest_incremental import prose, write_corpus

pytestmark = pytest.mark.slow

QUESTION = "What is the monthly rent?"


@pytest.fixture(scope="module")
def chroma(tmp_path_factory):
    base = tmp_path_factory.mktemp("chroma-server")
    server = chroma_server(base / "data").start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    server = llama_server(tmp_path_factory.mktemp("llama-server")).start(timeout=180)
    yield server
    server.close()


@pytest.fixture(scope="module")
def server_db(chroma, tmp_path_factory):
    """The samples ingested into the Chroma server (read-only for tests)."""
    db = tmp_path_factory.mktemp("server-index") / "db"
    result = CliRunner().invoke(
        cli, ["ingest", "--source-dir", str(SAMPLES), "--db", str(db), "--quiet", "--chroma-url", chroma.url]
    )
    assert result.exit_code == 0, result.output
    return db


def state(db, url) -> dict:
    """Ids in the catalog, the lexical index and the server's collection."""
    from index import open_index

    with open_index(db, chroma_url=url) as index:
        sql = index.catalog.connection()
        catalog = sorted(r[0] for r in sql.execute("SELECT id FROM chunks"))
        fts = sorted(index.words.ids())  # the lexical index (Tantivy)
        files = dict(sql.execute("SELECT source, content_hash FROM files"))
        return {
            "catalog": catalog,
            "fts": fts,
            "files": files,
            "pending": index.catalog.pending(),
            "vectors": sorted(index.vectors.ids()),
            "vector_count": index.vectors.count(),
        }


def cli_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCALGPT_")}
    env.update({"LOCALGPT_EMBED_BATCH_SIZE": "4", "LOCALGPT_WORKERS": "1", **extra})
    return env


def ingest_cmd(folder, db, url) -> list[str]:
    # Not through conftest's offline_cmd: its network namespace has no loopback to reach the server by.
    return [
        sys.executable,
        str(REPO / "localgpt.py"),
        "ingest",
        "--source-dir",
        str(folder),
        "--db",
        str(db),
        "--quiet",
        "--chroma-url",
        url,
    ]


def test_ingest_search_ask_and_reingest_through_the_server(chroma, server_db, tmp_path):
    from index.chroma_remote import REQUEST_TIMEOUT_S

    runner = CliRunner()
    info = state(server_db, chroma.url)
    assert info["catalog"] and info["vectors"] == info["catalog"] and not info["pending"]
    assert not (server_db / "chroma").exists(), "vectors were written beside the catalog"

    found = runner.invoke(cli, ["search", "--db", str(server_db), "--chroma-url", chroma.url, "--json", "monthly rent"])
    assert found.exit_code == 0, found.output
    hits = json.loads(found.output)
    assert hits and "lease" in hits[0]["source"]
    dense = runner.invoke(
        cli, ["search", "--db", str(server_db), "--chroma-url", chroma.url, "--mode", "dense", "--json", "monthly rent"]
    )
    assert dense.exit_code == 0 and json.loads(dense.output)[0]["relevance"] > 0.3  # the vectors came from the server

    asked = runner.invoke(cli, ["ask", "--db", str(server_db), "--chroma-url", chroma.url, "--json", QUESTION])
    assert asked.exit_code == 0, asked.output
    answer = json.loads(asked.output)
    assert not answer["refused"] and answer["sources"] and "lease" in answer["sources"][0]["source"]

    # Without --chroma-url the index refuses, naming the server.
    refused = runner.invoke(cli, ["search", "--db", str(server_db), "monthly rent"])
    assert refused.exit_code == 1 and f"--chroma-url {chroma.url}" in refused.output

    from index import open_index

    with open_index(server_db, chroma_url=chroma.url) as index:
        assert index.vectors._client._server._session.timeout.read == REQUEST_TIMEOUT_S  # bounded, not chromadb's None


def test_incremental_reingest_through_the_server(chroma, tmp_path):
    folder, db = tmp_path / "docs", tmp_path / "db"
    write_corpus(folder, 6)
    runner = CliRunner()
    args = ["ingest", "--source-dir", str(folder), "--db", str(db), "--quiet", "--chroma-url", chroma.url]
    assert runner.invoke(cli, args).exit_code == 0
    first = state(db, chroma.url)
    again = runner.invoke(cli, args)
    assert again.exit_code == 0 and "6 unchanged" in again.output
    (folder / "part0" / "note000.txt").write_text(prose(500), encoding="utf-8")
    (folder / "part1" / "note001.txt").unlink()
    changed = runner.invoke(cli, args)
    assert changed.exit_code == 0 and "1 changed" in changed.output and "1 removed" in changed.output, changed.output
    after = state(db, chroma.url)
    assert after["vectors"] == after["catalog"] and after["catalog"] != first["catalog"]
    assert not any(s.endswith("note001.txt") for s in after["files"])


def test_kill_9_mid_ingest_then_rerun_gives_the_clean_runs_ids(chroma, tmp_path):
    folder = tmp_path / "docs"
    write_corpus(folder, 12)
    clean, db = tmp_path / "clean", tmp_path / "db"
    assert (
        subprocess.run(
            ingest_cmd(folder, clean, chroma.url), env=cli_env(), cwd=REPO, capture_output=True, timeout=300
        ).returncode
        == 0
    )
    for stage in ("embedded:6", "vectors:1"):
        killed = subprocess.run(
            ingest_cmd(folder, db, chroma.url),
            env=cli_env(LOCALGPT_TEST_KILL_AT=stage),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert killed.returncode == -signal.SIGKILL, f"not killed at {stage}: {killed.stderr[-2000:]}"
        mid = state(db, chroma.url)
        assert set(mid["catalog"]) <= set(mid["vectors"]), "a catalog chunk without its vector on the server"
    rerun = subprocess.run(
        ingest_cmd(folder, db, chroma.url), env=cli_env(), cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stderr
    got, expected = state(db, chroma.url), state(clean, chroma.url)
    assert got == expected and got["catalog"] and got["vectors"] == got["catalog"]


def test_server_stopped_mid_ingest_is_a_named_error_and_a_rerun_after_restart_finishes(tmp_path):
    server = chroma_server(tmp_path / "data").start()
    try:
        folder, db, clean = tmp_path / "docs", tmp_path / "db", tmp_path / "clean"
        write_corpus(folder, 30)
        assert (
            subprocess.run(
                ingest_cmd(folder, clean, server.url), env=cli_env(), cwd=REPO, capture_output=True, timeout=300
            ).returncode
            == 0
        )
        proc = subprocess.Popen(
            ingest_cmd(folder, db, server.url),
            env=cli_env(),
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:  # the first files are written: stop the server
            try:
                with sqlite3.connect(f"file:{db / 'catalog.sqlite'}?mode=ro", uri=True, timeout=1) as sql:
                    if sql.execute("SELECT count(*) FROM chunks").fetchone()[0] > 0:
                        break
            except sqlite3.Error:
                pass
            time.sleep(0.05)
        assert proc.poll() is None, "the ingest finished before the server could be stopped"
        server.stop()
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, out + err
        lines = [line for line in err.strip().splitlines() if line.strip()]
        assert lines[-1].startswith(f"Error: The Chroma server at {server.url} did not answer"), err[-2000:]
        assert "Traceback" not in err

        server.start()
        mid = state(db, server.url)
        assert set(mid["catalog"]) <= set(mid["vectors"]), "half-written: catalog chunks without vectors"
        rerun = subprocess.run(
            ingest_cmd(folder, db, server.url), env=cli_env(), cwd=REPO, capture_output=True, text=True, timeout=300
        )
        assert rerun.returncode == 0, rerun.stderr
        assert state(db, server.url) == state(clean, server.url)
    finally:
        server.close()


def test_a_chroma_server_that_is_down_is_one_line(tmp_path):
    from conftest import ALLOWED_PORTS

    port = free_port()  # nothing listens there
    ALLOWED_PORTS.add(port)
    try:
        result = CliRunner().invoke(
            cli,
            [
                "ingest",
                "--source-dir",
                str(SAMPLES),
                "--db",
                str(tmp_path / "db"),
                "--quiet",
                "--chroma-url",
                f"http://127.0.0.1:{port}",
            ],
        )
    finally:
        ALLOWED_PORTS.discard(port)
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert result.stderr.startswith(f"Error: The Chroma server at http://127.0.0.1:{port} did not answer")


# -- the LLM behind llama-cpp-python's server ---------------------------------------------------


def test_ask_streams_through_the_model_server_with_citations(llama, sample_db):
    result = CliRunner().invoke(cli, ["ask", "--db", str(sample_db), "--llm-url", f"{llama.url}/v1", QUESTION])
    assert result.exit_code == 0, result.output
    assert "Sources:" in result.output and "lease_agreement.pdf" in result.output.split("Sources:")[1]
    asked = CliRunner().invoke(cli, ["ask", "--db", str(sample_db), "--llm-url", f"{llama.url}/v1", "--json", QUESTION])
    answer = json.loads(asked.output)
    assert answer["answer_method"] in ("generated", "quoted") and answer["sources"]
    assert answer["generated"], "the server generated nothing"
    assert answer["prompt_tokens"] + 384 <= 2048  # budgeted to the window (--n-ctx: this server does not state it)


def test_chat_streams_through_the_model_server(llama, sample_db):
    result = CliRunner().invoke(
        cli,
        ["chat", "--db", str(sample_db), "--llm-url", f"{llama.url}/v1", "--max-tokens", "24", "-k", "2"],
        input=f"{QUESTION}\nHow much notice is needed to end it?\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("Sources") == 2 and "lease_agreement.pdf" in result.output


def test_model_server_with_a_key_answers_only_requests_that_carry_it(sample_db, tmp_path):
    import httpx

    key = tmp_path / "model.key"
    key.write_text("k" * 8 + "-model-server-key-for-tests\n")
    server = llama_server(tmp_path, api_key_file=key).start(timeout=180)
    try:
        with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as http:
            assert http.get("/v1/models").status_code == 401
            listed = http.get("/v1/models", headers={"Authorization": f"Bearer {key.read_text().strip()}"})
            assert listed.status_code == 200
            assert [m["id"] for m in listed.json()["data"]] == ["SmolLM2-135M-Instruct.Q4_1.gguf"]  # no host path
        url = f"{server.url}/v1"
        keyed = CliRunner().invoke(
            cli, ["ask", "--db", str(sample_db), "--llm-url", url, "--llm-api-key-file", str(key), "--json", QUESTION]
        )
        assert keyed.exit_code == 0, keyed.output
        assert json.loads(keyed.output)["sources"]
        keyless = CliRunner().invoke(cli, ["ask", "--db", str(sample_db), "--llm-url", url, QUESTION])
        assert keyless.exit_code == 1
        assert keyless.stderr.strip().count("\n") == 0, keyless.stderr
        assert url in keyless.stderr and "401" in keyless.stderr
        assert key.read_text().strip() not in server.log.read_text()  # the key is never logged
    finally:
        server.close()
    assert key.read_text().strip() not in " ".join(server.args)  # nor on a command line `ps` shows


def test_a_model_server_that_is_down_is_one_line(sample_db):
    from conftest import ALLOWED_PORTS

    port = free_port()  # nothing listens there
    ALLOWED_PORTS.add(port)
    try:
        result = CliRunner().invoke(
            cli, ["ask", "--db", str(sample_db), "--llm-url", f"http://127.0.0.1:{port}/v1", QUESTION]
        )
    finally:
        ALLOWED_PORTS.discard(port)
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert result.stderr.startswith(f"Error: The model server at http://127.0.0.1:{port}/v1 did not answer")


def test_a_model_server_answering_500_is_one_line(sample_db):
    from conftest import ALLOWED_PORTS

    server, port = failing_server()
    try:
        result = CliRunner().invoke(
            cli, ["ask", "--db", str(sample_db), "--llm-url", f"http://127.0.0.1:{port}/v1", QUESTION]
        )
    finally:
        server.shutdown()
        ALLOWED_PORTS.discard(port)
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "answered HTTP 500" in result.stderr and "model crashed" in result.stderr


def test_with_both_servers_nothing_else_is_contacted(chroma, llama, tmp_path):
    before, attempts = len(CONNECTIONS), len(NETWORK_ATTEMPTS)
    db = tmp_path / "db"
    runner = CliRunner()
    env = {"LOCALGPT_CHROMA_URL": chroma.url, "LOCALGPT_LLM_URL": f"{llama.url}/v1"}  # as LOCALGPT_* variables
    assert (
        runner.invoke(cli, ["ingest", "--source-dir", str(SAMPLES), "--db", str(db), "--quiet"], env=env).exit_code == 0
    )
    asked = runner.invoke(cli, ["ask", "--db", str(db), "--json", QUESTION], env=env)
    assert asked.exit_code == 0, asked.output
    assert json.loads(asked.output)["generated"]
    ports = {port for _, port in CONNECTIONS[before:]}
    assert ports == {chroma.port, llama.port}, ports  # both used, nothing else
    assert NETWORK_ATTEMPTS[attempts:] == []


def test_serve_answers_through_both_servers_and_contacts_nothing_else(chroma, llama, server_db, settings_for):
    import httpx

    from live_server import live_server
    from server.app import build_app
    from server.engine import Engine
    from server.run import Plan, allowed_hosts

    before, attempts = len(CONNECTIONS), len(NETWORK_ATTEMPTS)
    settings = settings_for(server_db, chroma_url=chroma.url, llm_url=f"{llama.url}/v1")
    engine = Engine(settings)
    engine.load()
    try:
        app = build_app(engine, None, allowed_hosts(Plan("127.0.0.1", 0, None, False)))
        with live_server(app) as live, httpx.Client(base_url=live.url, timeout=300, trust_env=False) as http:
            hits = http.post("/api/search", json={"query": QUESTION, "k": 3}).json()
            record = http.post("/api/ask", json={"query": QUESTION}).json()
            served = live.port
    finally:
        engine.close()
    assert hits and hits[0]["source"]
    assert record["generated"] and record["sources"] and not record["refused"]
    assert any(s["source"] == "lease_agreement.pdf" for s in record["sources"])
    ports = {port for _, port in CONNECTIONS[before:]}
    assert ports == {chroma.port, llama.port, served}, ports  # the two servers and our own, nothing else
    assert NETWORK_ATTEMPTS[attempts:] == []
