"""The answer service (answering/) with fakes: one `Session.ask` behind ask, chat and batch; a follow-up
rewrite that invents a figure or a name, or drops the question's words, is never searched."""

from __future__ import annotations

import io

import pytest

from answering import Session
from core.settings import load_settings
from fake_service import FALLBACK, FOLLOWUP, GOOD, INVENTED, RENT, RENT_ANSWER, FakeRetriever, Rewriting
from frontends.batch import run_batch
from frontends.batch_files import read_questions
from frontends.chat import Chat
from generation.followup import History, judge_rewrite


def settings(**more):
    return load_settings({"db": "unused", "min_score": 0, "min_evidence": 0, "max_tokens": 32, **more}, environ={})


def session_with(rewrite: str = "", *answers: str) -> Session:
    return Session(FakeRetriever(), Rewriting(list(answers), rewrite=rewrite), settings())


def rent_history() -> History:
    history = History()
    history.add(RENT, RENT, RENT_ANSWER)
    return history


def test_judging_rewrites_that_add_facts_or_drop_the_question():
    history = f"{RENT} {RENT_ANSWER}"
    assert judge_rewrite(GOOD, FOLLOWUP, history) == ""
    assert "figure or name" in judge_rewrite(INVENTED, FOLLOWUP, history)
    assert "figure or name" in judge_rewrite(
        "How much is the security deposit Mr Okafor pays for the apartment?", FOLLOWUP, history
    )
    # a figure that the conversation gave is fine
    assert judge_rewrite("How much is the security deposit on a rent of 1,850 dollars?", FOLLOWUP, history) == ""
    # one of the question's own words lost ("security"): rejected, not only when half are gone
    assert judge_rewrite("How much is the deposit for the apartment?", FOLLOWUP, history) == (
        "dropped the question's own words"
    )
    # plural or singular of the question's word still counts as kept
    assert judge_rewrite("How much are the security deposits for the apartment?", FOLLOWUP, history) == ""


def test_an_invented_figure_is_not_searched_and_the_keyword_fallback_is():
    session = session_with(INVENTED, "The deposit is one month's rent [1].")
    heard = []
    result = session.ask(FOLLOWUP, rent_history(), on_event=lambda name, data: heard.append((name, data)))
    searched = session.retriever.searched
    assert searched and not any("4,200" in q or "4200" in q for q in searched), searched
    standalone = [data["standalone"] for name, data in heard if name == "searching"]
    assert standalone == [FALLBACK]
    assert set(searched) == {standalone[0], FOLLOWUP}  # the fallback and the question as typed
    assert result.question == standalone[0]  # and answered
    assert session.llm.rewrites == 1


def test_a_good_rewrite_is_searched_with_the_question_as_typed():
    session = session_with(GOOD, "One month's rent [1].")
    heard = []
    session.ask(FOLLOWUP, rent_history(), on_event=lambda name, data: heard.append((name, data)))
    assert [d for n, d in heard if n == "searching"] == [{"standalone": GOOD}]
    assert set(session.retriever.searched) == {GOOD, FOLLOWUP}


def test_a_question_without_history_is_searched_as_typed_and_timed():
    session = session_with("", "Sixty days [1].")
    heard = []
    result = session.ask("How much notice ends the lease?", on_event=lambda name, data: heard.append(name))
    assert session.retriever.searched == ["How much notice ends the lease?"]
    assert "searching" not in heard and heard[0] == "retrieved"
    assert {"retrieve_s", "answer_s", "total_s"} <= set(result.timings)
    assert result.timings["total_s"] >= result.timings["retrieve_s"]
    assert result.retrieved and result.retrieved[0].chunk.page == 2
    assert session.llm.rewrites == 0


def test_the_model_turn_is_held_while_the_model_works():
    """What serve's queue relies on: a follow-up takes its turn before the rewrite, a first question after searching."""
    from contextlib import contextmanager

    order = []

    @contextmanager
    def turn():
        order.append("turn")
        yield
        order.append("done")

    session = session_with(GOOD, "One month's rent [1].", "1,850 US dollars [1].")
    session.model_turn = turn
    session.reading = lambda search: (order.append("search"), search())[1]
    session.ask(FOLLOWUP, rent_history())
    assert order == ["turn", "search", "done"]
    order.clear()
    session.ask(RENT)
    assert order == ["search", "turn", "done"]


def test_chat_shows_what_it_searched_never_the_invented_figure():
    session = session_with(INVENTED, "The rent is 1,850 US dollars [1].", "One month's rent [1].")
    out, err = io.StringIO(), io.StringIO()
    chat = Chat(session, out, err, interactive=True)
    chat.handle(RENT)
    assert "searching for" not in out.getvalue()  # the first question needs no rewrite
    chat.handle(FOLLOWUP)
    shown = [line for line in out.getvalue().splitlines() if line.startswith("(searching for:")]
    assert shown == [f"(searching for: {FALLBACK})"]
    assert not any("4,200" in q for q in session.retriever.searched)
    assert chat.history.turns[-1].standalone == FALLBACK
    assert chat.handle("/sources") and "lease_agreement.pdf" in out.getvalue()
    assert err.getvalue() == ""


def test_piped_chat_shows_no_searching_line():
    session = session_with(GOOD, "The rent is 1,850 US dollars [1].", "One month's rent [1].")
    out = io.StringIO()
    chat = Chat(session, out, io.StringIO(), interactive=False)
    chat.handle(RENT)
    chat.handle(FOLLOWUP)
    assert "searching for" not in out.getvalue()
    assert set(session.retriever.searched) == {RENT, GOOD, FOLLOWUP}


@pytest.mark.parametrize("suffix", [".md", ".csv", ".jsonl"])
def test_batch_answers_each_question_once_through_the_service(tmp_path, suffix):
    session = session_with("", "Sixty days [1].", "Every four weeks [1].")
    questions = tmp_path / "q.txt"
    questions.write_text("How much notice ends the lease?\nHow often should the kettle be descaled?\n")
    out = tmp_path / f"answers{suffix}"
    report = run_batch(session, read_questions(questions), out)
    assert (report.answered, report.failed) == (2, [])
    text = out.read_text()
    assert "How much notice ends the lease?" in text and "How often should the kettle be descaled?" in text
    assert "lease_agreement.pdf" in text  # each answer's evidence or sources, as the format shows them
    assert session.retriever.searched == ["How much notice ends the lease?", "How often should the kettle be descaled?"]
    again = run_batch(session, read_questions(questions), out)
    assert (again.already, again.answered) == (2, 0)
