"""An answer: refused when nothing relevant was found, else generated from the packed prompt,
streamed with its citation markers checked, and attributed to passages when the model cited none.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Callable

from core.settings import Settings
from core.types import Hit
from generation.citations import MarkerFilter, attribute_by_overlap, check_citations, unsupported_figures
from generation.llm import LLM
from generation.prompt import pack_prompt

log = logging.getLogger(__name__)

REFUSAL = "The documents do not contain an answer to this question."

# The model saying, in its first sentence, that the passages do not hold the answer.
_SAYS_NOT_THERE = re.compile(
    r"^[^.!?\n]*\b(?:documents?|passages?|texts?|context|sources?)\b[^.!?\n]*?"
    r"\b(?:do(?:es)?\s*n[o']t|do(?:es)?\s+not|did\s+not|not)\s+(?:say|contain|mention|provide|include|specify|state|answer)"
    r"|^\s*(?:i\s+(?:do\s+not|don't)\s+know|there\s+is\s+no\s+information|no\s+information)",
    re.IGNORECASE,
)

__all__ = ["Answer", "AnswerInterrupted", "REFUSAL", "answer", "check_citations", "relevance"]


@dataclass
class Answer:
    question: str
    text: str
    passages: list[Hit] = field(default_factory=list)  # numbered 1..n in the prompt
    cited: list[int] = field(default_factory=list)  # valid passage numbers the answer cites, in order
    invalid_markers: list[str] = field(default_factory=list)  # markers pointing to no passage (dropped)
    refused: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    # Added by issue 5; all have defaults so older callers keep working.
    retrieved: list[Hit] = field(default_factory=list)  # every hit retrieval returned, in rank order
    left_out: list[Hit] = field(default_factory=list)  # relevant, but no room in the context window
    excerpts: list[str] = field(default_factory=list)  # what the model saw of each passage
    citation_method: str = ""  # "model": its own markers; "overlap": attributed by shared words; "": none
    refused_by: str = ""  # "threshold": nothing relevant retrieved; "model": it said the passages do not say
    unsupported: list[str] = field(default_factory=list)  # numbers in the answer found in no passage
    interrupted: bool = False  # stopped by Ctrl-C; `text` is what came before
    prompt_tokens: int = 0

    def sources(self) -> list[Hit]:
        return [self.passages[n - 1] for n in self.cited]

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "refused_by": self.refused_by,
            "citation_method": self.citation_method,
            "sources": [{"n": n, **self.passages[n - 1].to_json()} for n in self.cited],
            "passages": [
                {"n": i, **h.to_json(), **({"excerpt": self.excerpts[i - 1]} if i <= len(self.excerpts) else {})}
                for i, h in enumerate(self.passages, start=1)
            ],
            "left_out": [h.to_json() for h in self.left_out],
            "invalid_markers": self.invalid_markers,
            "unsupported_figures": self.unsupported,
            "interrupted": self.interrupted,
            "prompt_tokens": self.prompt_tokens,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


class AnswerInterrupted(KeyboardInterrupt):
    """Ctrl-C during generation; `answer` holds what was generated until then."""

    def __init__(self, partial: Answer):
        super().__init__("answer interrupted")
        self.answer = partial


def relevance(hit: Hit) -> float:
    return hit.relevance if hit.relevance is not None else hit.score


def says_not_in_documents(text: str) -> bool:
    return bool(_SAYS_NOT_THERE.search(text.strip()))


def answer(
    question: str, hits: list[Hit], llm: LLM, settings: Settings, on_token: Callable[[str], None] | None = None
) -> Answer:
    """Answer `question` from `hits`; `on_token` receives the text as it is generated.

    Refuses without calling the model when no hit reaches `settings.min_score`. Markers
    to no passage are dropped from the streamed text as well as from `Answer.text`.
    Raises `AnswerInterrupted` (a KeyboardInterrupt) on Ctrl-C, carrying the partial answer.
    """
    started = time.perf_counter()
    relevant = [h for h in hits if relevance(h) >= settings.min_score]
    if not relevant:
        if on_token:
            on_token(REFUSAL)
        return Answer(question, REFUSAL, refused=True, refused_by="threshold", retrieved=list(hits),
                      timings={"total_s": time.perf_counter() - started})
    packed = pack_prompt(question, relevant, llm, settings.max_tokens, settings.excerpt_sentences)
    if packed.left_out:
        log.info("%d relevant passage(s) did not fit the context window and were left out", len(packed.left_out))
    markers = MarkerFilter(len(packed.passages))
    pieces: list[str] = []
    first_token_at = None
    interrupted = False

    def emit(text: str) -> None:
        if text:
            pieces.append(text)
            if on_token:
                on_token(text)

    stream = llm.stream_chat(packed.messages, settings.max_tokens, settings.temperature, settings.repeat_penalty)
    try:
        for piece in stream:
            if first_token_at is None:
                first_token_at = time.perf_counter()
            emit(markers.feed(piece))
        emit(markers.flush())
    except KeyboardInterrupt:
        interrupted = True
        close = getattr(stream, "close", None)
        if close:
            close()
    text = "".join(pieces).strip()
    result = Answer(
        question, text, packed.passages, list(markers.cited), list(markers.dropped),
        retrieved=list(hits), left_out=packed.left_out, excerpts=packed.excerpts,
        interrupted=interrupted, prompt_tokens=packed.prompt_tokens,
    )
    if result.cited:
        result.citation_method = "model"
    elif says_not_in_documents(text):
        result.refused, result.refused_by = True, "model"
    else:
        result.cited = attribute_by_overlap(text, packed.excerpts, question)
        result.citation_method = "overlap" if result.cited else ""
    result.unsupported = [] if result.refused else unsupported_figures(text, packed.excerpts, question)
    finished = time.perf_counter()
    result.timings = {"total_s": finished - started}
    if first_token_at is not None:
        result.timings["first_token_s"] = first_token_at - started
    if interrupted:
        raise AnswerInterrupted(result)
    return result
