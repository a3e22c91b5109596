"""An answer built around its evidence: sentences copied from the passages, then words the
model may add only where one evidence sentence holds what they state.

The steps, each a function of its own module:

    1. read the question once   generation.question.read_question: kind, terms, rarity, subject
    2. gather                   generation.decision.relevant_hits: passages reaching --min-score
    3. select the evidence      generation.selection (a learned ranker), generation.evidence
    4. decide                   generation.decision: refuse (threshold, unknown_words, subject,
                                evidence), quote, or generate (--answer-style)
    5. check each claim         generation.gate and generation.grounding: a generated sentence is
                                shown only when one evidence sentence holds its figures and names
    6. build the answer         `Answer`, rendered by generation.record for every front end
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
from generation.decision import (
    REFUSAL,
    answer_style,
    closest,
    missing_subject,
    relevance,
    relevant_hits,
    subject_refusal,
)
from generation.evidence import Candidate, Embed, Evidence, choose_evidence, score_candidates
from generation.gate import SentenceGate
from generation.llm import LLM, Sampling
from generation.prompt import check_question_fits, pack_prompt
from generation.question import read_question, unknown_share
from generation.sentences import one_line

log = logging.getLogger(__name__)

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
    closest: list[Hit] = field(default_factory=list)  # a refusal's pointer: the nearest passages found

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
    answer_style: str = "auto"  # auto: quote with the bundled model, generate with any other

    @classmethod
    def of(cls, settings: Settings) -> "AnswerOptions":
        return cls(
            settings.min_score,
            settings.min_evidence,
            settings.max_unknown,
            settings.max_tokens,
            settings.excerpt_sentences,
            Sampling.of(settings),
            getattr(settings, "answer_style", "auto"),
        )


class AnswerInterrupted(KeyboardInterrupt):
    """Ctrl-C during generation; `answer` holds what was generated until then."""

    def __init__(self, partial: Answer):
        super().__init__("answer interrupted")
        self.answer = partial


def says_not_in_documents(text: str) -> bool:
    return bool(_SAYS_NOT_THERE.search(text.strip()))


def to_quote(evidence: list[Evidence], question=None) -> list[Evidence]:
    """The evidence a quoted answer quotes: every evidence sentence (at most three, best first).

    Measured on the dev sets with cross-collection validation (docs/answers.md): the best sentence
    alone held the fact for 49% of answerable questions, the best three for 65%, and quoting three
    also showed fewer answers without the fact (35% against 51%). They keep the evidence's order,
    so that their numbers read [1], [2], [3] as shown."""
    return list(evidence)


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


def _evidence_first(relevant: list[Hit], evidence: list[Evidence], ranked: list[Candidate]):
    """Passages renumbered so that those holding evidence come first, in the order the evidence is
    shown ([1], [2], ... as a reader sees them); the others keep their rank order after them."""
    order = list(dict.fromkeys([e.n for e in evidence] + list(range(1, len(relevant) + 1))))
    new = {old: i for i, old in enumerate(order, start=1)}
    hits = [relevant[old - 1] for old in order]
    evidence = [Evidence(new[e.n], e.start, e.end, e.text, e.source, e.location, e.score) for e in evidence]
    ranked = [Candidate(new[c.n], c.start, c.end, c.text, c.signals, c.score) for c in ranked]
    return hits, evidence, ranked


@dataclass
class _Run:
    """What the steps of one answer share: the question, the hits, and when things happened."""

    question: str
    hits: list[Hit]
    on_token: Callable[[str], None] | None
    started: float
    first_text_at: float | None = None

    def show(self, text: str) -> None:
        if self.first_text_at is None:
            self.first_text_at = time.perf_counter()
        if self.on_token:
            self.on_token(text)

    def timings(self, **more: float) -> dict[str, float]:
        out = {"total_s": time.perf_counter() - self.started, **more}
        if self.first_text_at is not None:
            out["first_text_s"] = self.first_text_at - self.started
        return out


def _refuse(run: _Run, by: str, message: str = REFUSAL, pointer: list[Hit] | None = None, **more) -> Answer:
    run.show(message)
    return Answer(
        run.question,
        message,
        refused=True,
        refused_by=by,
        answer_method="refused",
        retrieved=list(run.hits),
        closest=list(pointer or []),
        timings=run.timings(),
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
    index_chunks: int = 0,
    mentions: Callable[[str, list[str]], bool] | None = None,
) -> Answer:
    """Answer `question` from `hits`; `on_token` receives the answer as it is shown.

    The steps: read the question once (its kind, terms, subject), gather the relevant passages,
    select the evidence, decide (refuse, quote or generate), check each generated claim against
    one evidence sentence, build the answer.

    `embed` (texts -> unit vectors, the index's embedder) ranks evidence sentences by meaning;
    without it they are ranked by words alone. `word_counts` (words -> chunks holding each, the
    index's catalog) tells which of the question's words the documents never use, and with
    `index_chunks` (the index's size) how rare each is; `mentions(source, words)`, whether a
    document names one of `words` anywhere (the index's lexical search). Refuses without calling the model when no
    hit reaches `options.min_score`, when `options.max_unknown` of the question's words are
    unknown to the index, when the question's subject is in none of the documents or of those the
    evidence comes from, or when no sentence scores `options.min_evidence`. Raises `AnswerInterrupted` (a
    KeyboardInterrupt) on Ctrl-C, carrying the partial answer.
    """
    run = _Run(question, list(hits), on_token, time.perf_counter())
    style = answer_style(options.answer_style, bool(getattr(llm, "bundled", False)))
    check_question_fits(question, llm, options.max_tokens)  # too long is an error, whatever else is decided
    asked = read_question(question, word_counts, index_chunks)  # 1. read the question once
    relevant = relevant_hits(hits, options.min_score)  # 2. gather
    pointer = closest(hits, options.min_score)
    if not relevant:
        return _refuse(run, "threshold")
    if word_counts is not None and unknown_share(question, word_counts) >= options.max_unknown:
        return _refuse(run, "unknown_words", pointer=pointer)
    ranked = score_candidates(asked, relevant, embed, question_vector)  # 3. select the evidence
    evidence = choose_evidence(ranked, relevant)
    shown_from = list({e.n: relevant[e.n - 1] for e in evidence}.values()) or relevant
    word, absent = missing_subject(asked, shown_from, index_chunks, word_counts, mentions)  # 4. decide
    if word:
        return _refuse(run, "subject", subject_refusal(word, absent), pointer=pointer)
    if not evidence or evidence[0].score < options.min_evidence:
        return _refuse(run, "evidence", pointer=pointer, evidence=[])
    relevant, evidence, ranked = _evidence_first(relevant, evidence, ranked)
    if style == "quote":
        return _quote(run, asked, relevant, evidence)
    return _generate(run, asked, relevant, evidence, ranked, llm, options)


def _quote(run: _Run, asked, relevant: list[Hit], evidence: list[Evidence]) -> Answer:
    """The evidence itself as the answer, without the model (--answer-style quote)."""
    quoted = to_quote(evidence, asked)
    text = quoted_answer(quoted)
    run.show(text)
    return Answer(
        run.question,
        text,
        relevant,
        cited=list(dict.fromkeys(e.n for e in quoted)),
        retrieved=list(run.hits),
        citation_method="evidence",
        evidence=evidence,
        answer_method="quoted",
        withheld="",
        timings=run.timings(),
    )


def _generate(run: _Run, asked, relevant, evidence, ranked, llm: LLM, options: AnswerOptions) -> Answer:
    """The model writes; 5. each sentence it writes is shown only once one evidence sentence supports it."""
    excerpts = _excerpts(relevant, ranked, options.excerpt_sentences, len(evidence))
    packed = pack_prompt(run.question, relevant, llm, options.max_tokens, excerpts=excerpts)
    if packed.left_out:
        log.info("%d relevant passage(s) did not fit the context window and were left out", len(packed.left_out))
    number = {h.chunk.id: n for n, h in enumerate(packed.passages, start=1)}
    evidence = [
        Evidence(number[relevant[e.n - 1].chunk.id], e.start, e.end, e.text, e.source, e.location, e.score)
        for e in evidence
        if relevant[e.n - 1].chunk.id in number
    ]
    result = Answer(
        run.question,
        "",
        packed.passages,
        retrieved=list(run.hits),
        left_out=packed.left_out,
        excerpts=packed.excerpts,
        prompt_tokens=packed.prompt_tokens,
        evidence=evidence,
    )
    if not evidence:  # every evidence passage was left out for room: nothing to ground an answer on
        return _refuse(run, "evidence", left_out=packed.left_out)

    markers = MarkerFilter(len(packed.passages))
    gate = SentenceGate([e.text for e in evidence], asked, emit=run.show)
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
    result.unsupported = unsupported_figures(result.generated, packed.excerpts, run.question)
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
        run.show(result.text)
    result.timings = run.timings()  # 6. the answer
    if first_token_at is not None:
        result.timings["first_token_s"] = first_token_at - run.started
    if result.interrupted:
        result.answer_method = "generated" if gate.shown else ""
        raise AnswerInterrupted(result)
    return result
