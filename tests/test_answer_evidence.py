"""The answer is built around its evidence (fast logic tests with scripted models; tests/fakes.py).

What a user must be able to rely on whatever model writes the words: the evidence is copied
verbatim with offsets that point at it, a generated answer whose figures, codes or names are in
no evidence is never shown, a prompt echo or an empty or marker-only reply is replaced by the
quoted evidence, and a question nothing answers is refused.
"""

import pytest

from core.settings import load_settings
from fakes import FakeEmbedder, FakeLLM, hit
from generation.answer import QUOTE_INTRO, REFUSAL, AnswerOptions, answer
from generation.evidence import choose_evidence, score_candidates
from generation.question import read_question
from generation.record import answer_record
from generation.sentences import sentence_spans

LEASE = (
    "1. Parties\nThis lease is made between Harbor Properties LLC and the tenant named below.\n\n"
    "2. Termination\nEither party may end this lease by giving sixty (60) days' written notice to the other party. "
    "The tenant shall return all keys on the last day, e.g. at the final inspection.\n\n"
    "3. Rent\nThe monthly rent is 1,450 euros, due on the first day of each month."
)
KETTLE = "Descale the kettle every 3 months with citric acid. Never immerse the base in water."


def settings(**more):
    return AnswerOptions.of(load_settings({"min_score": 0.2, "min_evidence": 0.3, **more}, environ={}))


def ask(question, hits, replies, **more):
    llm = FakeLLM(list(replies))
    shown = []
    result = answer(question, hits, llm, settings(**more), on_token=shown.append, embed=FakeEmbedder().embed)
    return result, "".join(shown), llm


def test_sentence_offsets_point_to_the_exact_text():
    spans = sentence_spans(LEASE)
    texts = [LEASE[a:b] for a, b in spans]
    assert any("Either party may end this lease" in t and t.endswith("to the other party.") for t in texts)
    assert any(t.startswith("2. Termination") for t in texts), "a heading stays with its first sentence"
    assert any("e.g. at the final inspection." in t for t in texts), "an abbreviation does not end a sentence"
    for a, b in spans:
        assert LEASE[a:b] == LEASE[a:b].strip() and b > a


def test_evidence_is_the_sentence_holding_the_kind_of_fact_asked_for():
    hits = [hit(KETTLE, "kettle.md", None, 0.5), hit(LEASE, "lease.pdf", 2, 0.55, 1)]
    question = read_question("How many days of notice must be given to end the lease?")
    assert question.wants == "number"
    ranked = score_candidates(question, hits, FakeEmbedder().embed)
    evidence = choose_evidence(ranked, hits)
    best = evidence[0]
    assert "sixty (60) days" in best.text
    assert best.n == 2 and best.source == "lease.pdf" and best.location == "page 2"
    assert LEASE[best.start : best.end] == best.text  # the offsets point to the exact sentence


def test_a_checked_generated_answer_is_shown_with_its_evidence():
    result, shown, _ = ask(
        "What is the notice period in the lease?",
        [hit(LEASE, "lease.pdf", 2)],
        ["The notice period is sixty (60) days [1]."],
    )
    assert result.answer_method == "generated"
    assert "60" in result.text and shown.strip() == result.text
    assert result.cited == [1] and result.citation_method == "model"
    assert "sixty (60) days" in result.evidence[0].text
    record = answer_record(result)
    assert record["answer_method"] == "generated"
    ev = record["evidence"][0]
    assert {"text", "n", "source", "location", "start", "end"} <= set(ev)
    passage = record["passages"][ev["n"] - 1]
    text = passage["passage"]["text"] if "passage" in passage else passage["text"]
    assert text[ev["start"] : ev["end"]] == ev["text"]


@pytest.mark.parametrize(
    "reply, why",
    [
        ("The notice period is 12 months [1].", "unsupported figure 12"),
        ("The notice period is twelve months.", "unsupported figure twelve"),
        ("Answer in one or two short sentences using only the passages above.", "echo of the prompt"),
        ("[1]", "empty"),
        ("", "empty"),
        ("The notice period is defined in the lease.", "says nothing"),
    ],
)
def test_an_answer_the_evidence_does_not_hold_is_replaced_by_the_quoted_evidence(reply, why):
    result, shown, _ = ask("What is the notice period in the lease?", [hit(LEASE, "lease.pdf", 2)], [reply])
    assert result.answer_method == "quoted", result.text
    assert result.text.startswith(QUOTE_INTRO) and "sixty (60) days" in result.text
    assert why.split()[0] in result.withheld
    assert "12" not in shown and "twelve" not in shown, "the invented figure never reached the user"
    assert shown == result.text
    assert result.cited == [result.evidence[0].n] and result.citation_method == "evidence"


def test_a_sentence_after_a_good_one_that_invents_a_figure_is_withheld():
    reply = "Either party may end the lease with sixty (60) days' notice [1]. The deposit is 900 euros."
    result, shown, _ = ask("What is the notice period in the lease?", [hit(LEASE, "lease.pdf", 2)], [reply])
    assert result.answer_method == "generated"
    assert "60" in result.text and "900" not in result.text and "900" not in shown
    assert "900" in result.withheld


def test_unrelated_question_is_refused_without_asking_the_model():
    result, shown, llm = ask("Who painted the Mona Lisa?", [hit(LEASE, "lease.pdf", 2, relevance=0.05)], ["Leonardo."])
    assert result.refused and result.refused_by == "threshold" and result.answer_method == "refused"
    assert shown == REFUSAL and not llm.prompts


def test_no_sentence_answering_the_question_is_a_refusal():
    result, shown, llm = ask(
        "What is the boiling point of mercury in kelvin?",
        [hit(KETTLE, "kettle.md", None, 0.3)],
        ["It is 630 kelvin."],
        min_evidence=0.5,
    )
    assert result.refused and result.refused_by == "evidence"
    assert shown == REFUSAL and not llm.prompts


def test_the_model_reads_the_evidence_sentences_with_their_passage_numbers():
    hits = [hit(KETTLE, "kettle.md", None, 0.5), hit(LEASE, "lease.pdf", 2, 0.55, 1)]
    result, _, llm = ask("How many days of notice end the lease?", hits, ["Sixty (60) days [2]."])
    prompt = llm.prompts[0][-1]["content"]
    assert "sixty (60) days" in prompt
    n = result.evidence[0].n
    assert f"[{n}] " in prompt and result.passages[n - 1].chunk.source == "lease.pdf"
