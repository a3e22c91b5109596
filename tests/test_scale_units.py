"""Fast logic of the server options (docs/scale.md): where an index keeps its vectors, bounded
retries against a Chroma server, and the OpenAI-compatible client's parsing, key handling and
errors. No server here (tests/test_scale_servers.py runs real ones)."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner

from core.settings import load_settings
from localgpt import cli


def make_index(db, **info):
    from index.catalog import Catalog

    db.mkdir(parents=True)
    catalog = Catalog(db / "catalog.sqlite")
    if info:
        catalog.set_info(info)
    catalog.close()


SERVER_INFO = {"vector_store": "server", "chroma_url": "http://10.0.0.5:8001", "chroma_collection": "localgpt_abc"}


def test_an_index_on_a_server_refuses_to_be_opened_in_process(tmp_path):
    from index import open_index
    from index.location import IndexLocationError

    db = tmp_path / "db"
    make_index(db, **SERVER_INFO)
    with pytest.raises(
        IndexLocationError, match=r"Chroma server at http://10.0.0.5:8001 .*--chroma-url http://10.0.0.5:8001"
    ):
        open_index(db, write=True)
    with open_index(db) as index:  # the catalog alone reads fine (localgpt documents)...
        assert index.catalog.file_count() == 0
        with pytest.raises(IndexLocationError):  # ...the vectors are refused
            _ = index.vectors
    assert not (db / "chroma").exists(), "an in-process store was created beside a server index"


def test_a_local_index_refuses_a_chroma_url(tmp_path):
    from index import open_index
    from index.location import IndexLocationError

    db = tmp_path / "db"
    make_index(db)
    (db / "chroma").mkdir()  # an index from before the record: local
    with pytest.raises(IndexLocationError, match="keeps its vectors in its own folder"):
        open_index(db, write=True, chroma_url="http://127.0.0.1:9")


def test_the_cli_says_it_in_one_line(tmp_path):
    db = tmp_path / "db"
    make_index(db, **SERVER_INFO)
    result = CliRunner().invoke(cli, ["search", "--db", str(db), "rent"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "Pass --chroma-url http://10.0.0.5:8001" in result.output


def test_a_new_index_records_where_its_vectors_live(tmp_path):
    from index import open_index

    local, server = tmp_path / "local", tmp_path / "server"
    with open_index(local, write=True) as index:
        assert index.catalog.info()["vector_store"] == "local"
    with open_index(server, write=True, chroma_url="127.0.0.1:8001") as index:  # nothing is contacted yet
        info = index.catalog.info()
    assert info["vector_store"] == "server" and info["chroma_url"] == "http://127.0.0.1:8001"
    assert info["chroma_collection"].startswith("localgpt_") and len(info["chroma_collection"]) > 12
    with open_index(tmp_path / "other", write=True, chroma_url="http://127.0.0.1:8001") as index:
        assert index.catalog.info()["chroma_collection"] != info["chroma_collection"]  # one collection per index


def test_transport_failures_are_retried_a_bounded_number_of_times(monkeypatch):
    from index import chroma_remote

    monkeypatch.setattr(chroma_remote, "RETRY_DELAYS_S", (0.0,))
    calls = []

    def down():
        calls.append(1)
        raise httpx.ConnectError("[Errno 111] Connection refused")

    with pytest.raises(
        chroma_remote.VectorServerError, match=r"Chroma server at http://h:1 did not answer .*Start it again"
    ):
        chroma_remote.with_retries(down, "http://h:1", "upsert")()
    assert len(calls) == chroma_remote.RETRIES + 1

    def client_down():  # chromadb's HttpClient says it so when it cannot reach the server
        calls.append(3)
        raise ValueError("Could not connect to a Chroma server. Are you sure it is running?")

    with pytest.raises(chroma_remote.VectorServerError, match="did not answer"):
        chroma_remote.with_retries(client_down, "http://h:1", "connect")()
    assert calls.count(3) == chroma_remote.RETRIES + 1

    def refused():
        calls.append(2)
        raise ValueError("collection is read-only")

    with pytest.raises(chroma_remote.VectorServerError, match="refused upsert: ValueError"):
        chroma_remote.with_retries(refused, "http://h:1", "upsert")()
    assert calls.count(2) == 1  # an answer is not retried


@pytest.mark.parametrize(
    "url, expected",
    [
        ("http://10.0.0.5:8001/", "http://10.0.0.5:8001"),
        ("10.0.0.5:8001", "http://10.0.0.5:8001"),
        ("https://chroma.lan", "https://chroma.lan:443"),
    ],
)
def test_chroma_urls(url, expected):
    from index.chroma_remote import parse_chroma_url

    assert parse_chroma_url(url).url == expected


def test_context_window_as_servers_state_it():
    from generation.backends.openai_llm import context_from_models, context_from_props

    assert context_from_props({"default_generation_settings": {"n_ctx": 8192}}) == 8192  # llama.cpp
    assert context_from_props({"n_ctx": 4096}) == 4096
    assert context_from_props({"detail": "Not Found"}) is None
    vllm = {"data": [{"id": "a", "max_model_len": 32768}, {"id": "b", "max_model_len": 4096}]}
    assert context_from_models(vllm, "b") == 4096 and context_from_models(vllm) == 32768
    assert context_from_models({"data": [{"id": "x", "owned_by": "me"}]}) is None  # llama-cpp-python: --n-ctx


def test_event_stream_pieces_and_errors():
    from generation.backends.openai_llm import ServerStreamError, sse_pieces

    lines = [
        'data: {"choices":[{"delta":{"role":"assistant"}}]}',
        "",
        'data: {"choices":[{"delta":{"content":"60"}}]}',
        ": keep-alive",
        'data: {"choices":[{"delta":{"content":" days [1]"}}]}',
        "data: [DONE]",
        'data: {"choices":[{"delta":{"content":"never"}}]}',
    ]
    assert list(sse_pieces(iter(lines))) == ["60", " days [1]"]
    with pytest.raises(ServerStreamError, match="out of memory"):
        list(sse_pieces(iter(['data: {"error": {"message": "out of memory"}}'])))


def test_estimate_never_undercounts_the_bundled_tokenizer(llm):
    from generation.backends.openai_llm import estimate_tokens
    from generation.prompt import build_messages

    messages = build_messages(
        "What is the notice period?",
        ["The tenant gives 60 days' notice in writing. " * 20, "Die Kündigungsfrist beträgt drei Monate. " * 10],
    )
    assert estimate_tokens(messages) >= llm.count_tokens(messages)


def fake_server(llm, handler):
    llm._client = httpx.Client(
        transport=httpx.MockTransport(handler), headers={"Authorization": f"Bearer {llm.api_key}"}
    )
    return llm


def test_api_key_comes_from_env_or_file_and_never_shows(tmp_path):
    from generation.backends.openai_llm import LLMServerError, OpenAICompatibleLLM, read_api_key

    key_file = tmp_path / "key"
    key_file.write_text("sk-file-secret\n")
    settings = load_settings({"llm_url": "http://h:1/v1", "llm_api_key_file": str(key_file)}, environ={})
    assert read_api_key(settings, environ={}) == "sk-file-secret"
    assert read_api_key(settings, environ={"LOCALGPT_LLM_API_KEY": "sk-env"}) == "sk-env"
    assert "sk-file-secret" not in repr(settings) and "secret" not in repr(
        OpenAICompatibleLLM("u", api_key="sk-secret")
    )

    seen = []

    def echo_key(request):  # a server that puts the key it got into its error
        seen.append(request.headers.get("authorization"))
        return httpx.Response(500, text=f"bad key {request.headers.get('authorization')}")

    llm = fake_server(OpenAICompatibleLLM("http://h:1/v1", model="m", api_key="sk-file-secret"), echo_key)
    with pytest.raises(LLMServerError) as error:
        list(llm.stream_chat([{"role": "user", "content": "hi"}], 10, 0.0, 1.1))
    assert seen == ["Bearer sk-file-secret"]
    message = str(error.value)
    assert "sk-file-secret" not in message and "HTTP 500" in message and "\n" not in message


def test_missing_key_file_is_named(tmp_path):
    from generation.backends.openai_llm import LLMServerError, read_api_key

    settings = load_settings({"llm_api_key_file": str(tmp_path / "nope")}, environ={})
    with pytest.raises(LLMServerError, match="Cannot read the API key file .*nope"):
        read_api_key(settings, environ={})


def test_token_counts_use_the_servers_template_where_it_has_one():
    from generation.backends.openai_llm import OpenAICompatibleLLM

    def llama_cpp(request):
        if request.url.path == "/apply-template":
            return httpx.Response(200, json={"prompt": "<s>user: hello world</s>"})
        if request.url.path == "/tokenize":
            return httpx.Response(200, json={"tokens": [1, 2, 3, 4, 5, 6, 7]})
        return httpx.Response(404)

    llm = fake_server(OpenAICompatibleLLM("http://h:1/v1"), llama_cpp)
    assert llm.count_tokens([{"role": "user", "content": "hello world"}]) == 7

    def plain(request):  # an OpenAI-compatible server with no tokenizer endpoint: a generous estimate
        return httpx.Response(404)

    llm = fake_server(OpenAICompatibleLLM("http://h:1/v1", fallback_n_ctx=3000), plain)
    assert llm.count_tokens([{"role": "user", "content": "x" * 300}]) >= 100
    assert llm.n_ctx == 3000  # neither /props nor /v1/models says: --n-ctx


# -- localgpt model-server: what it will run --------------------------------------------------------


def model_server_plan(host, key_file=""):
    from generation.backends.model_server import plan_model_server

    return plan_model_server(load_settings(environ={}), host, 8080, key_file)


def test_the_model_server_on_loopback_needs_no_key():
    from generation.backends.model_server import server_arguments

    plan = model_server_plan("127.0.0.1")
    assert plan.api_key == "" and not plan.generated
    arguments = server_arguments(plan, ("--verbose", "False"))
    assert "--api_key" not in arguments
    assert arguments[arguments.index("--model") + 1] == str(plan.model) and plan.model.suffix == ".gguf"
    assert arguments[-2:] == ["--verbose", "False"]  # after `--`, passed on as given


def test_the_model_server_off_loopback_makes_a_key_and_hides_it_from_its_repr():
    from generation.backends.model_server import server_arguments

    plan = model_server_plan("0.0.0.0")
    assert plan.generated and len(plan.api_key) >= 16
    assert plan.api_key not in repr(plan)
    arguments = server_arguments(plan)
    assert arguments[arguments.index("--api_key") + 1] == plan.api_key


def test_the_model_server_reads_its_key_file_and_refuses_a_short_or_missing_one(tmp_path):
    from generation.backends.model_server import ModelServerError

    good = tmp_path / "key"
    good.write_text("a-key-of-enough-characters\n")
    plan = model_server_plan("0.0.0.0", str(good))
    assert plan.api_key == "a-key-of-enough-characters" and not plan.generated
    short = tmp_path / "short"
    short.write_text("abc")
    with pytest.raises(ModelServerError, match="too short"):
        model_server_plan("0.0.0.0", str(short))
    with pytest.raises(ModelServerError, match="Cannot read the API key file"):
        model_server_plan("0.0.0.0", str(tmp_path / "absent"))


def test_the_model_server_command_names_a_model_file_that_is_not_gguf(tmp_path):
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"not a model")
    result = CliRunner().invoke(cli, ["model-server", "--model", str(bad)])
    assert result.exit_code == 1
    assert "is not a GGUF model file" in result.stderr
