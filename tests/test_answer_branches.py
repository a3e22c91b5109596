"""Each way `answer()` can end, with a scripted model and hashed vectors (fast: no real model).

Refusals (nothing relevant, unknown words, no evidence, evidence with no room), a generated
answer, a quoted one (and why the model's words were withheld), and Ctrl-C mid-answer.
"""

import pytest

from core.settings import load_settings
from fakes import hit
from generation.answer import QUOTE_INTRO, REFUSAL, AnswerInterrupted, AnswerOptions, answer
from generation.prompt import PromptTooLongError
from generation.record import answer_record

LEASE = (
    "2. Termination\nEither party may end this lease by giving sixty (60) days' written notice to the other party. "
    "3. Rent\nThe monthly rent is 1,450 euros, due on the first day of each month."
)
QUESTION = "What is the notice period in the lease?"


def settings(**more):
    return AnswerOptions.of(load_settings({"min_score": 0.2, "min_evidence": 0.3, **more}, environ={}))


@pytest.fixture()
def ask(fake_llm, fake_embedder):
    def run(question, hits, *replies, word_counts=None, **more):
        llm = fake_llm(*replies)
        shown = []
        result = answer(
            question,
            hits,
            llm,
            settings(**more),
            on_token=shown.append,
            embed=fake_embedder.embed,
            word_counts=word_counts,
        )
        return result, "".join(shown), llm

    return run


def test_nothing_relevant_is_refused_by_threshold_without_the_model(ask):
    result, shown, llm = ask(QUESTION, [hit(LEASE, relevance=0.1)], "Sixty days.")
    assert (result.refused, result.refused_by, result.answer_method) == (True, "threshold", "refused")
    assert shown == REFUSAL and not llm.prompts
    assert answer_record(result)["retrieved"][0]["n"] is None  # listed, but never given to the model


def test_a_question_about_words_the_index_never_uses_is_refused(ask):
    known = {"notice", "period", "lease"}
    counts = lambda words: {w: (3 if w in known else 0) for w in words}  # noqa: E731
    result, shown, llm = ask(
        "What is the ibuprofen dose for toddlers?", [hit(LEASE)], "Sixty days.", word_counts=counts
    )
    assert (result.refused_by, shown) == ("unknown_words", REFUSAL) and not llm.prompts
    result, _, _ = ask(QUESTION, [hit(LEASE)], "The notice period is sixty (60) days [1].", word_counts=counts)
    assert not result.refused  # every word known: answered


def test_no_evidence_sentence_strong_enough_is_refused_by_evidence(ask):
    result, shown, llm = ask("Which colour is the front door?", [hit(LEASE)], "Red.", min_evidence=0.9)
    assert (result.refused_by, shown, result.evidence) == ("evidence", REFUSAL, []) and not llm.prompts


def test_evidence_without_room_in_the_context_window_is_refused(fake_llm, fake_embedder):
    tiny = fake_llm("Sixty days.")
    tiny.n_ctx = 150  # the question fits; the passage does not
    result = answer(QUESTION, [hit(LEASE)], tiny, settings(max_tokens=32), embed=fake_embedder.embed)
    assert result.refused_by == "evidence" and not tiny.prompts
    assert [h.chunk.source for h in result.left_out] == ["doc.pdf"]  # the note after the answer names it


def test_a_checked_answer_citing_its_passage_is_generated(ask):
    result, shown, _ = ask(QUESTION, [hit(LEASE)], "The notice period is sixty (60) days [1].")
    assert (result.answer_method, result.citation_method, result.cited) == ("generated", "model", [1])
    assert shown == result.text and not result.withheld


def test_an_answer_without_markers_cites_the_evidence_passage(ask):
    result, _, _ = ask(QUESTION, [hit(LEASE)], "The notice period is sixty (60) days.")
    assert (result.answer_method, result.citation_method, result.cited) == ("generated", "evidence", [1])


def test_the_model_saying_the_documents_do_not_answer_gives_the_quoted_evidence(ask):
    result, shown, _ = ask(QUESTION, [hit(LEASE)], "The documents do not mention a notice period.")
    assert result.answer_method == "quoted" and result.text.startswith(QUOTE_INTRO)
    assert result.withheld == "the model said the documents do not answer"
    assert shown == result.text and "sixty (60) days" in shown


def test_a_figure_in_no_passage_is_flagged_and_withheld(ask):
    result, shown, _ = ask(QUESTION, [hit(LEASE)], "The notice period is 90 days [1].")
    record = answer_record(result)
    assert record["answer_method"] == "quoted" and "90" not in shown
    assert record["unsupported_figures"] == ["90"] and "90" in record["withheld"]
    assert record["generated"] == "The notice period is 90 days [1]."


def test_ctrl_c_mid_answer_carries_what_was_shown(fake_embedder):
    class Interrupted:
        n_ctx = 2048
        prompts: list = []

        def count_tokens(self, messages):
            return sum(len(m["content"].split()) + 4 for m in messages)

        def stream_chat(self, *args):
            yield "The notice period is sixty (60) days [1]. "
            raise KeyboardInterrupt

    shown = []
    with pytest.raises(AnswerInterrupted) as stop:
        answer(QUESTION, [hit(LEASE)], Interrupted(), settings(), on_token=shown.append, embed=fake_embedder.embed)
    partial = stop.value.answer
    assert partial.interrupted and partial.generated == "The notice period is sixty (60) days [1]."
    assert "".join(shown) == partial.text  # what the user saw, no more
    assert answer_record(partial)["interrupted"] is True


def test_a_question_longer_than_the_window_is_an_error_not_a_refusal(fake_llm, fake_embedder):
    small = fake_llm()
    small.n_ctx = 64
    with pytest.raises(PromptTooLongError):
        answer("why " * 200, [hit(LEASE)], small, settings(max_tokens=16), embed=fake_embedder.embed)
