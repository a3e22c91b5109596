"""Refusals on a realistic collection: many documents on many topics, not two tiny ones.

The collection is real text available offline on any machine: the reference documentation of
25 standard-library modules of this Python (pydoc's plain-text rendering), beside the sample
documents. In a collection this size some unrelated passage always scores a little relevance;
off-topic questions must still be refused, and questions the documents answer still answered.
"""

import importlib
import json
import pydoc
import shutil

import pytest
from click.testing import CliRunner

from conftest import SAMPLES
from localgpt import cli


pytestmark = pytest.mark.slow  # a real collection, the real models

MODULES = [
    "textwrap",
    "shutil",
    "glob",
    "fnmatch",
    "csv",
    "json",
    "zipfile",
    "gzip",
    "argparse",
    "logging",
    "sqlite3",
    "heapq",
    "bisect",
    "calendar",
    "fractions",
    "random",
    "statistics",
    "difflib",
    "hashlib",
    "base64",
    "tempfile",
    "sched",
    "queue",
    "ipaddress",
    "pprint",
]

OFF_TOPIC = [
    "What is the capital of Australia?",
    "What is a safe daily dose of ibuprofen for an adult?",
    "Who won the 1998 football World Cup?",
    "Which command enables BGP on a Cisco router?",
    "How do I install Homebrew on macOS?",
]


@pytest.fixture(scope="module")
def mixed_db(tmp_path_factory):
    from core.settings import load_settings
    from ingest.pipeline import run_ingest

    root = tmp_path_factory.mktemp("mixed")
    docs = root / "docs"
    shutil.copytree(SAMPLES, docs / "samples")
    (docs / "python").mkdir()
    for name in MODULES:
        text = pydoc.render_doc(importlib.import_module(name), renderer=pydoc.plaintext)
        (docs / "python" / f"{name}.txt").write_text(text[:20_000], encoding="utf-8")
    db = root / "db"
    report = run_ingest(load_settings({"db": db, "source_dir": docs}, environ={}))
    assert report.exit_code == 0, report.failed
    return db


def ask(db, question):
    result = CliRunner().invoke(cli, ["ask", "--db", str(db), "--json", question])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_question_over_many_documents_is_refused(mixed_db, question):
    answer = ask(mixed_db, question)
    assert answer["refused"], (answer["answer"], answer["evidence"])
    assert answer["answer_method"] == "refused"
    assert answer["answer"] == "The documents do not contain an answer to this question."
    assert answer["sources"] == []


@pytest.mark.parametrize(
    "question, fact",
    [
        ("What is the notice period in the lease?", "60"),
        ("Which function of the heapq module pushes an item onto the heap?", "heappush"),
    ],
)
def test_questions_the_collection_answers_are_still_answered(mixed_db, question, fact):
    answer = ask(mixed_db, question)
    assert not answer["refused"], answer
    assert any(fact in e["text"] for e in answer["evidence"]), answer["evidence"]


def test_a_question_about_a_shell_the_collection_never_mentions_is_refused_with_a_pointer(mixed_db):
    from index import open_index

    index = open_index(mixed_db)
    try:
        assert index.word_counts(["zsh"])["zsh"] == 0  # the premise: no chunk holds it
        assert index.catalog.chunk_count() >= 500
    finally:
        index.close()
    answer = ask(mixed_db, "How do I make Zsh save the command history to a file?")
    assert answer["refused"] and answer["refused_by"] == "subject", answer["answer"]
    assert answer["answer"] == "The documents do not mention zsh."
    assert answer["closest"], "the nearest passages are given as a pointer"
    assert all(h["citation"] for h in answer["closest"]) and answer["sources"] == []
