"""Follow-up questions made standalone: which need it, the bounded history, checking the model's rewrite."""

from dataclasses import dataclass, field

import pytest

from answering import Session
from generation.followup import (
    REWRITE_MAX_TOKENS,
    History,
    judge_rewrite,
    looks_like_followup,
    rewrite_followup,
)
from generation.llm import Sampling
from retrieval import open_retriever

SAMPLING = Sampling(temperature=0.0, repeat_penalty=1.1)


@dataclass
class Recording:
    """The real model, with the prompts it was sent recorded."""

    llm: object
    prompts: list = field(default_factory=list)

    @property
    def n_ctx(self):
        return self.llm.n_ctx

    def count_tokens(self, messages):
        return self.llm.count_tokens(messages)

    def stream_chat(self, messages, *args):
        self.prompts.append(messages)
        return self.llm.stream_chat(messages, *args)


@dataclass
class Scripted(Recording):
    """The real tokenizer, but a reply chosen by the test: what a small model sometimes says."""

    reply: str = ""

    def stream_chat(self, messages, *args):
        self.prompts.append(messages)
        yield self.reply


@pytest.mark.parametrize(
    "question",
    [
        "And the deposit?",
        "How much notice is needed to end it?",
        "What about pets?",
        "What should I do about the second one?",
        "Why?",
    ],
)
def test_questions_that_lean_on_the_conversation(question):
    assert looks_like_followup(question)


@pytest.mark.parametrize(
    "question", ["What is the monthly rent for the apartment?", "How often should the kettle be descaled?"]
)
def test_questions_that_stand_alone(question):
    assert not looks_like_followup(question)


def test_a_standalone_question_is_not_sent_to_the_model(llm):
    history = History()
    history.add("What is the rent?", "What is the rent?", "1,850 US dollars [1].")
    recording = Recording(llm)
    rewrite = rewrite_followup("How often should the kettle be descaled?", history, recording, 512, SAMPLING)
    assert (rewrite.method, rewrite.standalone) == ("as-is", "How often should the kettle be descaled?")
    assert recording.prompts == []


def test_history_keeps_the_newest_turns_that_fit_the_budget(llm):
    history = History()
    for n in range(30):
        history.add(
            f"Question {n} about clause {n}?", f"Question {n} about clause {n}?", f"Clause {n} says " + "words " * 80
        )
    messages, used = history.window(llm, "And the next one?", budget=300)
    assert llm.count_tokens(messages) <= 300
    assert 0 < used < 30
    text = messages[-1]["content"]
    assert "Question 29 about" in text and "Question 0 about" not in text


def test_the_rewrite_prompt_never_overflows_the_context_window(llm):
    history = History()
    for n in range(30):
        history.add(f"What does clause {n} say?", f"What does clause {n} say?", "It says " + "many things " * 200)
    recording = Scripted(llm)  # the reply does not matter here, only the prompt
    rewrite_followup("And what about it?", history, recording, history_tokens=100_000, sampling=SAMPLING)
    assert recording.prompts, "a follow-up with history is sent to the model"
    assert llm.count_tokens(recording.prompts[0]) <= llm.n_ctx - REWRITE_MAX_TOKENS


def test_judging_rewrites():
    history = "What is the monthly rent for the apartment? The rent is 1,850 US dollars."
    question = "And how much is the security deposit?"
    assert judge_rewrite("How much is the security deposit for the apartment?", question, history) == ""
    assert judge_rewrite("", question, history) == "empty"
    assert judge_rewrite("The rent is 1,850 US dollars.", question, history) == "dropped the question's own words"
    assert (
        judge_rewrite("How much is the security deposit?", question, history)
        == "resolved nothing from the conversation"
    )
    assert "invented" in judge_rewrite(
        "How much is the security deposit for the apartment spaceship galaxy rocket?", question, history
    )


@pytest.mark.parametrize(
    "reply", ["The security deposit is 2,775 US dollars.", "", "Sure! Here is the rewritten question:"]
)
def test_a_rewrite_that_looks_wrong_falls_back_to_the_previous_key_terms(llm, reply):
    history = History()
    history.add(
        "What is the monthly rent for the apartment?",
        "What is the monthly rent for the apartment?",
        "1,850 US dollars.",
    )
    rewrite = rewrite_followup("And the deposit?", history, Scripted(llm, reply=reply), 512, SAMPLING)
    assert rewrite.method == "fallback"
    assert rewrite.standalone.startswith("And the deposit?")
    assert "monthly rent apartment" in rewrite.standalone


def test_a_good_rewrite_is_used(llm):
    history = History()
    history.add(
        "What is the monthly rent for the apartment?",
        "What is the monthly rent for the apartment?",
        "1,850 US dollars.",
    )
    scripted = Scripted(llm, reply="Rewritten question: How much is the security deposit for the apartment?\nNote: ...")
    rewrite = rewrite_followup("And how much is the security deposit?", history, scripted, 512, SAMPLING)
    assert (rewrite.method, rewrite.standalone) == ("llm", "How much is the security deposit for the apartment?")
    assert "What is the monthly rent for the apartment?" in scripted.prompts[0][-1]["content"]


def test_follow_up_with_the_real_model_finds_the_right_passage(sample_db, settings_for, llm):
    """What chat does: the rewrite (or its fallback) and the question as typed, searched together."""
    settings = settings_for(sample_db, k=3)
    history = History()
    history.add(
        "What is the monthly rent for the apartment?",
        "What is the monthly rent for the apartment?",
        "The monthly rent is 1,850 US dollars [1].",
    )
    question = "How much notice is needed to end it?"
    rewrite = rewrite_followup(question, history, llm, settings.history_tokens, Sampling.of(settings))
    assert rewrite.method in ("llm", "fallback")
    with open_retriever(settings) as retriever:
        hits = Session(retriever, llm, settings).search(rewrite.standalone, question)
    assert (hits[0].chunk.source, hits[0].chunk.page) == ("lease_agreement.pdf", 2)


def test_the_rewrite_samples_as_the_user_asked():
    from fakes import FakeLLM

    class Recording(FakeLLM):
        def stream_chat(self, messages, max_tokens, temperature, repeat_penalty):
            self.prompts.append((temperature, repeat_penalty))
            yield "How much is the security deposit for the apartment?"

    history = History()
    history.add(
        "What is the monthly rent for the apartment?",
        "What is the monthly rent for the apartment?",
        "1,850 US dollars.",
    )
    llm = Recording()
    rewrite = rewrite_followup("And how much is the security deposit?", history, llm, 512, Sampling(0.7, 1.3))
    assert rewrite.method == "llm" and llm.prompts == [(0.7, 1.3)]
