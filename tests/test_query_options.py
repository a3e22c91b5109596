"""--where, --mode and --reranker on ask, chat and batch, and the rough edges of the CLI's input:
-k, an empty question, a --where key no passage has, --help examples, the batch output lock."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from localgpt import cli


def run(*args, **kwargs):
    return CliRunner().invoke(cli, [str(a) for a in args], **kwargs)


def ask_passages(db, *args):
    result = run(
        "ask", "--db", db, "--json", "--min-score", "0", "--min-evidence", "0", "--max-tokens", "8", "-k", "3", *args
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["passages"]


def test_ask_searches_only_where_told_and_how(sample_db):
    question = "How often should the kettle be descaled?"
    passages = ask_passages(sample_db, "--where", "source=lease_agreement.pdf", question)
    assert passages and {p["source"] for p in passages} == {"lease_agreement.pdf"}
    # BM25 finds only passages sharing a word with the question; dense always finds the nearest
    assert ask_passages(sample_db, "--mode", "bm25", "zyxwvut") == []
    assert ask_passages(sample_db, "--mode", "dense", "zyxwvut")
    missing = run("ask", "--db", sample_db, "--reranker", sample_db / "no-such-model", question)
    assert missing.exit_code != 0 and "no-such-model" in missing.output


def test_batch_and_chat_take_where_and_mode(sample_db, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text("How often should the kettle be descaled?\n", encoding="utf-8")
    out = tmp_path / "answers.jsonl"
    result = run(
        "batch",
        questions,
        "-o",
        out,
        "--db",
        sample_db,
        "--quiet",
        "--min-score",
        "0",
        "--min-evidence",
        "0",
        "--max-tokens",
        "8",
        "--where",
        "source=team_handbook.md",
        "--mode",
        "dense",
    )
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text().splitlines()[0])
    assert record["passages"] and {p["source"] for p in record["passages"]} == {"team_handbook.md"}

    chat = run(
        "chat",
        "--db",
        sample_db,
        "--min-score",
        "0",
        "--min-evidence",
        "0",
        "--max-tokens",
        "8",
        "-k",
        "2",
        "--where",
        "source=lease_agreement.pdf",
        input="How often should the kettle be descaled?\n/sources\n",
    )
    assert chat.exit_code == 0, chat.output
    cited = [line for line in chat.stdout.splitlines() if "score" in line and ("[" in line)]
    assert cited and all("lease_agreement.pdf" in line for line in cited), chat.output


@pytest.mark.parametrize("command", ["ask", "search", "chat"])
def test_k_below_one_is_refused(sample_db, command):
    for k in ("0", "-3"):
        args = [command, "--db", sample_db, "-k", k] + ([] if command == "chat" else ["rent?"])
        result = run(*args, input="")
        assert result.exit_code != 0
        assert f"k (--k, LOCALGPT_K) must be 1 or more, got {k}" in result.output


def test_empty_question_and_unknown_where_key_are_explained(sample_db):
    for command in ("ask", "search"):
        empty = run(command, "--db", sample_db, "  ")
        assert empty.exit_code == 2 and "the question is empty" in empty.output
    for command in ("ask", "search"):
        unknown = run(command, "--db", sample_db, "--where", "colour=red", "rent?")
        assert unknown.exit_code == 1
        assert "No passage in the index has the key colour (--where). Keys in this index: " in unknown.output
        assert "source" in unknown.output
    chat = run("chat", "--db", sample_db, "--where", "colour=red", input="rent?\n")
    assert chat.exit_code == 1 and "has the key colour" in chat.output


def test_help_has_examples_and_names_the_onnx_cache():
    for command in ("ingest", "doctor", "build-onnx", "documents", "remove", "acknowledge"):
        text = run(command, "--help").output
        assert f"localgpt {command}" in text.split("Options:")[0], command
    for command in ("ingest", "ask"):
        assert "--onnx-cache" in run(command, "--help").output
    for command in ("ask", "chat", "batch"):
        text = run(command, "--help").output
        assert "--where" in text and "--mode" in text and "--reranker" in text, command


def test_a_second_batch_on_the_same_output_is_refused(sample_db, tmp_path):
    from core.locks import output_lock

    questions = tmp_path / "q.txt"
    questions.write_text("What is the rent?\n", encoding="utf-8")
    out = tmp_path / "answers.jsonl"
    with output_lock(out):  # another batch is writing it
        result = run("batch", questions, "-o", out, "--db", sample_db, "--quiet")
    assert result.exit_code == 1
    assert f"Another run is writing {out} right now" in result.output
    assert not out.exists() or out.read_text() == ""
