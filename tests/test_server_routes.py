"""The server's routes in-process with fakes (no model, no index on disk, no socket): the native API,
the OpenAI-compatible one, their errors with the status each error class carries, and follow-ups
going through the answer service like chat's."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from core.errors import NoIndexError
from core.settings import load_settings
from fake_service import FALLBACK, FOLLOWUP, GOOD, INVENTED, RENT, RENT_ANSWER, FakeRetriever, Rewriting
from generation.backends.openai_llm import LLMServerError
from index.chroma_remote import VectorServerError
from server.app import build_app
from server.engine import Engine

HISTORY = [{"question": RENT, "answer": RENT_ANSWER}]


def engine_with(rewrite: str = "", *answers: str) -> Engine:
    engine = Engine(load_settings({"db": "unused", "min_score": 0, "min_evidence": 0}, environ={}))
    retriever, llm = FakeRetriever(), Rewriting(list(answers), rewrite=rewrite)
    engine.retriever = lambda: retriever
    engine.llm = lambda: llm
    engine._fresh = lambda search: search()  # no catalog on disk to watch
    return engine


@pytest.fixture()
def client_for():
    made = []

    def make(engine: Engine) -> TestClient:
        client = TestClient(build_app(engine), raise_server_exceptions=False)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def events_of(text: str) -> list[tuple[str, dict]]:
    events, name = [], "message"
    for line in text.splitlines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and line != "data: [DONE]":
            events.append((name, json.loads(line[6:])))
    return events


def test_health_search_and_ask(client_for):
    client = client_for(engine_with("", "Sixty days [1]."))
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["chunks"] == 4 and health["files"] == 2
    hits = client.post("/api/search", json={"query": "notice to end the lease", "k": 2}).json()
    assert [h["rank"] for h in hits] == [1, 2] and hits[0]["source"] == "lease_agreement.pdf"
    record = client.post("/api/ask", json={"query": "How much notice ends the lease?"}).json()
    assert record["question"] == "How much notice ends the lease?"
    assert record["retrieved"] and record["retrieved"][0]["page"] == 2
    assert {"retrieve_s", "answer_s", "total_s"} <= set(record["timings"])


def test_a_streamed_follow_up_searches_the_fallback_not_an_invented_figure(client_for):
    engine = engine_with(INVENTED, "One month's rent [1].")
    client = client_for(engine)
    response = client.post("/api/ask", json={"query": FOLLOWUP, "history": HISTORY, "stream": True})
    assert response.headers["content-type"].startswith("text/event-stream")
    events = events_of(response.text)
    names = [n for n, _ in events]
    assert names[-1] == "answer" and "retrieved" not in names  # only what a client can read goes out
    searching = [data["standalone"] for name, data in events if name == "searching"]
    assert searching == [FALLBACK]
    assert events[-1][1]["question"] == searching[0]
    assert not any("4,200" in q for q in engine.retriever().searched)


def test_the_openai_api_follows_up_the_same_way(client_for):
    engine = engine_with(INVENTED, "One month's rent [1].")
    client = client_for(engine)
    messages = [
        {"role": "user", "content": RENT},
        {"role": "assistant", "content": RENT_ANSWER},
        {"role": "user", "content": FOLLOWUP},
    ]
    response = client.post("/v1/chat/completions", json={"model": "localgpt", "messages": messages, "stream": True})
    chunks = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: {")]
    standalone = [c["localgpt"]["standalone"] for c in chunks if "standalone" in c.get("localgpt", {})]
    assert standalone == [FALLBACK]
    assert response.text.rstrip().endswith("data: [DONE]")
    assert not any("4,200" in q for q in engine.retriever().searched)
    # not streamed: the same service, a good rewrite is searched
    engine = engine_with(GOOD, "One month's rent [1].")
    body = client_for(engine).post("/v1/chat/completions", json={"messages": messages}).json()
    assert body["object"] == "chat.completion" and body["localgpt"]["question"] == GOOD
    assert set(engine.retriever().searched) == {GOOD, FOLLOWUP}
    assert client.get("/v1/models").json()["data"][0]["id"] == "localgpt"


def test_bad_requests_are_400_with_one_line_of_json(client_for):
    client = client_for(engine_with())
    response = client.post("/api/search", content=b"{not json")
    assert response.status_code == 400 and "not JSON" in response.json()["error"]
    assert client.post("/api/ask", json={"query": "rent", "history": "no"}).status_code == 400
    assert client.post("/v1/chat/completions", json={"model": "gpt-4", "messages": []}).status_code == 400


@pytest.mark.parametrize(
    "error, status",
    [
        (VectorServerError("The Chroma server at http://127.0.0.1:1 did not answer."), 502),
        (LLMServerError("The model server at http://127.0.0.1:1/v1 did not answer."), 502),
        (NoIndexError("No index at db: ingest first."), 503),
    ],
)
def test_a_server_behind_us_that_is_down_answers_502_or_503_not_400(client_for, error, status):
    engine = engine_with()

    def down(*args, **kwargs):
        raise error

    engine.search = down
    engine.ask = down
    client = client_for(engine)
    response = client.post("/api/search", json={"query": "rent"})
    assert response.status_code == status and response.json() == {"error": str(error)}
    assert client.post("/api/ask", json={"query": "rent"}).status_code == status
    events = events_of(client.post("/api/ask", json={"query": "rent", "stream": True}).text)
    assert events == [("error", {"error": str(error), "status": status})]
    messages = [{"role": "user", "content": "rent"}]
    assert client.post("/v1/chat/completions", json={"messages": messages}).status_code == status
