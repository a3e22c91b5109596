"""The evidence with the real bundled models: what `ask`, `chat` and `batch` show, on any CPU.

No assertion here depends on the words the model chooses: the answer is either the model's
text checked against the evidence or the evidence quoted, and both hold the fact; the
evidence itself is chosen without the model.
"""

import json
import re
import subprocess
import sys

import pexpect
import pytest
from click.testing import CliRunner

from conftest import REPO, localgpt_cmd
from localgpt import cli

LEASE_QUESTION = "What is the notice period in the lease?"


def run(*args):
    return CliRunner().invoke(cli, list(args))


def figures(text):
    return set(re.findall(r"\d+(?:[.,:]\d+)*", re.sub(r"\[\d+(?:,\s*\d+)*\]", " ", text)))


@pytest.fixture(scope="module")
def lease_answer(sample_db):
    result = run("ask", "--db", str(sample_db), "--json", LEASE_QUESTION)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_demo_question_answers_sixty_days_with_its_evidence(lease_answer):
    answer = lease_answer
    assert answer["answer_method"] in ("generated", "quoted")
    assert re.search(r"\b60\b|sixty", answer["answer"], re.IGNORECASE), answer["answer"]
    top = answer["evidence"][0]
    assert "sixty (60) days" in top["text"]
    assert top["source"] == "lease_agreement.pdf" and top["location"] == "page 2"
    assert top["n"] in [s["n"] for s in answer["sources"]]


def test_evidence_offsets_point_to_the_sentence_inside_its_passage(lease_answer):
    for item in lease_answer["evidence"]:
        passage = lease_answer["passages"][item["n"] - 1]
        text = passage["passage"]["text"] if "passage" in passage else passage["text"]
        assert text[item["start"] : item["end"]] == item["text"]
        assert item["text"].strip() == item["text"] and len(item["text"]) > 10


def test_every_figure_of_a_shown_answer_is_in_its_evidence(sample_db):
    questions = [
        "How much is the home-office equipment stipend?",
        "What are the core hours?",
        "How often should the kettle be descaled?",
        LEASE_QUESTION,
        "How much is the monthly rent?",
    ]
    for question in questions:
        answer = json.loads(run("ask", "--db", str(sample_db), "--json", question).stdout)
        if answer["refused"]:
            continue
        quoted = " ".join(e["text"] for e in answer["evidence"]) + " " + question
        assert figures(answer["answer"]) <= figures(quoted), (question, answer["answer"], answer["generated"])
        if answer["answer_method"] == "quoted":
            assert answer["answer"].startswith("The documents say:")


def test_ask_prints_the_quoted_evidence_with_file_and_page(sample_db):
    result = run("ask", "--db", str(sample_db), LEASE_QUESTION)
    assert result.exit_code == 0, result.output
    evidence = result.stdout.split("Evidence (quoted from the documents):")[1]
    assert "sixty (60) days" in evidence and "(lease_agreement.pdf, page 2)" in evidence
    assert "Sources:" in result.stdout


def test_batch_records_carry_the_same_evidence_as_ask(sample_db, tmp_path, lease_answer):
    questions = tmp_path / "q.txt"
    questions.write_text(LEASE_QUESTION + "\n")
    out = tmp_path / "answers.jsonl"
    result = run("batch", str(questions), "-o", str(out), "--db", str(sample_db), "--quiet")
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text().splitlines()[0])
    assert record["answer_method"] == lease_answer["answer_method"]
    assert [e["text"] for e in record["evidence"]] == [e["text"] for e in lease_answer["evidence"]]
    assert record["evidence"][0]["citation"] == "lease_agreement.pdf, page 2"
    report = tmp_path / "answers.md"
    assert run("batch", str(questions), "-o", str(report), "--db", str(sample_db), "--quiet").exit_code == 0
    assert "sixty (60) days" in report.read_text().split("Evidence (quoted from the documents):")[1]


def test_chat_shows_the_evidence_after_each_answer(sample_db):
    proc = subprocess.run(
        localgpt_cmd("chat", "--db", str(sample_db)),
        input=LEASE_QUESTION + "\n",
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Evidence (quoted from the documents):" in proc.stdout
    assert "sixty (60) days" in proc.stdout.split("Evidence (quoted from the documents):")[1]


def test_ask_at_a_terminal_says_at_once_that_it_is_working(sample_db):
    child = pexpect.spawn(
        sys.executable,
        [str(REPO / "localgpt.py"), "ask", "--db", str(sample_db), LEASE_QUESTION],
        encoding="utf-8",
        timeout=600,
    )
    child.expect("Searching the index and loading the model")
    child.expect("Evidence")
    child.expect(pexpect.EOF)
