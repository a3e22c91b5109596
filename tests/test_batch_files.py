"""Batch files without a model: questions read from each kind of file, answers files read back after a kill."""

import json
import os
import stat

import pytest

from frontends.batch import prepare_output
from frontends.batch_files import (
    BatchFileError,
    CsvFormat,
    JsonlFormat,
    MarkdownFormat,
    format_for,
    read_questions,
)


def record(n, status="answered", question=None):
    base = {"id": n, "question": question or f"Question number {n}?", "status": status}
    if status == "error":
        return {**base, "error": "ValueError: too long", "timings": {"total_s": 0.1}}
    source = {
        "n": 1,
        "source": "lease_agreement.pdf",
        "page": 2,
        "location": "page 2",
        "citation": "lease_agreement.pdf, page 2",
        "score": 0.61,
        "chunk_id": "abc",
        "relevance": 0.61,
    }
    return {
        **base,
        "answer": f'Answer {n}, with a comma and a "quote"\nand a second line [1].',
        "refused": False,
        "sources": [source],
        "passages": [source],
        "timings": {"retrieve_s": 0.1, "answer_s": 1.0, "total_s": 1.1},
    }


def test_text_file_skips_blank_lines_and_comments(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("# questions for the lease\nWhat is the rent?\n\n   \n  # indented comment\nWho is the tenant?  \n")
    questions = read_questions(path)
    # numbered 1..n, as the user counts them; the line is kept for the record
    assert [(q.id, q.text, q.line) for q in questions] == [(1, "What is the rent?", 2), (2, "Who is the tenant?", 6)]
    assert not any(q.has_id for q in questions)  # matched to earlier answers by their text


def test_jsonl_with_and_without_ids(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "rent", "question": "What is the rent?"}\n\n{"question": "Who is the tenant?"}\n')
    questions = read_questions(path)
    assert [(q.id, q.text, q.has_id, q.line) for q in questions] == [
        ("rent", "What is the rent?", True, 1),
        (2, "Who is the tenant?", False, 3),
    ]


def test_jsonl_line_without_question_names_the_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": 1, "question": "ok?"}\n{"id": 2, "q": "typo"}\n')
    with pytest.raises(BatchFileError, match='Line 2 .* has no "question"'):
        read_questions(path)


def test_csv_question_column_and_optional_id(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text('ID,Question,owner\nA1,"What is the rent, per month?",me\n,Who is the tenant?,you\nA3,,x\n')
    questions = read_questions(path)
    assert [(q.id, q.text, q.has_id, q.line) for q in questions] == [
        ("A1", "What is the rent, per month?", True, 2),
        (2, "Who is the tenant?", False, 3),
    ]


def test_csv_without_question_column_says_what_to_do(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text("text,id\nWhat?,1\n")
    with pytest.raises(BatchFileError, match="no 'question' column"):
        read_questions(path)


def test_unknown_output_extension_is_refused():
    with pytest.raises(BatchFileError, match=r"\.jsonl, \.csv or \.md"):
        format_for("answers.txt")


@pytest.mark.parametrize("fmt", [JsonlFormat(), CsvFormat(), MarkdownFormat()], ids=["jsonl", "csv", "md"])
def test_a_record_cut_anywhere_is_dropped_and_whole_ones_kept(fmt):
    whole = fmt.header() + fmt.render(record(1)) + fmt.render(record(2, "error"))
    last = fmt.render(record(3))
    for cut in range(1, len(last) - 1):
        existing = fmt.parse(whole + last[:cut])
        assert [(e.id, e.status) for e in existing.entries][:2] in (
            [(1, "answered"), (2, "error")],
            [("1", "answered"), ("2", "error")],
        )
        if len(existing.entries) == 3:  # only when the cut fell after every field (a missing final newline)
            assert cut >= len(last) - 2
        else:
            assert not existing.clean
    assert fmt.parse(whole + last).clean
    assert len(fmt.parse(whole + last).entries) == 3


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".md"])
def test_resume_keeps_answered_records_and_drops_failed_and_torn_ones(tmp_path, suffix):
    fmt = format_for("x" + suffix)
    path = tmp_path / ("answers" + suffix)
    torn = fmt.render(record(4))[: len(fmt.render(record(4))) // 2]
    path.write_text(
        fmt.header() + fmt.render(record(1)) + fmt.render(record(2, "error")) + fmt.render(record(3)) + torn
    )
    done = prepare_output(path, fmt)
    assert ("id", "1") in done and ("id", "3") in done
    assert ("id", "2") not in done and ("id", "4") not in done
    text = path.read_bytes().decode("utf-8")
    again = fmt.parse(text)
    assert again.clean
    assert [str(e.id) for e in again.entries] == ["1", "3"]
    assert text == fmt.header() + fmt.render(record(1)) + fmt.render(record(3))


def test_new_answers_file_is_private(tmp_path):
    path = tmp_path / "answers.jsonl"
    old = os.umask(0o022)
    try:
        prepare_output(path, JsonlFormat())
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_markdown_question_cannot_break_its_marker():
    fmt = MarkdownFormat()
    nasty = record(7, question="What does --> mean in <!-- comments -->?")
    existing = fmt.parse(fmt.header() + fmt.render(nasty))
    assert existing.clean
    assert [(e.id, e.question) for e in existing.entries] == [(7, nasty["question"])]


def test_jsonl_record_carries_what_a_reader_needs():
    line = JsonlFormat().render(record(1))
    data = json.loads(line)
    assert data["sources"][0]["source"] == "lease_agreement.pdf" and data["sources"][0]["page"] == 2
    assert data["passages"][0]["score"] == 0.61
    assert set(data["timings"]) >= {"retrieve_s", "answer_s", "total_s"}


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".md"])
def test_a_file_batch_did_not_write_is_never_rewritten(tmp_path, suffix):
    path = tmp_path / ("questions" + suffix)
    content = {
        ".jsonl": '{"id": 1, "question": "What is the rent?"}\n{"id": 2, "question": "Who?"}\n',
        ".csv": "id,question\n1,What is the rent?\n",
        ".md": "# My notes\n\nWhat is the rent?\n",
    }[suffix]
    path.write_text(content)
    with pytest.raises(BatchFileError, match="not one localgpt batch wrote"):
        prepare_output(path, format_for(path))
    assert path.read_text() == content
