"""What an answer may show (fast logic tests with a scripted model and hashed vectors).

- a generated claim is shown only when one evidence sentence holds its figures and names;
  a figure found in another sentence of the evidence is not enough;
- marker-only or near-empty text is never shown;
- a question about something the documents never mention is refused, saying what, with a
  pointer to the closest passages;
- --answer-style: quote never calls the model, generate does, auto quotes for the bundled model;
- evidence is listed once, numbered in the order it is shown.
"""

import pytest

from core.settings import load_settings
from fakes import FakeLLM, hit
from generation.answer import QUOTE_INTRO, AnswerOptions, answer
from generation.grounding import check_sentence, supporting_sentence
from generation.question import read_question
from generation.record import answer_record

LIMITS = (
    "Page limits. The maximum number of pages in a database file is 4294967294 pages. "
    "The default page cache holds 2000 pages of memory for each open connection."
)
QUESTION = "How many pages does the page cache hold by default?"


def options(**more):
    return AnswerOptions.of(load_settings({"min_score": 0.2, "min_evidence": 0.0, **more}, environ={}))


def run(question, hits, reply, embed, llm=None, word_counts=None, index_chunks=0, mentions=None, **more):
    llm = llm or FakeLLM([reply])
    shown = []
    result = answer(
        question,
        hits,
        llm,
        options(**more),
        on_token=shown.append,
        embed=embed,
        word_counts=word_counts,
        index_chunks=index_chunks,
        mentions=mentions,
    )
    return result, "".join(shown), llm


def test_a_figure_from_another_sentence_is_not_support():
    asked = read_question(QUESTION)
    evidence = [
        "The maximum number of pages in a database file is 4294967294 pages.",
        "The default page cache holds 2000 pages of memory for each open connection.",
    ]
    wrong = "The page cache can grow to 4294967294 pages by default."
    right = "The page cache holds 2000 pages by default."
    assert supporting_sentence(right, evidence, asked) == 1
    assert check_sentence(right, evidence, asked).ok
    assert supporting_sentence(wrong, evidence, asked) == 0  # the figure's own sentence is about the file
    both = "The page cache holds 2000 pages and grows to 4294967294 pages."
    assert supporting_sentence(both, evidence, asked) is None  # no single sentence holds both figures
    assert not check_sentence(both, evidence, asked).ok


def test_a_claim_joining_figures_of_two_sentences_is_withheld(fake_embedder):
    reply = "The page cache holds 2000 pages and can grow to 4294967294 pages [1]."
    result, shown, _ = run(
        QUESTION, [hit(LIMITS, "limits.html", None)], reply, fake_embedder.embed, answer_style="generate"
    )
    assert "4294967294" not in shown
    assert result.answer_method == "quoted" and shown.startswith(QUOTE_INTRO)
    assert result.withheld


@pytest.mark.parametrize("reply", ["[1] 2.", "[1]", "2.", "Yes."])
def test_marker_only_or_near_empty_text_is_never_shown(fake_embedder, reply):
    result, shown, _ = run(
        QUESTION, [hit(LIMITS, "limits.html", None)], reply, fake_embedder.embed, answer_style="generate"
    )
    assert result.answer_method == "quoted", shown
    assert shown.startswith(QUOTE_INTRO) and "2000" in shown


def test_quote_style_never_calls_the_model(fake_embedder):
    result, shown, llm = run(
        QUESTION, [hit(LIMITS, "limits.html", None)], "Anything.", fake_embedder.embed, answer_style="quote"
    )
    assert not llm.prompts
    assert result.answer_method == "quoted" and "2000 pages" in shown
    assert result.timings["first_text_s"] <= result.timings["total_s"]


def test_generate_style_lets_a_supported_answer_through(fake_embedder):
    reply = "The default page cache holds 2000 pages [1]."
    result, shown, llm = run(
        QUESTION, [hit(LIMITS, "limits.html", None)], reply, fake_embedder.embed, answer_style="generate"
    )
    assert llm.prompts and result.answer_method == "generated" and "2000" in shown


def test_auto_quotes_for_the_bundled_model_and_generates_for_another(fake_embedder):
    reply = "The default page cache holds 2000 pages [1]."
    bundled = FakeLLM([reply])
    bundled.bundled = True
    result, _, _ = run(QUESTION, [hit(LIMITS, "limits.html", None)], reply, fake_embedder.embed, llm=bundled)
    assert result.answer_method == "quoted" and not bundled.prompts
    result, _, other = run(QUESTION, [hit(LIMITS, "limits.html", None)], reply, fake_embedder.embed)
    assert result.answer_method == "generated" and other.prompts


def test_an_answer_style_that_does_not_exist_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="auto, quote, generate"):
        load_settings({"answer_style": "poem"}, environ={})


SHELLS = (
    "Prompt. The shell prints the primary prompt PS1 when it is ready to read a command. "
    "The default value of PS1 is '\\s-\\v\\$ '."
)


def counts_of(known: dict[str, int]):
    return lambda words: {w: known.get(w, 0) for w in words}


def test_a_question_about_something_the_documents_never_mention_is_refused_with_a_pointer(fake_embedder):
    known = counts_of({"default": 300, "prompt": 40, "value": 200, "primary": 30})
    question = "What is the default prompt in Zsh?"
    hits = [hit(SHELLS, "bash/prompt.html", None, 0.7), hit(LIMITS, "limits.html", None, 0.3, 1)]
    result, shown, llm = run(question, hits, "PS1.", fake_embedder.embed, word_counts=known, index_chunks=2000)
    assert result.refused and result.refused_by == "subject" and not llm.prompts
    assert shown == "The documents do not mention zsh."
    record = answer_record(result)
    assert record["refused"] and [h["source"] for h in record["closest"]] == ["bash/prompt.html", "limits.html"]


