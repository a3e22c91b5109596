"""Batch answering in-process with the real index and model: formats, a failing question, resuming."""

import csv
import io
import json

import pytest

from frontends.batch import EXIT_ALL_ANSWERED, EXIT_SOME_FAILED, run_batch
from frontends.batch_files import read_questions
from answering import Session
from retrieval import open_retriever


@pytest.fixture(scope="module")
def session(sample_db, settings_for, llm):
    settings = settings_for(sample_db, max_tokens=8, k=1)
    with open_retriever(settings) as retriever:
        yield Session(retriever, llm, settings)


def test_csv_in_markdown_out_records_a_failing_question_and_goes_on(session, tmp_path):
    too_long = "Why " + "is the notice period so long " * 500 + "?"  # more tokens than the context window holds
    questions = tmp_path / "questions.csv"
    with open(questions, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "question"])
        writer.writerows(
            [
                ["rent", "What is the monthly rent?"],
                ["long", too_long],
                ["kettle", "How often should the kettle be descaled?"],
            ]
        )
    report_path = tmp_path / "report.md"

    report = run_batch(session, read_questions(questions), report_path)
    assert report.exit_code == EXIT_SOME_FAILED
    assert report.answered == 2 and [q.id for q, _ in report.failed] == ["long"]
    text = report_path.read_text()
    assert text.startswith("# Answers from localgpt")
    assert "## rent. What is the monthly rent?" in text
    assert "## kettle. How often should the kettle be descaled?" in text
    assert "**Error:** " in text and "## long. Why is the notice period" in text
    assert "1 passage retrieved, best relevance" in text and "1 passages" not in text  # -k 1

    # A rerun answers only what failed (it fails again: the question is still too long).
    again = run_batch(session, read_questions(questions), report_path)
    assert (again.already, again.answered, len(again.failed)) == (2, 0, 1)
    assert report_path.read_text().count("## ") == 3  # each question once: the old error record was replaced


def test_jsonl_in_csv_out_keyed_by_id(session, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"id": "a", "question": "How many standing desks are there?"}\n'
        '{"id": "b", "question": "How many standing desks are there?"}\n'  # same text, another id: answered again
        '{"id": "a", "question": "A repeated id is answered once"}\n'
    )
    out = tmp_path / "answers.csv"
    report = run_batch(session, read_questions(questions), out)
    assert report.exit_code == EXIT_ALL_ANSWERED
    assert (report.total, report.answered, report.duplicates) == (2, 2, 1)
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode())))
    assert [r["id"] for r in rows] == ["a", "b"]
    assert all(r["status"] == "answered" and "office_inventory.csv" in r["retrieved"] for r in rows)
    assert all(float(r["total_s"]) > 0 for r in rows)
    assert run_batch(session, read_questions(questions), out).answered == 0


def test_jsonl_record_has_answer_sources_scores_and_timings(session, tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text("What does error E5 mean on the kettle?\n")
    out = tmp_path / "answers.jsonl"
    run_batch(session, read_questions(questions), out)
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["id"] == 1 and record["question"] == "What does error E5 mean on the kettle?"
    assert record["answer"] and record["status"] == "answered"
    top = record["passages"][0]
    assert (top["source"], top["location"]) == (
        "kettle_manual.docx",
        "Aurora K2 Smart Kettle: User Manual > Error Codes",
    )
    assert 0 < top["score"] <= 1
    for source in record["sources"]:
        assert source in record["passages"]
