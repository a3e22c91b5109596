"""An answer built around its evidence: sentences copied from the passages, then words the
model may add only where the evidence holds what they state.

    hits -> relevant?  (no passage reaches --min-score: refused, "threshold")
         -> evidence   (generation.evidence: the sentences that answer, verbatim, with offsets)
         -> grounded?  (the best evidence scores under --min-evidence: refused, "evidence")
         -> generate   (the model reads the best sentences; each sentence it writes is checked
                        against the evidence before it is shown: generation.gate)
         -> answer     ("generated" when a checked answer was shown; else "quoted": the
                        evidence sentence itself, said to be a quote)
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from core.settings import Settings
from core.types import Hit
from generation.citations import MarkerFilter, check_citations, unsupported_figures
from generation.evidence import Embed, Evidence, choose_evidence, score_candidates
from generation.gate import SentenceGate
from generation.llm import LLM, Sampling
from generation.prompt import check_question_fits, pack_prompt
from generation.question import holds_wanted, read_question, unknown_share
from generation.sentences import one_line

log = logging.getLogger(__name__)

REFUSAL = "The documents do not contain an answer to this question."

# The model saying, in its first sentence, that the passages do not hold the answer.
_SAYS_NOT_THERE = re.compile(
    r"^[^.!?\n]*\b(?:documents?|passages?|texts?|context|sources?)\b[^.!?\n]*?"
    r"\b(?:do(?:es)?\s*n[o']t|do(?:es)?\s+not|did\s+not|not)\s+(?:say|contain|mention|provide|include|specify|state|answer)"
    r"|^\s*(?:i\s+(?:do\s+not|don't)\s+know|there\s+is\s+no\s+information|no\s+information)",
    re.IGNORECASE,
)

__all__ = ["Answer", "AnswerInterrupted", "AnswerOptions", "REFUSAL", "answer", "check_citations", "relevance"]

QUOTE_INTRO = "The documents say:"


@dataclass
class Answer:
    question: str
    text: str
    passages: list[Hit] = field(default_factory=list)  # numbered 1..n in the prompt
    cited: list[int] = field(default_factory=list)  # valid passage numbers the answer cites, in order
    invalid_markers: list[str] = field(default_factory=list)  # markers pointing to no passage (dropped)
    refused: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    retrieved: list[Hit] = field(default_factory=list)  # every hit retrieval returned, in rank order
    left_out: list[Hit] = field(default_factory=list)  # relevant, but no room in the context window
    excerpts: list[str] = field(default_factory=list)  # what the model saw of each passage
    citation_method: str = ""  # "model": its own markers; "evidence": the quoted evidence's passage; "": none
    refused_by: str = ""  # "threshold": nothing relevant; "unknown_words": about words the index lacks; "evidence": no sentence answers
    unsupported: list[str] = field(default_factory=list)  # numbers in the model's text found in no passage
    interrupted: bool = False  # stopped by Ctrl-C; `text` is what came before
    prompt_tokens: int = 0
    evidence: list[Evidence] = field(default_factory=list)  # verbatim sentences the answer rests on, best first
    answer_method: str = ""  # "generated", "quoted" or "refused"
    withheld: str = ""  # why the model's words were not shown (all or the rest): "unsupported figure 12", ...
    generated: str = ""  # what the model wrote, checked or not (for --json and evaluation; never the answer itself)

    def sources(self) -> list[Hit]:
        return [self.passages[n - 1] for n in self.cited]


@dataclass(frozen=True)
class AnswerOptions:
    """What `answer` uses of the settings: when to refuse, how much to read and to write, how to sample."""

    min_score: float
    min_evidence: float
    max_unknown: float
    max_tokens: int
    excerpt_sentences: int
    sampling: Sampling

    @classmethod
    def of(cls, settings: Settings) -> "AnswerOptions":
        return cls(
            settings.min_score,
            settings.min_evidence,
            settings.max_unknown,
            settings.max_tokens,
            settings.excerpt_sentences,
            Sampling.of(settings),
        )


class AnswerInterrupted(KeyboardInterrupt):
    """Ctrl-C during generation; `answer` holds what was generated until then."""

    def __init__(self, partial: Answer):
        super().__init__("answer interrupted")
        self.answer = partial


def relevance(hit: Hit) -> float:
    return hit.relevance if hit.relevance is not None else hit.score


def says_not_in_documents(text: str) -> bool:
    return bool(_SAYS_NOT_THERE.search(text.strip()))


def to_quote(evidence: list[Evidence], question=None) -> list[Evidence]:
    """The evidence a quoted answer quotes: the best sentence; and when the question asks for a kind
    of fact (a number, a date, a name, a code) that sentence lacks, the best other evidence sentence
    holding one (the sentence naming the subject often comes just before the one giving its value)."""
    chosen = [evidence[0]]
    if question is not None and holds_wanted(question, evidence[0].quote()) is False:
        chosen += [e for e in evidence[1:] if holds_wanted(question, e.quote())][:1]
    return chosen


def quoted_answer(quoted: list[Evidence]) -> str:
    """Evidence sentences as the answer, said plainly to be quotes."""
    return f"{QUOTE_INTRO} " + " ".join(f'"{e.quote()}" [{e.n}]' for e in quoted)


def _excerpts(hits: list[Hit], ranked, sentences: int, at_least: int) -> list[str]:
    """What the model reads of each hit: its best-ranked sentences in document order (0: whole passages)."""
    if sentences <= 0:
        return [h.text for h in hits]
    chosen = ranked[: max(sentences, at_least)]
    return [
        " ".join(one_line(c.text) for c in sorted((c for c in chosen if c.n == n), key=lambda c: c.start))
        for n in range(1, len(hits) + 1)
    ]


def _refuse(question: str, hits: list[Hit], by: str, started: float, on_token, **more) -> Answer:
    if on_token:
        on_token(REFUSAL)
    return Answer(
        question,
        REFUSAL,
        refused=True,
        refused_by=by,
        answer_method="refused",
        retrieved=list(hits),
        timings={"total_s": time.perf_counter() - started},
        **more,
    )


def answer(
    question: str,
    hits: list[Hit],
    llm: LLM,
    options: AnswerOptions,
    on_token: Callable[[str], None] | None = None,
    embed: Embed | None = None,
    question_vector: np.ndarray | None = None,
    word_counts: Callable[[list[str]], dict[str, int]] | None = None,
) -> Answer:
    """Answer `question` from `hits`; `on_token` receives the answer as it is shown.

    `embed` (texts -> unit vectors, the index's embedder) ranks evidence sentences by meaning;
    without it they are ranked by words alone. `word_counts` (words -> chunks holding each, the
    index's catalog) tells which of the question's words the documents never use. Refuses without
    calling the model when no hit reaches `options.min_score`, when `options.max_unknown` of the
    question's words are unknown to the index, or when no sentence scores `options.min_evidence`.
    Raises `AnswerInterrupted` (a KeyboardInterrupt) on Ctrl-C, carrying the partial answer.
    """
    started = time.perf_counter()
    check_question_fits(question, llm, options.max_tokens)  # too long is an error, whatever else is decided
    relevant = [h for h in hits if relevance(h) >= options.min_score]
    if not relevant:
        return _refuse(question, hits, "threshold", started, on_token)
    if word_counts is not None and unknown_share(question, word_counts) >= options.max_unknown:
        return _refuse(question, hits, "unknown_words", started, on_token)
    asked = read_question(question)
    ranked = score_candidates(asked, relevant, embed, question_vector)
    evidence = choose_evidence(ranked, relevant)
    if not evidence or evidence[0].score < options.min_evidence:
        return _refuse(question, hits, "evidence", started, on_token, evidence=[])
    excerpts = _excerpts(relevant, ranked, options.excerpt_sentences, len(evidence))
    packed = pack_prompt(question, relevant, llm, options.max_tokens, excerpts=excerpts)
    if packed.left_out:
        log.info("%d relevant passage(s) did not fit the context window and were left out", len(packed.left_out))
    number = {h.chunk.id: n for n, h in enumerate(packed.passages, start=1)}
    evidence = [
        Evidence(number[relevant[e.n - 1].chunk.id], e.start, e.end, e.text, e.source, e.location, e.score)
        for e in evidence
        if relevant[e.n - 1].chunk.id in number
    ]
    result = Answer(
        question,
        "",
        packed.passages,
        retrieved=list(hits),
        left_out=packed.left_out,
        excerpts=packed.excerpts,
        prompt_tokens=packed.prompt_tokens,
        evidence=evidence,
    )
    if not evidence:  # every evidence passage was left out for room: nothing to ground an answer on
        return _refuse(question, hits, "evidence", started, on_token, left_out=packed.left_out)

    markers = MarkerFilter(len(packed.passages))
    gate = SentenceGate(" ".join(e.text for e in evidence), asked, emit=on_token)
    raw: list[str] = []
    first_token_at = None
    stream = llm.stream_chat(
        packed.messages, options.max_tokens, options.sampling.temperature, options.sampling.repeat_penalty
    )
    try:
        for piece in stream:
            if first_token_at is None:
                first_token_at = time.perf_counter()
            raw.append(piece)
            if not gate.feed(markers.feed(piece)):
                break
        else:
            gate.feed(markers.flush())
        gate.finish()
    except KeyboardInterrupt:
        result.interrupted = True
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()
    result.generated = "".join(raw).strip()
    result.invalid_markers = list(markers.dropped)
    result.unsupported = unsupported_figures(result.generated, packed.excerpts, question)
    if gate.shown:
        result.text, result.answer_method = gate.text(), "generated"
        result.withheld = gate.reason
        cited = [n for n in markers.cited if n <= len(packed.passages)]
        result.cited = cited or [evidence[0].n]
        result.citation_method = "model" if cited else "evidence"
    elif not result.interrupted:
        result.withheld = gate.reason
        if says_not_in_documents(result.generated):
            result.withheld = "the model said the documents do not answer"
        quoted = to_quote(evidence, asked)
        result.text, result.answer_method = quoted_answer(quoted), "quoted"
        result.cited, result.citation_method = list(dict.fromkeys(e.n for e in quoted)), "evidence"
        if on_token:
            on_token(result.text)
    finished = time.perf_counter()
    result.timings = {"total_s": finished - started}
    if first_token_at is not None:
        result.timings["first_token_s"] = first_token_at - started
    if result.interrupted:
        result.answer_method = "generated" if gate.shown else ""
        raise AnswerInterrupted(result)
    return result
