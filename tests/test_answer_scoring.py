"""How the answer benchmarks score an answer (evaluation/answers.py): where the expected fact shows."""

from __future__ import annotations

from types import SimpleNamespace

from evaluation.answers import answer_row, rate


def record(text: str, refused: bool, evidence: list[str], retrieved: list[str]):
    return SimpleNamespace(
        text=text,
        refused=refused,
        refused_by="relevance" if refused else "",
        answer_method="quote",
        evidence=[SimpleNamespace(text=e, score=0.8, quote=lambda e=e: e) for e in evidence],
        retrieved=[SimpleNamespace(text=t, relevance=0.5) for t in retrieved],
    )


NOTICE = {"expected": ["60 days"], "match": "any"}
CLAUSE = "Either party may end the lease by giving 60 days' notice."


def test_a_fact_in_the_answer_counts_once_it_is_shown():
    row = answer_row(NOTICE, record(f'"{CLAUSE}" [1]', False, [CLAUSE], [CLAUSE]), answerable=True)
    assert row["fact_in_answer"] and row["fact_in_evidence"] and row["fact_retrieved"]
    assert not row["without_fact"]


def test_a_neighbouring_fact_shown_is_an_answer_without_the_fact():
    other = "The lease runs for twelve months."
    row = answer_row(NOTICE, record(f'"{other}" [1]', False, [other], [other, CLAUSE]), answerable=True)
    assert not row["fact_in_answer"] and not row["fact_in_evidence"]
    assert row["without_fact"] and row["fact_retrieved"]


def test_a_refusal_holds_no_fact_and_shows_nothing_wrong():
    row = answer_row(NOTICE, record("I could not find this.", True, [], [CLAUSE]), answerable=True)
    assert not row["fact_in_answer"] and not row["without_fact"]
    assert row["refused_by"] == "relevance"


def test_an_unanswerable_question_is_scored_by_whether_it_was_answered():
    assert answer_row({}, record("Nothing here.", True, [], []), answerable=False)["answered"] is False
    assert answer_row({}, record(f'"{CLAUSE}"', False, [CLAUSE], [CLAUSE]), answerable=False)["answered"] is True


def test_rates_read_as_hits_of_total():
    rows = [{"fact_in_answer": True}, {"fact_in_answer": False}, {"fact_in_answer": True}, {}]
    assert rate(rows, "fact_in_answer") == "2/4 (50%)"
    assert rate(rows, "fact_in_answer", aligned=True) == "  2/4    50%"
    assert rate([], "fact_in_answer") == "-"
