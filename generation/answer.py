"""An answer: generated from the packed prompt, streamed, its citations checked."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Callable

from core.settings import Settings
from core.types import Hit
from generation.llm import LLM
from generation.prompt import pack_prompt

REFUSAL = "The documents do not contain an answer to this question."
_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


@dataclass
class Answer:
    question: str
    text: str
    passages: list[Hit] = field(default_factory=list)  # numbered 1..n in the prompt
    cited: list[int] = field(default_factory=list)  # valid passage numbers the answer cites, in order
    invalid_markers: list[str] = field(default_factory=list)  # markers pointing to no passage (dropped)
    refused: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    def sources(self) -> list[Hit]:
        return [self.passages[n - 1] for n in self.cited]

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "sources": [{"n": n, **self.passages[n - 1].to_json()} for n in self.cited],
            "passages": [{"n": i, **h.to_json()} for i, h in enumerate(self.passages, start=1)],
            "invalid_markers": self.invalid_markers,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


def check_citations(text: str, n_passages: int) -> tuple[str, list[int], list[str]]:
    """Text with markers to no passage removed, the valid numbers cited (first-seen order), the dropped markers."""
    cited: list[int] = []
    dropped: list[str] = []

    def keep(match: re.Match) -> str:
        numbers = [int(n) for n in re.split(r"\s*,\s*", match.group(1))]
        valid = [n for n in numbers if 1 <= n <= n_passages]
        if len(valid) < len(numbers):
            dropped.append(match.group(0))
        for n in valid:
            if n not in cited:
                cited.append(n)
        return f"[{', '.join(str(n) for n in valid)}]" if valid else ""

    cleaned = _MARKER.sub(keep, text)
    return re.sub(r"[ \t]+([.,;:])", r"\1", cleaned).strip(), cited, dropped


def answer(
    question: str, hits: list[Hit], llm: LLM, settings: Settings, on_token: Callable[[str], None] | None = None
) -> Answer:
    """Answer `question` from `hits`; `on_token` receives the text as it is generated."""
    started = time.perf_counter()
    relevant = [h for h in hits if (h.relevance if h.relevance is not None else h.score) >= settings.min_score]
    if not relevant:
        if on_token:
            on_token(REFUSAL)
        return Answer(question, REFUSAL, refused=True, timings={"total_s": time.perf_counter() - started})
    packed = pack_prompt(question, relevant, llm, settings.max_tokens)
    pieces: list[str] = []
    first_token_at = None
    for piece in llm.stream_chat(packed.messages, settings.max_tokens, settings.temperature, settings.repeat_penalty):
        if first_token_at is None:
            first_token_at = time.perf_counter()
        pieces.append(piece)
        if on_token:
            on_token(piece)
    text, cited, dropped = check_citations("".join(pieces), len(packed.passages))
    finished = time.perf_counter()
    timings = {"total_s": finished - started}
    if first_token_at is not None:
        timings["first_token_s"] = first_token_at - started
    return Answer(question, text, packed.passages, cited, dropped, refused=False, timings=timings)
