"""The LLM behind a small interface: `n_ctx`, `count_tokens(messages)`, `stream_chat(...)`.

The back-ends that implement it live in generation/backends/: llama-cpp-python on a local GGUF
file (the one we ship) and an OpenAI-compatible server on the local network; `load_llm` there
picks the one the settings name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol

from core.settings import Settings

Message = dict[str, str]


@dataclass(frozen=True)
class Sampling:
    """How the model picks its tokens: the user's --temperature and --repeat-penalty, for every call."""

    temperature: float
    repeat_penalty: float

    @classmethod
    def of(cls, settings: Settings) -> "Sampling":
        return cls(settings.temperature, settings.repeat_penalty)


class LLM(Protocol):
    n_ctx: int

    def count_tokens(self, messages: list[Message]) -> int:
        """Tokens the prompt made of `messages` takes, chat template included."""

    def stream_chat(
        self, messages: list[Message], max_tokens: int, temperature: float, repeat_penalty: float
    ) -> Iterator[str]:
        """The reply, piece by piece as it is generated."""
