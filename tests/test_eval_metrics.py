"""Question files and the metrics computed from a ranked list of chunks."""

import json
import math

import pytest

from core.types import Chunk
from evaluation.metrics import percentile, score_question
from evaluation.qa import QAFileError, QAItem, load_qa


def chunk(source, text, i=0):
    return Chunk.make(text, source, i)


RANKED = [
    chunk("a.pdf", "The boiler runs at 9.2 bar."),
    chunk("docs/b.pdf", "Descale the kettle   every\nTHREE months."),
    chunk("a.pdf", "Pump pressure is 12 bar.", 1),
    chunk("c.md", "Nothing relevant here."),
]


def test_expected_any_is_found_at_the_first_chunk_holding_one_string():
    item = QAItem("q", "how often?", expected=("every three months", "never"))
    score = score_question(item, RANKED)
    assert score.recall == {1: 0.0, 5: 1.0, 10: 1.0}
    assert score.mrr == 0.5
    assert score.ndcg == pytest.approx(1 / math.log2(3))


def test_expected_all_is_found_where_the_chunks_so_far_hold_every_string():
    item = QAItem("q", "pressures?", expected=("9.2 bar", "12 bar"), match="all")
    score = score_question(item, RANKED)
    assert score.mrr == pytest.approx(1 / 3)
    assert score.recall[1] == 0.0 and score.recall[5] == 1.0
    assert score_question(item, RANKED[:2]).recall[10] == 0.0


def test_qrels_count_each_document_once_by_path_suffix_or_id():
    item = QAItem("q", "x", qrels=("a.pdf", "b.pdf", RANKED[3].id, "missing.pdf"))
    score = score_question(item, RANKED)
    assert score.recall == {1: 0.25, 5: 0.75, 10: 0.75}
    assert score.mrr == 1.0
    dcg = 1 + 1 / math.log2(3) + 1 / math.log2(5)
    ideal = sum(1 / math.log2(r + 1) for r in range(1, 5))
    assert score.ndcg == pytest.approx(dcg / ideal)


def test_nothing_found_scores_zero():
    score = score_question(QAItem("q", "x", expected=("absent",)), RANKED)
    assert (score.recall[10], score.mrr, score.ndcg) == (0.0, 0.0, 0.0)


def test_percentile_interpolates():
    assert percentile([1, 2, 3, 4, 5], 50) == 3
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert percentile([], 50) == 0.0


def test_load_qa_accepts_question_or_query_and_qrels_or_expected(tmp_path):
    path = tmp_path / "qa.jsonl"
    lines = [
        {"question": "What is the rent?", "qrels": ["lease.pdf"]},
        {"id": "x7", "query": "Pressure?", "expected": ["9.2 bar"], "match": "all", "answer": "ignored"},
        {"question": "Graded?", "relevant": {"a.pdf": 2, "b.pdf": 0}},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    items = load_qa(path)
    assert items == [
        QAItem("q1", "What is the rent?", qrels=("lease.pdf",)),
        QAItem("x7", "Pressure?", expected=("9.2 bar",), match="all"),
        QAItem("q3", "Graded?", qrels=("a.pdf",)),
    ]


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"qrels": ["a"]}', 'no "question"'),
        ('{"question": "x"}', "qrels"),
        ('{"question": "x", "expected": ["a"], "match": "some"}', "match"),
        ("not json", "not valid JSON"),
        ('{"question": "x", "expected": [1, 2]}', "list of strings"),
    ],
)
def test_malformed_question_files_name_the_line(tmp_path, line, message):
    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "ok", "qrels": ["a"]}\n' + line + "\n")
    with pytest.raises(QAFileError, match=message) as err:
        load_qa(path)
    assert "line 2" in str(err.value)


def test_missing_question_file(tmp_path):
    with pytest.raises(QAFileError, match="Cannot read"):
        load_qa(tmp_path / "nope.jsonl")