def test_a_rare_name_missing_from_every_relevant_passage_is_refused(fake_embedder):
    known = counts_of({"default": 300, "prompt": 40, "value": 200, "fish": 2, "shell": 90})
    question = "What is the default prompt of the Fish shell?"
    hits = [hit(SHELLS, "bash/prompt.html", None, 0.7)]
    result, shown, _ = run(question, hits, "PS1.", fake_embedder.embed, word_counts=known, index_chunks=2000)
    assert result.refused_by == "subject" and shown == "The passages that match this question do not mention fish."
    assert [h.chunk.source for h in result.closest] == ["bash/prompt.html"]


def test_a_rare_name_only_a_passage_without_the_evidence_mentions_is_refused(fake_embedder):
    """The port sentence is about another server: that a lower passage names a MongoDB client does
    not make the port sentence answer a question about MongoDB."""
    known = counts_of({"default": 300, "port": 40, "listen": 20, "mongodb": 1, "listens": 20})
    question = "Which port does MongoDB listen on by default?"
    port = "Connections. The server listens on TCP port 5432 by default."
    client = "Interfaces. The package RMongo provides an interface to a client for MongoDB."
    hits = [hit(port, "postgresql/connections.html", None, 0.6), hit(client, "r/R-data.pdf", 24, 0.4, 1)]
    result, shown, _ = run(
        question, hits, "", fake_embedder.embed, word_counts=known, index_chunks=2000, answer_style="quote"
    )
    assert result.refused_by == "subject" and shown == "The passages that match this question do not mention mongodb."
    assert "postgresql/connections.html" in [h.chunk.source for h in result.closest]


def test_a_rare_name_the_evidence_document_gives_elsewhere_is_answered(fake_embedder):
    """A licence's text names "Mozilla" in its title line only: a passage from its middle answers a
    question about the Mozilla licence."""
    known = counts_of(
        {"control": 60, "ownership": 20, "shares": 10, "mozilla": 2, "entity": 40, "licence": 30, "counts": 20}
    )
    question = "In the Mozilla licence, what ownership of an entity's shares counts as control?"
    middle = "Definitions. Control means ownership of more than fifty percent of the outstanding shares."
    hits = [hit(middle, "licenses/MPL-2.0", None, 0.6)]
    named = []

    def mentions(source, words):
        named.append((source, list(words)))
        return source == "licenses/MPL-2.0" and "mozilla" in words

    def quoted(mentions):
        return run(
            question,
            hits,
            "",
            fake_embedder.embed,
            word_counts=known,
            index_chunks=2000,
            answer_style="quote",
            mentions=mentions,
        )

    result, shown, _ = quoted(mentions)
    assert not result.refused and "fifty percent" in shown
    assert named == [("licenses/MPL-2.0", ["mozilla"])]
    refused, shown, _ = quoted(lambda source, words: False)
    assert refused.refused_by == "subject" and shown.endswith("do not mention mozilla.")


def test_a_plain_word_of_the_user_missing_from_the_passage_is_no_reason_to_refuse(fake_embedder):
    known = counts_of({"default": 300, "prompt": 40, "value": 200, "afterwards": 2, "shell": 90})
    question = "Which prompt does the shell print afterwards by default?"
    hits = [hit(SHELLS, "bash/prompt.html", None, 0.7)]
    result, _, _ = run(
        question, hits, "", fake_embedder.embed, word_counts=known, index_chunks=2000, answer_style="quote"
    )
    assert not result.refused


def test_the_subject_in_the_passage_is_answered(fake_embedder):
    known = counts_of({"default": 300, "prompt": 40, "value": 200, "ps1": 3})
    question = "What is the default value of PS1?"
    result, shown, _ = run(
        question,
        [hit(SHELLS, "bash/prompt.html", None, 0.7)],
        "",
        fake_embedder.embed,
        word_counts=known,
        index_chunks=2000,
        answer_style="quote",
    )
    assert not result.refused and "PS1" in shown


def test_a_small_index_never_refuses_on_absent_words(fake_embedder):
    question = "What is the default prompt in Zsh?"
    result, _, _ = run(
        question,
        [hit(SHELLS, "bash/prompt.html", None, 0.7)],
        "",
        fake_embedder.embed,
        word_counts=counts_of({}),
        index_chunks=12,
        answer_style="quote",
        max_unknown=1.0,
    )
    assert result.refused_by != "subject"


def test_the_same_sentence_in_two_passages_is_evidence_once_numbered_as_shown(fake_embedder):
    text = "The default page cache holds 2000 pages of memory for each open connection."
    hits = [
        hit("Unrelated intro about files.", "a.html", None, 0.9),
        hit(text, "b.html", None, 0.5, 1),
        hit(text, "b.html", None, 0.5, 2),
    ]
    result, _, _ = run(QUESTION, hits, "", fake_embedder.embed, answer_style="quote")
    texts = [e.text for e in result.evidence]
    assert len(texts) == len(set(texts))
    assert [e.n for e in result.evidence] == sorted(e.n for e in result.evidence)
    assert result.evidence[0].n == 1 and result.passages[0].chunk.source == "b.html"
