"""The model back-ends behind generation/llm.py's `LLM` interface, and `load_llm`, which picks one.

- local_gguf.py: llama-cpp-python on a local GGUF file (bundled.py finds the one we ship;
  llama_native.py loads the portable build's CPU variants; threads.py picks the thread count);
- openai_llm.py: an OpenAI-compatible chat server (--llm-url).
"""

from __future__ import annotations

from core.settings import Settings
from generation.backends.local_gguf import LlamaCppLLM, llm_path
from generation.backends.openai_llm import load_server_llm
from generation.llm import LLM


def load_llm(settings: Settings) -> LLM:
    """The LLM the settings name: the server at --llm-url, else the local GGUF (loaded on first use)."""
    if settings.llm_url:
        return load_server_llm(settings)
    return LlamaCppLLM(
        llm_path(settings),
        n_ctx=settings.n_ctx,
        threads=settings.threads,
        n_gpu_layers=settings.n_gpu_layers,
        bundled=not settings.model,
    )
