"""Follow-up questions: "and what about the second one?" rewritten into a question that stands alone.

Retrieval sees one question at a time, so a follow-up that leans on the conversation
("how much notice does it need?") must carry what it refers to before it is searched.
`rewrite_followup` asks the LLM to rewrite it from the recent conversation, and checks the
result: a small model (the bundled SmolLM2-135M) often answers instead of rewriting, drops
the question's own words or invents new ones. A rewrite that looks wrong is replaced by the
question plus the key terms of the previous question, which is crude but never misleads.

The conversation given to the LLM is bounded in tokens (`History.window`): the newest turns
that fit, each answer shortened, so the prompt never overflows the context window however
long the chat.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from dataclasses import dataclass, field

from core.stopwords import CONVERSATION_WORDS, STOPWORDS
from core.words import words as unicode_words
from generation.llm import LLM, Message, Sampling

log = logging.getLogger(__name__)

REWRITE_MAX_TOKENS = 48  # a question, not an essay
ANSWER_CHARS_IN_HISTORY = 300  # enough to say what "it" was; answers can be long
MAX_TURNS_KEPT = 20  # turns remembered at all; the token window is usually smaller
PREVIOUS_TERMS = 8  # key terms carried over by the fallback

REWRITE_SYSTEM = (
    "You rewrite the user's last question so that it can be understood without the conversation. "
    "Replace words like it, they, that, this one or the second one with what they refer to. "
    "Keep every other word of the question. Do not answer it. Reply with the rewritten question only."
)

_STOPWORDS = STOPWORDS | CONVERSATION_WORDS
_ANAPHORA = frozenset(
    "it its it's they them their this that these those there he she him her his hers one ones former latter "
    "same other another second first third last above previous".split()
)
_OPENERS = ("and ", "or ", "but ", "also ", "so ", "then ", "what about", "how about", "and,", "why?", "why not")


def words(text: str) -> list[str]:
    return unicode_words(text, numbers=True)


def key_terms(text: str) -> list[str]:
    """Content words of `text` in order, without repeats: what a search for it must keep."""
    seen: list[str] = []
    for word in words(text):
        if word in _STOPWORDS or (len(word) < 3 and not any(c.isdigit() for c in word)):
            continue
        if word not in seen:
            seen.append(word)
    return seen


def looks_like_followup(question: str) -> bool:
    """Does the question lean on the conversation (a pronoun, "and ...", "what about ...", very few words)?"""
    lowered = question.strip().lower()
    if lowered.startswith(_OPENERS):
        return True
    if _ANAPHORA.intersection(words(lowered)):
        return True
    return len(key_terms(question)) <= 1


@dataclass(frozen=True)
class Turn:
    question: str  # as the user typed it
    standalone: str  # what was searched and answered
    answer: str


@dataclass
class History:
    """The recent conversation, oldest first; only the newest MAX_TURNS_KEPT are remembered."""

    turns: deque[Turn] = field(default_factory=lambda: deque(maxlen=MAX_TURNS_KEPT))

    def add(self, question: str, standalone: str, answer: str) -> None:
        self.turns.append(Turn(question, standalone, answer))

    def clear(self) -> None:
        self.turns.clear()

    def __len__(self) -> int:
        return len(self.turns)

    def window(self, llm: LLM, question: str, budget: int) -> tuple[list[Message], int]:
        """The rewrite prompt with the newest turns that keep it within `budget` tokens; and how many turns."""
        chosen: list[Turn] = []
        messages = rewrite_messages([], question)
        if llm.count_tokens(messages) > budget:
            return messages, 0
        for turn in reversed(self.turns):
            trial = rewrite_messages([turn, *chosen], question)
            if llm.count_tokens(trial) > budget:
                break
            chosen.insert(0, turn)
            messages = trial
        return messages, len(chosen)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rsplit(" ", 1)[0] + "..."


def rewrite_messages(turns: list[Turn], question: str) -> list[Message]:
    lines = []
    for turn in turns:
        lines.append(f"User: {turn.standalone}")
        lines.append(f"Assistant: {_shorten(turn.answer, ANSWER_CHARS_IN_HISTORY)}")
    conversation = "\n".join(lines) if lines else "(none)"
    user = f"Conversation:\n{conversation}\n\nLast question: {question}\n\nRewritten question:"
    return [{"role": "system", "content": REWRITE_SYSTEM}, {"role": "user", "content": user}]


@dataclass(frozen=True)
class Rewrite:
    question: str  # as typed
    standalone: str  # what to search and answer
    method: str  # "as-is" (not a follow-up), "llm" (rewrite accepted), "fallback" (question + earlier terms)
    llm_output: str = ""  # the model's rewrite, kept even when rejected (for logs and measurement)
    turns_used: int = 0


def clean_rewrite(raw: str) -> str:
    """The first line of the model's reply, without labels or quotes it likes to add."""
    text = raw.strip()
    text = re.sub(r"^(rewritten question|standalone question|question)\s*:\s*", "", text, flags=re.I)
    text = text.splitlines()[0].strip() if text else ""
    return text.strip(" \"'`*")


def judge_rewrite(rewrite: str, question: str, history_text: str) -> str:
    """Why `rewrite` is not a usable standalone version of `question` ('' when it is)."""
    if not rewrite:
        return "empty"
    own = set(key_terms(question))
    new = set(key_terms(rewrite))
    if len(words(rewrite)) > max(30, 3 * len(words(question)) + 15):
        return "too long"
    if own and len(own & new) < max(1, (len(own) + 1) // 2):
        return "dropped the question's own words"
    known = own | set(key_terms(history_text))
    added = new - own
    if not added & known:
        return "resolved nothing from the conversation"
    invented = added - known
    if len(invented) > max(2, len(added) // 2):
        return "invented words found neither in the question nor the conversation"
    return ""


def fallback_standalone(question: str, history: History) -> str:
    """The question with the previous question's key terms that it lacks: crude, but keeps the topic."""
    if not history.turns:
        return question
    own = set(key_terms(question))
    carried = [t for t in key_terms(history.turns[-1].standalone) if t not in own][:PREVIOUS_TERMS]
    return f"{question} ({' '.join(carried)})" if carried else question


def rewrite_followup(question: str, history: History, llm: LLM, history_tokens: int, sampling: Sampling) -> Rewrite:
    """`question` made standalone from `history`, using at most `history_tokens` tokens of prompt."""
    question = question.strip()
    if not history.turns or not looks_like_followup(question):
        return Rewrite(question, question, "as-is")
    budget = min(history_tokens, llm.n_ctx - REWRITE_MAX_TOKENS)
    messages, used = history.window(llm, question, budget)
    if used == 0:
        return Rewrite(question, fallback_standalone(question, history), "fallback")
    raw = "".join(llm.stream_chat(messages, REWRITE_MAX_TOKENS, sampling.temperature, sampling.repeat_penalty))
    candidate = clean_rewrite(raw)
    history_text = " ".join(f"{t.standalone} {t.answer}" for t in list(history.turns)[-used:])
    problem = judge_rewrite(candidate, question, history_text)
    if problem:
        log.info("follow-up rewrite rejected (%s): %r", problem, candidate)
        return Rewrite(question, fallback_standalone(question, history), "fallback", candidate, used)
    log.info("follow-up rewritten: %r -> %r", question, candidate)
    return Rewrite(question, candidate, "llm", candidate, used)
