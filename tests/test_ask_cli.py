"""What a user sees from `localgpt ask`: sources, every passage on request, clear load errors, a clean Ctrl-C."""

import json
import os
import re
import select
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from conftest import REPO, offline_cmd
from generation.backends.bundled import bundled_llm_path
from localgpt import cli


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_show_sources_prints_every_retrieved_passage_with_its_score(sample_db):
    result = run(
        "ask",
        "--db",
        str(sample_db),
        "--max-tokens",
        "48",
        "--show-sources",
        "How much is the home-office equipment stipend?",
    )
    assert result.exit_code == 0, result.output
    listing = result.output.split("Retrieved passages (")[1]
    count = int(listing.split(")")[0])
    assert (
        1 <= count <= 6
    )  # at most the default k: hits inside a better hit's passage are not repeated (retrieval/passages.py)
    scores = re.findall(r"^#\d+ (\S+).*\(score (-?\d\.\d{3}), relevance (-?\d\.\d{3})\)", listing, re.MULTILINE)
    assert len(scores) == count
    assert scores[0][0] == "team_handbook.md,"
    assert "600 euros" in listing  # the passage text itself
    assert "Sources" in result.output.split("Retrieved passages")[0]


def test_json_reports_sources_passages_and_what_was_left_out(sample_db):
    result = run(
        "ask", "--db", str(sample_db), "--max-tokens", "48", "--json", "What is the notice period in the lease?"
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)  # stdout alone: warnings go to stderr
    assert {"answer", "sources", "passages", "left_out", "invalid_markers", "refused", "citation_method"} <= set(answer)
    assert answer["left_out"] == []
    assert answer["passages"][0]["source"] == "lease_agreement.pdf"


def test_unrelated_question_is_refused_in_plain_words(sample_db):
    result = run("ask", "--db", str(sample_db), "Who painted the Mona Lisa?")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("The documents do not contain an answer to this question.")
    assert "Sources" not in result.output


@pytest.fixture(scope="module")
def broken_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    truncated = folder / "truncated.gguf"
    with open(bundled_llm_path(), "rb") as source:
        truncated.write_bytes(source.read(3_000_000))  # a download cut short: the header is fine, the tensors are not
    not_gguf = folder / "model.bin"
    not_gguf.write_bytes(b"PK\x03\x04 this is a zip, not a model" * 100)
    return {"missing": folder / "nope.gguf", "truncated": truncated, "not_gguf": not_gguf}


@pytest.mark.parametrize(
    "which, says",
    [
        ("missing", "does not exist"),
        ("not_gguf", "is not a GGUF model file"),
        ("truncated", "damaged or incomplete"),
    ],
)
def test_model_that_cannot_load_gets_one_clear_line(sample_db, broken_models, which, says):
    result = run("ask", "--db", str(sample_db), "--model", str(broken_models[which]), "What is the rent?")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and says in lines[0], result.output


def test_ctrl_c_stops_the_answer_cleanly_and_keeps_what_was_said(sample_db, tmp_path):
    # The answer cannot end by itself (tests/endless_answer.py), and the signal goes only once it is being
    # generated: the same on any CPU, at any speed.
    switch = tmp_path / "endless"
    switch.touch()
    cmd = offline_cmd(
        [
            sys.executable,
            str(REPO / "tests" / "endless_answer.py"),
            "ask",
            "--db",
            str(sample_db),
            "What is the notice period in the lease?",
        ]
    )
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "ENDLESS_ANSWER_SWITCH": str(switch)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    got = b""
    deadline = time.monotonic() + 240  # generous: a loaded CI machine is slow to load models
    while not (got and switch.read_text() == "generating") and proc.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            got += os.read(proc.stdout.fileno(), 1024)
    assert got and switch.read_text() == "generating", ("no answer streamed", proc.poll(), got)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    out, err = (got + out).decode(), err.decode()
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "[answer interrupted]" in err
    assert out.strip(), "the partial answer is kept"
    assert out.endswith("\n")  # the prompt comes back on a fresh line
