"""Grounded answers with the real bundled model: cited, refused when the documents are silent, packed to fit."""

import pytest

from core.types import Chunk, Hit
from generation import AnswerOptions, answer
from generation.question import vocabulary
from generation.record import answer_record
from generation.prompt import build_messages, pack_prompt
from retrieval import open_retriever


@pytest.fixture(scope="module")
def ask(sample_db, settings_for, llm):
    settings = settings_for(sample_db, temperature=0.0)
    retriever = open_retriever(settings)

    def run(question: str, **changes):
        return answer(
            question,
            retriever.search(question),
            llm,
            AnswerOptions.of(settings.replace(**changes)),
            embed=retriever.embedder.embed,
            word_counts=vocabulary(retriever.index.word_counts, retriever.index.catalog.chunk_count()),
        )

    yield run
    retriever.close()


@pytest.mark.parametrize(
    "question, fact, source",
    [
        ("How much is the home-office equipment stipend?", "600", "team_handbook.md"),
        ("What are the core hours?", "10:00", "team_handbook.md"),
    ],
)
def test_answer_rests_on_evidence_holding_the_fact_and_cites_its_passage(ask, question, fact, source):
    # Which words the model writes depends on the CPU; what the answer rests on does not.
    result = ask(question)
    assert not result.refused
    assert result.answer_method in ("generated", "quoted")
    assert fact in result.evidence[0].text
    assert result.cited, f"no citation in {result.text!r}"
    assert all(1 <= n <= len(result.passages) for n in result.cited)
    holding = [h for h in result.sources() if fact in h.text]
    assert holding and holding[0].chunk.source == source
    if result.answer_method == "quoted":
        assert fact in result.text
    assert not result.invalid_markers or all(m not in result.text for m in result.invalid_markers)


def test_question_the_documents_do_not_answer_is_refused_without_the_model(ask):
    result = ask("Who won the football world cup in 1998?")
    assert result.refused
    assert result.refused_by in ("threshold", "unknown_words")
    assert "do not contain" in result.text
    assert "first_token_s" not in result.timings  # the model was never asked
    assert result.retrieved  # what was found is still there for --show-sources


@pytest.fixture(scope="module")
def small_window_llm():
    """The bundled model with a 512-token window: the same tokenizer and template, less to evaluate."""
    from generation.backends.bundled import bundled_llm_path
    from generation.backends.local_gguf import LlamaCppLLM

    return LlamaCppLLM(bundled_llm_path(), n_ctx=512, threads=2)


@pytest.mark.slow
def test_context_far_larger_than_the_window_is_packed_without_overflow(small_window_llm, settings_for, tmp_path):
    llm = small_window_llm
    settings = settings_for(tmp_path / "unused", temperature=0.0, max_tokens=24, excerpt_sentences=0)
    base = "Clause {i}. The tenant shall keep the premises number {i} clean, tidy and in good repair at all times. " * 6
    hits = [Hit(Chunk.make(base.format(i=i), f"doc{i}.txt", 0), 1.0 - i / 1000, relevance=0.9) for i in range(60)]
    packed = pack_prompt("What must the tenant keep clean?", hits, llm, settings.max_tokens)
    assert (
        llm.count_tokens(build_messages("What must the tenant keep clean?", [h.chunk.text for h in hits]))
        > 10 * llm.n_ctx
    )
    assert packed.left_out
    assert packed.prompt_tokens + settings.max_tokens <= llm.n_ctx
    assert packed.passages == hits[: len(packed.passages)]  # by rank, none skipped before the first left out
    user = packed.messages[-1]["content"]
    assert all(h.chunk.text in user for h in packed.passages)  # every passage given whole
    assert not any(h.chunk.text in user for h in packed.left_out)
    # The count is the one llama.cpp sees, and the model really runs on it.
    assert llm.count_tokens(packed.messages) == packed.prompt_tokens
    result = answer("What must the tenant keep clean?", hits, llm, AnswerOptions.of(settings))
    assert len(result.left_out) == len(packed.left_out)
    assert answer_record(result)["left_out"]


def test_token_count_matches_what_llama_cpp_sends(llm):
    messages = build_messages("What is the rent?", ["The rent is 950 euros [sic] per month.", "Deposit: 3 months."])
    llm.count_tokens(messages)  # loads the model
    reply = llm._llama.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0)
    assert reply["usage"]["prompt_tokens"] == llm.count_tokens(messages)
