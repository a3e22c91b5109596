"""Streams a generated answer a sentence at a time, each shown only once it is checked.

Text from the model goes in as it is generated; a sentence comes out (to `emit`) only when
`grounding.check_sentence` finds one evidence sentence that holds what it states, and the first one only when the answer so far also says
something (`grounding.check_answer`). The first sentence that fails stops the answer: `feed`
returns False, so the caller stops generating, and `reason` says why. Nothing unchecked is ever
shown; what was shown before a failure stays the answer.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

from generation.grounding import check_answer, check_sentence
from generation.question import Question

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


class SentenceGate:
    def __init__(self, evidence: Sequence[str] | str, question: Question, emit: Callable[[str], None] | None = None):
        self.evidence = [evidence] if isinstance(evidence, str) else list(evidence)  # the evidence sentences
        self.question = question
        self.emit = emit or (lambda text: None)
        self.shown: list[str] = []  # sentences the user has seen
        self.reason = ""  # why the rest of the answer was withheld ("" when nothing was)
        self._held: list[str] = []  # checked sentences waiting for the answer to say something
        self._buffer = ""

    @property
    def failed(self) -> bool:
        return bool(self.reason)

    def text(self) -> str:
        return "".join(self.shown).strip()

    def feed(self, piece: str) -> bool:
        """Take generated text; False once a sentence failed (stop generating)."""
        if self.failed:
            return False
        self._buffer += piece
        while True:
            match = _SENTENCE_END.search(self._buffer)
            if not match:
                return True
            sentence, self._buffer = self._buffer[: match.end()], self._buffer[match.end() :]
            if not self._take(sentence):
                return False

    def finish(self) -> bool:
        """The end of generation: the last sentence is checked; True when an answer was shown."""
        if not self.failed and self._buffer.strip():
            self._take(self._buffer)
        self._buffer = ""
        if not self.shown and not self.failed:
            verdict = check_answer("".join(self._held), self.evidence, self.question)
            self.reason = verdict.reason or "empty"
        return bool(self.shown)

    def _take(self, sentence: str) -> bool:
        verdict = check_sentence(sentence, self.evidence, self.question)
        if not verdict.ok:
            self.reason = verdict.reason
            return False
        if self.shown:
            self._show(sentence)
            return True
        self._held.append(sentence)
        held = "".join(self._held)
        if check_answer(held, self.evidence, self.question).ok:
            self._held = []
            self._show(held.lstrip())
        return True

    def _show(self, text: str) -> None:
        self.shown.append(text)
        self.emit(text)
