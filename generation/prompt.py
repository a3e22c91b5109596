"""The prompt: numbered passages and the question, packed to fit the context window."""
from __future__ import annotations

from dataclasses import dataclass

from core.types import Hit
from generation.llm import LLM, Message

SYSTEM_PROMPT = (
    "You answer questions about the user's documents using only the numbered passages given. "
    "Cite the passage each fact comes from with its number in square brackets, like [1]. "
    "If the passages do not contain the answer, say that the documents do not say, and nothing else. "
    "Never use knowledge from outside the passages. Answer briefly."
)


def format_passage(number: int, hit: Hit) -> str:
    return f"[{number}] ({hit.chunk.citation()})\n{hit.chunk.text}"


def build_messages(question: str, passages: list[Hit]) -> list[Message]:
    body = "\n\n".join(format_passage(i, hit) for i, hit in enumerate(passages, start=1))
    user = f"Passages:\n\n{body}\n\nQuestion: {question}" if passages else f"Question: {question}"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


@dataclass(frozen=True)
class PackedPrompt:
    messages: list[Message]
    passages: list[Hit]  # numbered 1..n in the prompt
    left_out: list[Hit]  # retrieved, but no room in the window
    prompt_tokens: int


def pack_prompt(question: str, hits: list[Hit], llm: LLM, answer_tokens: int) -> PackedPrompt:
    """Passages in rank order, each whole or not at all, while prompt + answer fit in n_ctx."""
    limit = llm.n_ctx - answer_tokens
    chosen: list[Hit] = []
    left_out: list[Hit] = []
    tokens = llm.count_tokens(build_messages(question, []))
    if tokens > limit:
        raise ValueError(
            f"The question alone takes {tokens} tokens, more than the {limit} the context window leaves "
            f"(n_ctx {llm.n_ctx} minus {answer_tokens} for the answer). Shorten it, or raise --n-ctx."
        )
    for hit in hits:
        trial = llm.count_tokens(build_messages(question, chosen + [hit]))
        if trial <= limit:
            chosen.append(hit)
            tokens = trial
        else:
            left_out.append(hit)
    return PackedPrompt(build_messages(question, chosen), chosen, left_out, tokens)
