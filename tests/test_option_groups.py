"""The settings table's stages make the CLI's option groups: every command that searches takes the same
options, every command that answers takes those and the generation settings; and the options reach
the answer service (a fake one here: no model, no index)."""

from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from click.testing import CliRunner

import answering
from answering import Session
from core.settings import BY_NAME, GENERATION, SETTINGS, STAGES, load_settings
from fake_service import FakeRetriever, Rewriting
from localgpt import ANSWER_SETTINGS, SEARCH_SETTINGS, cli


def options_of(command: str) -> set[str]:
    return {p.name for p in cli.commands[command].params}


def test_every_setting_has_a_known_stage_and_the_answer_style_row():
    assert all(s.stage in STAGES for s in SETTINGS)
    assert len({s.name for s in SETTINGS}) == len(SETTINGS)
    style = BY_NAME["answer_style"]
    assert (style.default, style.stage) == ("auto", GENERATION) and style.help.startswith("auto: quote")
    assert load_settings(environ={"LOCALGPT_ANSWER_STYLE": "quote"}).answer_style == "quote"


def test_searching_and_answering_commands_take_the_same_options():
    assert set(SEARCH_SETTINGS) <= set(ANSWER_SETTINGS)
    assert set(SEARCH_SETTINGS) <= options_of("search")
    for command in ("ask", "chat", "batch", "serve"):
        assert set(ANSWER_SETTINGS) <= options_of(command), command
    # what each lacked before the table had stages
    assert {"fusion", "bm25_weight", "passage_chars", "mmr"} <= options_of("ask")
    for command in ("chat", "batch", "serve"):
        assert {"repeat_penalty", "excerpt_sentences", "n_gpu_layers", "onnx_cache", "answer_style"} <= options_of(
            command
        )
    assert "where" in options_of("ask") and "where" in options_of("chat") and "where" not in options_of("serve")


@pytest.fixture()
def fake_service(monkeypatch):
    """`open_session` replaced by one over the fake retriever and a scripted model; `opened` keeps its settings."""
    opened = []

    @contextmanager
    def open_fake(settings, where=()):
        opened.append(settings)
        yield Session(FakeRetriever(), Rewriting(["Sixty days [1]."] * 4), settings, tuple(where))

    monkeypatch.setattr(answering, "open_session", open_fake)
    return opened


def test_ask_passes_retrieval_options_to_the_service(fake_service):
    result = CliRunner().invoke(
        cli,
        ["ask", "--json", "--min-score", "0", "--min-evidence", "0", "--fusion", "rrf", "--bm25-weight", "0.7"]
        + ["--passage-chars", "0", "--mmr", "--answer-style", "quote", "How much notice ends the lease?"],
    )
    assert result.exit_code == 0, result.output
    (settings,) = fake_service
    assert (settings.fusion, settings.bm25_weight, settings.passage_chars, settings.mmr) == ("rrf", 0.7, 0, True)
    assert settings.answer_style == "quote"
    record = json.loads(result.stdout)
    assert record["retrieved"][0]["source"] == "lease_agreement.pdf"


def test_chat_and_batch_pass_generation_options_to_the_service(fake_service, tmp_path):
    runner = CliRunner()
    chatted = runner.invoke(
        cli,
        ["chat", "--repeat-penalty", "1.3", "--excerpt-sentences", "0", "--n-gpu-layers", "0", "--min-score", "0"],
        input="How much notice ends the lease?\n",
    )
    assert chatted.exit_code == 0, chatted.output
    assert "lease_agreement.pdf" in chatted.stdout
    questions = tmp_path / "q.txt"
    questions.write_text("How much notice ends the lease?\n")
    out = tmp_path / "a.jsonl"
    batched = runner.invoke(cli, ["batch", str(questions), "-o", str(out), "--quiet", "--onnx-cache", str(tmp_path)])
    assert batched.exit_code == 0, batched.output
    chat_settings, batch_settings = fake_service
    assert (chat_settings.repeat_penalty, chat_settings.excerpt_sentences, chat_settings.n_gpu_layers) == (1.3, 0, 0)
    assert batch_settings.onnx_cache == str(tmp_path)
    assert json.loads(out.read_text())["status"] == "answered"


def test_plain_search_renders_from_the_search_record(monkeypatch):
    import retrieval

    @contextmanager
    def open_fake(settings):
        yield FakeRetriever()

    monkeypatch.setattr(retrieval, "open_retriever", open_fake)
    result = CliRunner().invoke(cli, ["search", "-k", "2", "notice to end the lease"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1. lease_agreement.pdf, page 2  (score ") and "relevance" in lines[0]
    assert lines[1] == "   Either party may end the lease with sixty (60) days written notice."
    assert lines[2] == "" and lines[3].startswith("2. ")
    empty = CliRunner().invoke(cli, ["search", "zzzz"])
    assert empty.stdout == "No passages found.\n"
