"""`localgpt serve` against a real server on loopback: the bundled models, Chroma on disk, the
network blocked for everything but the server's own port (conftest.py)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import threading
import time

import httpx
import pytest

from conftest import SAMPLES, localgpt_cmd
from live_server import live_server

LEASE_QUESTION = "What is the notice period in the lease?"
TOKEN = "test-token-0123456789abcdef"


# --- fast: no server ---------------------------------------------------------------------------
def test_loopback_needs_no_token_and_any_other_address_gets_one():
    from server.run import plan

    assert plan("127.0.0.1", 8000, "").token is None
    team = plan("0.0.0.0", 8000, "")
    assert team.generated and len(team.token) >= 16
    given = plan("0.0.0.0", 8000, TOKEN)
    assert given.token == TOKEN and not given.generated


def test_a_short_token_is_refused_with_the_reason():
    from server.run import ServeError, plan

    with pytest.raises(ServeError, match="too short"):
        plan("0.0.0.0", 8000, "abc")


def test_serve_refuses_a_short_token_before_loading_anything(tmp_path):
    done = subprocess.run(
        localgpt_cmd("serve", "--db", str(tmp_path / "none"), "--host", "0.0.0.0", "--token", "short"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "too short" in done.stderr and "Traceback" not in done.stderr


def test_the_evidence_sentence_is_found_across_line_breaks_and_case():
    from server.pages import find_sentence

    page = "Header\r\nThe Tenant may end this\r\nlease with 60 days'  notice.\r\nFooter"
    first, count = find_sentence(page, "the tenant may end this lease with 60 days' notice.")
    assert page[first : first + count].startswith("The Tenant") and page[first : first + count].endswith("notice.")
    assert find_sentence(page, "nothing like this at all on the page, none whatsoever") is None


# --- a real server --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict:
    """The samples ingested from a folder of their own, plus copy.pdf (swapped for a link leaving the
    folder after the ingest) and an outside PDF for that link to point at."""
    from core.settings import load_settings
    from ingest.pipeline import run_ingest

    base = tmp_path_factory.mktemp("serve")
    docs = base / "docs"
    shutil.copytree(SAMPLES, docs)
    shutil.copy(docs / "lease_agreement.pdf", docs / "copy.pdf")
    db = base / "db"
    report = run_ingest(load_settings({"db": db, "source_dir": docs}, environ={}))
    assert report.exit_code == 0, report.failed
    outside = base / "outside.pdf"
    shutil.copy(docs / "lease_agreement.pdf", outside)
    (docs / "copy.pdf").unlink()
    (docs / "copy.pdf").symlink_to(outside)
    return {"db": db, "docs": docs}


@pytest.fixture(scope="module")
def engine(corpus):
    from core.settings import load_settings
    from server.engine import Engine

    engine = Engine(load_settings({"db": corpus["db"], "max_tokens": 64}, environ={"LOCALGPT_THREADS": "2"}))
    engine.load()
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def server(engine):
    from server.app import build_app
    from server.run import Plan, allowed_hosts

    with live_server(build_app(engine, None, allowed_hosts(Plan("127.0.0.1", 0, None, False)))) as live:
        yield live


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=300) as client:
        yield client


def one_line_error(response) -> str:
    assert response.headers["content-type"].startswith("application/json")
    assert response.text.count("\n") <= 1 and "Traceback" not in response.text
    return response.json()["error"]


def sse(response) -> list[tuple[str, dict]]:
    events, name = [], "message"
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[6:])))
    return events


@pytest.mark.slow
def test_health_counts_the_index(client):
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["files"] == 5 and health["chunks"] > 0


@pytest.mark.slow
def test_search_returns_what_search_json_returns(client):
    hits = client.post("/api/search", json={"query": "notice period", "k": 3, "mode": "bm25"}).json()
    assert [h["rank"] for h in hits] == [1, 2, 3][: len(hits)] and hits
    assert {"chunk_id", "source", "page", "citation", "text", "score", "relevance", "passage"} <= set(hits[0])
    only = client.post("/api/search", json={"query": "notice period", "where": ["source=*.md"]}).json()
    assert only and all(h["source"].endswith(".md") for h in only)


@pytest.mark.slow
def test_bad_requests_get_one_line_json_errors(client):
    assert "mode" in one_line_error(client.post("/api/search", json={"query": "rent", "mode": "fuzzy"})).lower()
    response = client.post("/api/search", content=b"{not json")
    assert response.status_code == 400 and "not JSON" in one_line_error(response)
    response = client.post("/api/search", json={"k": 3})
    assert response.status_code == 400 and "query" in one_line_error(response)
    response = client.post("/api/search", content=b"x" * (300 * 1024), headers={"content-type": "application/json"})
    assert response.status_code == 413 and "larger" in one_line_error(response)
    assert client.get("/api/nothing").status_code == 404
    assert (
        "access-control-allow-origin"
        not in client.options(
            "/api/search", headers={"origin": "http://evil.example", "access-control-request-method": "POST"}
        ).headers
    )


@pytest.mark.slow
def test_a_foreign_host_name_is_refused_on_loopback(client):
    response = client.get("/api/health", headers={"host": "rebound.example.com"})
    assert response.status_code == 421


@pytest.mark.slow
def test_ask_returns_the_answer_record_of_ask_json(client):
    import jsonschema

    from conftest import REPO

    record = client.post("/api/ask", json={"query": LEASE_QUESTION}).json()
    jsonschema.validate(record, json.loads((REPO / "docs" / "answer.schema.json").read_text()))
    assert record["answer"] and not record["refused"]
    assert record["evidence"] and record["sources"]
    assert any(s["source"] in ("lease_agreement.pdf", "copy.pdf") for s in record["sources"])


@pytest.mark.slow
def test_ask_streams_tokens_then_the_record(client):
    with client.stream("POST", "/api/ask", json={"query": LEASE_QUESTION, "stream": True}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse(response)
    names = [n for n, _ in events]
    assert "token" in names and names[-1] == "answer"
    assert names.index("token") < names.index("answer")
    assert events[-1][1]["evidence"]


@pytest.mark.slow
def test_a_follow_up_is_understood_from_the_history(client):
    history = [{"question": "What is the monthly rent?", "answer": "The monthly rent is 1,450 EUR [1]."}]
    with client.stream("POST", "/api/ask", json={"query": "and the deposit?", "stream": True, "history": history}) as r:
        events = sse(r)
    assert events[-1][0] == "answer"
    assert events[-1][1]["question"] != "and the deposit?"  # answered as a standalone question


@pytest.mark.slow
def test_documents_lists_files_and_filters(client):
    docs = client.get("/api/documents").json()
    assert {d["source"] for d in docs} >= {"lease_agreement.pdf", "team_handbook.md", "office_inventory.csv"}
    lease = next(d for d in docs if d["source"] == "lease_agreement.pdf")
    assert lease["chunks"] > 0 and lease["pages"] >= 1 and lease["ingested_at"]
    assert [d["source"] for d in client.get("/api/documents", params={"q": "kettle"}).json()] == ["kettle_manual.docx"]


@pytest.mark.slow
def test_the_page_is_rendered_with_the_evidence_highlighted(client):
    from PIL import Image, ImageChops

    record = client.post("/api/ask", json={"query": LEASE_QUESTION, "where": ["source=lease_agreement.pdf"]}).json()
    evidence = record["evidence"][0]
    page = next(p for p in record["passages"] if p["n"] == evidence["n"])["page"]
    plain = client.get("/api/page", params={"source": "lease_agreement.pdf", "page": page})
    marked = client.get(
        "/api/page", params={"source": "lease_agreement.pdf", "page": page, "highlight": evidence["text"]}
    )
    assert plain.headers["content-type"] == "image/png" and marked.status_code == 200
    assert plain.headers["x-highlight-boxes"] == "0" and int(marked.headers["x-highlight-boxes"]) >= 1
    a, b = Image.open(io.BytesIO(plain.content)), Image.open(io.BytesIO(marked.content))
    assert a.size == b.size and a.size[0] > 500
    assert ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox() is not None
    response = client.get("/api/page", params={"source": "lease_agreement.pdf", "page": 99})
    assert response.status_code == 400 and "pages" in one_line_error(response)
    response = client.get("/api/page", params={"source": "team_handbook.md", "page": 1})
    assert response.status_code == 400 and "not a PDF" in one_line_error(response)


@pytest.mark.slow
@pytest.mark.parametrize(
    "source, status",
    [
        ("../outside.pdf", 403),
        ("docs/../../outside.pdf", 403),
        ("/etc/passwd", 403),
        ("./lease_agreement.pdf", 403),
        ("nothing.pdf", 404),
        ("copy.pdf", 403),  # copy.pdf: now a symbolic link to a file outside the folder
    ],
)
def test_only_files_inside_the_ingested_folder_are_served(client, source, status):
    response = client.get("/api/page", params={"source": source, "page": 1})
    assert response.status_code == status
    one_line_error(response)


@pytest.mark.slow
def test_the_official_openai_client_works_unchanged(server):
    import openai

    client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=300)
    assert [m.id for m in client.models.list().data] == ["localgpt"]
    completion = client.chat.completions.create(
        model="localgpt", messages=[{"role": "user", "content": LEASE_QUESTION}]
    )
    content = completion.choices[0].message.content
    extra = completion.model_extra["localgpt"]
    assert extra["schema_version"] == 1
    assert extra["evidence"] and extra["sources"]
    # What a plain client shows: the answer, then its sources, one a line.
    listed = "".join(f"\n- [{s['n']}] {s['citation']}" for s in extra["sources"])
    assert content == f"{extra['answer']}\n\nSources:{listed}", content
    assert "lease_agreement.pdf, page" in content or "copy.pdf, page" in content
    bare = client.chat.completions.create(
        model="localgpt",
        messages=[{"role": "user", "content": LEASE_QUESTION}],
        extra_body={"localgpt": {"sources_in_content": False}},
    )
    assert bare.choices[0].message.content == bare.model_extra["localgpt"]["answer"]
    assert "Sources:" not in bare.choices[0].message.content
    chunks = list(
        client.chat.completions.create(
            model="localgpt", stream=True, messages=[{"role": "user", "content": LEASE_QUESTION}]
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    assert chunks[-1].choices[0].finish_reason == "stop"
    record = chunks[-1].model_extra["localgpt"]
    assert record["sources"]
    assert text == record["answer"] + "\n\nSources:" + "".join(
        f"\n- [{s['n']}] {s['citation']}" for s in record["sources"]
    )


@pytest.mark.slow
def test_a_bad_sources_option_is_refused(client):
    response = client.post(
        "/v1/chat/completions",
        json={
            "model": "localgpt",
            "messages": [{"role": "user", "content": "rent?"}],
            "localgpt": {"sources_in_content": "no"},
        },
    )
    assert response.status_code == 400 and "sources_in_content" in one_line_error(response)


class _StallingModel:
    """A model whose first sentence states a figure no passage holds (so the answer is withheld and
    the evidence quoted instead), and which then would go on until `release` is set."""

    n_ctx = 2048

    def __init__(self):
        self.release = threading.Event()

    def count_tokens(self, messages) -> int:
        return sum(len(m["content"].split()) + 4 for m in messages)

    def stream_chat(self, messages, max_tokens, temperature, repeat_penalty):
        yield from ["The notice ", "period is ", "45 days. ", "And "]
        while not self.release.wait(0.05):
            yield ""
        yield "more."


@pytest.mark.slow
def test_a_withheld_answer_streams_the_quote_without_waiting_for_the_model(corpus):
    """The quoted answer (and its sources) stream as soon as the model's words are withheld, while
    the model would still be writing; the stream then ends with the record."""
    from core.settings import load_settings
    from server.app import build_app
    from server.engine import Engine

    model = _StallingModel()
    engine = Engine(load_settings({"db": corpus["db"]}, environ={"LOCALGPT_THREADS": "2"}))
    engine._llm = model  # the model the server uses: this one, not the bundled one
    request = {"model": "localgpt", "stream": True, "messages": [{"role": "user", "content": LEASE_QUESTION}]}
    try:
        with (
            live_server(build_app(engine, None, {"127.0.0.1"})) as live,
            httpx.Client(base_url=live.url, timeout=120) as http,
        ):
            with http.stream("POST", "/v1/chat/completions", json=request) as response:
                text, record = "", None
                for line in response.iter_lines():
                    if not line.startswith("data: {"):
                        continue
                    chunk = json.loads(line[6:])
                    if chunk["choices"][0].get("finish_reason") == "stop":
                        record = chunk["localgpt"]
                        break
                    text += chunk["choices"][0]["delta"].get("content") or ""
                assert not model.release.is_set()  # all of it came while the model was still "writing"
    finally:
        model.release.set()
        engine.close()
    assert record["answer_method"] == "quoted" and "45" in record["withheld"]
    assert text.startswith(record["answer"]) and "sixty (60) days" in text
    assert "\n\nSources:\n- [" in text


@pytest.mark.slow
def test_a_token_is_needed_on_every_request_when_set(engine):
    from server.app import build_app

    with live_server(build_app(engine, TOKEN)) as live, httpx.Client(base_url=live.url, timeout=60) as http:
        response = http.get("/api/health")
        assert response.status_code == 401 and "token" in one_line_error(response).lower()
        assert http.get("/api/health", headers={"authorization": "Bearer wrong-token-0123456789"}).status_code == 401
        assert http.get("/api/health", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert http.get("/v1/models").status_code == 401
        page = http.get("/")
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert http.post("/login", data={"token": "wrong"}).status_code == 401
        logged = http.post("/login", data={"token": TOKEN})
        assert logged.status_code == 303 and "httponly" in logged.headers["set-cookie"].lower()
        assert http.get("/").status_code == 200  # the cookie now
        assert http.get("/api/health").status_code == 200


@pytest.mark.slow
def test_a_client_that_disconnects_stops_its_generation_and_others_wait_in_line(client, tmp_path, monkeypatch):
    """An endless generation (tests/endless_answer.py) holds the model until its client goes away; a second
    client sees its place in line; once the first disconnects, the model answers the next request."""
    switch = tmp_path / "endless"
    switch.write_text("")
    monkeypatch.setenv("ENDLESS_ANSWER_SWITCH", str(switch))
    import importlib

    import endless_answer

    endless = importlib.reload(endless_answer)
    endless.patch()
    try:
        with client.stream("POST", "/api/ask", json={"query": LEASE_QUESTION, "stream": True}) as first:
            lines = first.iter_lines()
            deadline = time.monotonic() + 300
            while switch.read_text() != "generating":
                assert time.monotonic() < deadline, "generation never started"
                time.sleep(0.1)
            assert next(line for line in lines if line.startswith("event: token"))
            with client.stream("POST", "/api/ask", json={"query": LEASE_QUESTION, "stream": True}) as second:
                waiting = second.iter_lines()
                queued = next(
                    json.loads(line[6:]) for line in waiting if line.startswith("data: ") and "position" in line
                )
                assert queued == {"position": 1}
        switch.unlink()  # from now on generation ends as usual
        started = time.monotonic()
        record = client.post("/api/ask", json={"query": LEASE_QUESTION}, timeout=300).json()
        assert record["answer"]
        assert time.monotonic() - started < 250
        assert client.get("/api/health").json()["generation_waiting"] == 0
    finally:
        if switch.exists():
            switch.unlink()


@pytest.mark.slow
def test_twenty_clients_search_for_thirty_seconds_while_one_asks(server):
    """A bounded load test: every search answers, none waits on the generation, and the ask completes."""
    stop = time.monotonic() + 30
    latencies: list[float] = []
    failures: list[str] = []
    asked: list[dict] = []

    def searcher(n: int) -> None:
        queries = ["notice period", "kettle descaling", "monthly rent", "office chairs", "holiday policy"]
        with httpx.Client(base_url=server.url, timeout=60) as http:
            i = n
            while time.monotonic() < stop:
                started = time.perf_counter()
                response = http.post("/api/search", json={"query": queries[i % len(queries)], "k": 3})
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200 or not response.json():
                    failures.append(response.text)
                i += 1

    def asker() -> None:
        with httpx.Client(base_url=server.url, timeout=300) as http:
            asked.append(http.post("/api/ask", json={"query": LEASE_QUESTION}).json())

    threads = [threading.Thread(target=searcher, args=(n,)) for n in range(20)] + [threading.Thread(target=asker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=400)
    assert not failures, failures[:3]
    assert len(latencies) >= 100
    assert max(latencies) < 10, f"a search took {max(latencies):.1f} s"
    assert asked and asked[0]["answer"]


@pytest.mark.slow
def test_searches_answer_while_an_ingest_writes(client, corpus, tmp_path):
    more = tmp_path / "more"
    more.mkdir()
    for n in range(30):
        (more / f"note_{n}.md").write_text(
            f"# Note {n}\n\nThe parking permit number {n} is renewed every spring.\n" * 20
        )
    ingest = subprocess.Popen(
        localgpt_cmd("ingest", "--source-dir", str(more), "--db", str(corpus["db"]), "--quiet"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    try:
        while ingest.poll() is None:
            response = client.post("/api/search", json={"query": "notice period lease", "k": 3})
            assert response.status_code == 200, response.text
            seen.append(response.json())
            time.sleep(0.05)
    finally:
        out, err = ingest.communicate(timeout=300)
    assert ingest.returncode == 0, err
    assert len(seen) >= 3 and all(hits for hits in seen)
    hits = client.post("/api/search", json={"query": "parking permit renewed", "k": 3}).json()
    assert hits and "note_" in hits[0]["source"]
