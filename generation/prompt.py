"""The prompt: numbered passages and the question, packed to fit the context window."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import LocalGPTError
from core.types import Hit
from generation.excerpts import choose_excerpts
from generation.llm import LLM, Message

NOT_IN_DOCUMENTS = "The documents do not say."

SYSTEM_PROMPT = (
    "You answer questions using only the numbered passages the user gives you. "
    "Copy the exact figures, names and codes from the passages. "
    "After each fact, cite its passage number in square brackets, like [1]. "
    f"If the passages do not contain the answer, reply only: {NOT_IN_DOCUMENTS} "
    "Never use knowledge from outside the passages."
)

INSTRUCTION = "Answer in one or two short sentences using only the passages above, citing the passage number like [1]."


class PromptTooLongError(LocalGPTError):
    """The question alone does not fit the context window."""


def check_question_fits(question: str, llm: LLM, answer_tokens: int, exact: bool = False) -> int:
    """The prompt's tokens without passages; PromptTooLongError when the question alone leaves no room.
    Unless `exact`, a question far shorter than the window is let through without counting (no model load)."""
    limit = llm.n_ctx - answer_tokens
    if not exact and len(question) + 400 < limit:  # a token is at least one character; 400: the rest of the prompt
        return 0
    tokens = llm.count_tokens(build_messages(question, []))
    if tokens > limit:
        raise PromptTooLongError(
            f"The question alone takes {tokens} tokens, more than the {limit} the context window leaves "
            f"(n_ctx {llm.n_ctx} minus {answer_tokens} for the answer). Shorten it, lower --max-tokens or raise --n-ctx."
        )
    return tokens


def format_passage(number: int, text: str) -> str:
    return f"[{number}] {text}"


def build_messages(question: str, texts: list[str]) -> list[Message]:
    """System rules; then the passages, the question and the instruction last, where a small model heeds it."""
    if texts:
        body = "\n\n".join(format_passage(i, t) for i, t in enumerate(texts, start=1))
        user = f"Passages:\n\n{body}\n\nQuestion: {question}\n{INSTRUCTION}"
    else:
        user = f"Question: {question}\n{INSTRUCTION}"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


@dataclass(frozen=True)
class PackedPrompt:
    messages: list[Message]
    passages: list[Hit]  # numbered 1..n in the prompt
    left_out: list[Hit]  # retrieved and relevant, but no room in the window
    prompt_tokens: int
    excerpts: list[str] = field(default_factory=list)  # what the model saw of each passage


def pack_prompt(
    question: str,
    hits: list[Hit],
    llm: LLM,
    answer_tokens: int,
    excerpt_sentences: int = 0,
    excerpts: list[str] | None = None,
) -> PackedPrompt:
    """Passages in rank order, each whole (or its chosen excerpt) or not at all, while prompt + answer fit in n_ctx.

    Token counts come from the model's own tokenizer and chat template, so the prompt
    plus `answer_tokens` never exceeds the window. A passage that does not fit is left
    out and reported in `left_out`, never cut.
    """
    limit = llm.n_ctx - answer_tokens
    tokens = check_question_fits(question, llm, answer_tokens, exact=True)
    texts = excerpts if excerpts is not None else choose_excerpts(question, hits, excerpt_sentences)
    chosen: list[Hit] = []
    chosen_texts: list[str] = []
    left_out: list[Hit] = []
    for hit, text in zip(hits, texts):
        if not text:  # no sentence of it was chosen: not given to the model
            continue
        trial = llm.count_tokens(build_messages(question, chosen_texts + [text]))
        if trial <= limit:
            chosen.append(hit)
            chosen_texts.append(text)
            tokens = trial
        else:
            left_out.append(hit)
    return PackedPrompt(build_messages(question, chosen_texts), chosen, left_out, tokens, chosen_texts)
