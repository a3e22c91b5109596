"""The LLM behind a small interface; llama-cpp-python on a local GGUF file is the one we ship.

An OpenAI-compatible server on the local network (llama.cpp's own server, say) is another
implementation of the same three members, chosen by a setting.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Protocol

from core.errors import ModelLoadError
from core.settings import Settings
from generation.bundled import bundled_llm_path

log = logging.getLogger(__name__)

Message = dict[str, str]


class LLM(Protocol):
    n_ctx: int

    def count_tokens(self, messages: list[Message]) -> int:
        """Tokens the prompt made of `messages` takes, chat template included."""

    def stream_chat(self, messages: list[Message], max_tokens: int, temperature: float, repeat_penalty: float) -> Iterator[str]:
        """The reply, piece by piece as it is generated."""


def gpu_offload_supported() -> bool:
    import llama_cpp  # noqa: PLC0415

    return bool(llama_cpp.llama_supports_gpu_offload())


@dataclass
class LlamaCppLLM:
    model_path: Path
    n_ctx: int = 2048
    threads: int = 0
    n_gpu_layers: int = -1
    _llama: object = field(default=None, init=False, repr=False)
    _formatter: object = field(default=None, init=False, repr=False)

    def _load(self):
        if self._llama is not None:
            return self._llama
        path = Path(self.model_path)
        if not path.is_file():
            raise ModelLoadError(f"Model file {path} does not exist. Pass --model PATH to a GGUF file.")
        with open(path, "rb") as handle:
            if handle.read(4) != b"GGUF":
                raise ModelLoadError(f"{path} is not a GGUF model file. Pass --model PATH to a .gguf file (llama.cpp format).")
        from llama_cpp import Llama  # noqa: PLC0415

        layers = self.n_gpu_layers if gpu_offload_supported() else 0
        try:
            self._llama = Llama(
                model_path=str(path),
                n_ctx=self.n_ctx,
                n_threads=self.threads or os.cpu_count() or 1,
                n_gpu_layers=layers,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError, MemoryError) as exc:
            raise ModelLoadError(
                f"Could not load {path}: {exc}. The file may be damaged, or too large for this machine's memory: "
                "try a smaller quantization or a smaller --n-ctx."
            ) from exc
        log.info("LLM %s loaded (n_ctx=%d, gpu layers=%d)", path.name, self.n_ctx, layers)
        return self._llama

    def _chat_formatter(self):
        if self._formatter is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter  # noqa: PLC0415

            llama = self._load()
            template = llama.metadata.get("tokenizer.chat_template")
            if template:
                vocab = llama._model
                eos = vocab.token_get_text(llama.token_eos()) if llama.token_eos() >= 0 else ""
                bos = vocab.token_get_text(llama.token_bos()) if llama.token_bos() >= 0 else ""
                self._formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)
            else:
                self._formatter = False
        return self._formatter

    def count_tokens(self, messages: list[Message]) -> int:
        llama = self._load()
        formatter = self._chat_formatter()
        if formatter:
            prompt = formatter(messages=messages).prompt
            return len(llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))
        # No template in the file: llama-cpp-python falls back to a generic format; allow for its scaffolding.
        return sum(len(llama.tokenize(m["content"].encode("utf-8"), add_bos=False)) + 8 for m in messages) + 8

    def stream_chat(self, messages: list[Message], max_tokens: int, temperature: float, repeat_penalty: float) -> Iterator[str]:
        llama = self._load()
        stream = llama.create_chat_completion(
            messages=messages,
            max_tokens=max_tokens,
            temperature=temperature,
            repeat_penalty=repeat_penalty,
            stream=True,
        )
        for part in stream:
            piece = part["choices"][0]["delta"].get("content")
            if piece:
                yield piece


def llm_path(settings: Settings) -> Path:
    return Path(settings.model).expanduser() if settings.model else bundled_llm_path()


def load_llm(settings: Settings) -> LlamaCppLLM:
    """The LLM the settings name; the file loads on first use."""
    return LlamaCppLLM(llm_path(settings), n_ctx=settings.n_ctx, threads=settings.threads, n_gpu_layers=settings.n_gpu_layers)
