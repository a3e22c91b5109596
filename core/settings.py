"""The one home of configuration.

Each setting is declared once in SETTINGS: its default, its type and its help.
A value comes from, in order of precedence: a CLI option, the environment variable
LOCALGPT_<NAME> (upper case), the default here. `load_settings` is called once at
the edge (the CLI, a benchmark, a test) and the resulting `Settings` is passed down.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

ENV_PREFIX = "LOCALGPT_"


@dataclass(frozen=True)
class Settings:
    # Where things live
    db: Path = Path("db")
    source_dir: Path = Path("source_documents")
    # Embedding
    embedding_model: str = ""
    embedding_backend: str = "auto"
    embedding_precision: str = "auto"
    device: str = "auto"
    embed_batch_size: int = 0
    onnx_cache: str = ""
    chunk_tokens: int = 200
    chunk_overlap: int = 32
    # Ingestion
    max_file_mb: float = 200.0
    workers: int = 0
    follow_external_links: bool = False
    ocr: str = "auto"
    ocr_language: str = "eng"
    ocr_max_megapixels: float = 100.0
    # Retrieval
    k: int = 6
    search_mode: str = "hybrid"
    fusion: str = "convex"
    bm25_weight: float = 0.5
    passage_chars: int = 2000
    mmr: bool = False
    reranker: str = ""
    min_score: float = 0.15
    min_evidence: float = 0.2
    max_unknown: float = 0.34
    # Generation
    model: str = ""
    n_ctx: int = 2048
    max_tokens: int = 384
    temperature: float = 0.0
    repeat_penalty: float = 1.1
    excerpt_sentences: int = 3
    answer_style: str = "auto"
    threads: int = 0
    n_gpu_layers: int = -1
    # Chat
    history_tokens: int = 512
    # Server (localgpt serve)
    host: str = "127.0.0.1"
    port: int = 8000
    token: str = ""
    # Servers (docs/scale.md): vectors in Chroma's server, the LLM behind an OpenAI-compatible endpoint
    chroma_url: str = ""
    llm_url: str = ""
    llm_model: str = ""
    llm_api_key_file: str = ""

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


# name -> help. What a default means is said here, because the bare value often says little.
HELP: dict[str, str] = {
    "db": "Folder of the index (created on first ingest, private to you: mode 0700).",
    "source_dir": "Folder of documents to ingest, searched recursively.",
    "embedding_model": "Path of a local sentence-transformers model folder. Empty: the bundled all-MiniLM-L6-v2.",
    "embedding_backend": "auto, openvino, onnx or torch. auto: OpenVINO on CPU (bfloat16 where the CPU has it "
    "natively, vectors within 1e-4 cosine of torch's), else ONNX Runtime (exact float32); torch on a GPU.",
    "embedding_precision": "auto, float32 or int8. int8: the model with 8-bit weights on ONNX Runtime, about 2x "
    "faster than float32 on a CPU without bfloat16, a little less exact (docs/ingest.md). An index keeps the precision that built it; auto: the "
    "index's; for a new one int8 on a CPU without native bfloat16 (the same recall on our real dev set), float32 elsewhere.",
    "device": "auto, cpu, cuda or mps for embeddings. auto: CUDA or MPS when present, else CPU.",
    "embed_batch_size": "Chunks embedded per batch. 0: 8 with OpenVINO or ONNX Runtime on CPU (measured fastest there: "
    "less padding), 32 with torch.",
    "onnx_cache": "Folder caching the ONNX export of the embedding model (made once). Empty: ~/.cache/localgpt/onnx.",
    "chunk_tokens": "Most tokens in one chunk (never more than the embedding model reads).",
    "chunk_overlap": "Tokens shared between neighbouring chunks.",
    "max_file_mb": "Files larger than this many MB are not read (listed as failed, with the reason); raise it to ingest them.",
    "workers": "Processes that parse documents while the main one embeds. 0: one per CPU core but one (at least one).",
    "follow_external_links": "Read files that symbolic links in the folder point to outside it. Off: such links are "
    "skipped (listed in the summary), so a stray link cannot put a private file into the index.",
    "ocr": "auto, off or force: OCR (Tesseract, bundled) of scanned pages and images. auto: PDF pages with no usable "
    "text layer, and image files (PNG, JPEG, TIFF, WebP); force: every PDF page, its text layer ignored; off: neither "
    "(scanned pages are left out, images skipped).",
    "ocr_language": "Language of the scanned text: eng or deu (the models bundled), or both as eng+deu (slower).",
    "ocr_max_megapixels": "Images larger than this many megapixels are refused (a guard against decompression bombs); "
    "100 holds an A3 page scanned at 600 dpi. PDF pages are rendered smaller instead.",
    "k": "Passages retrieved for a question.",
    "search_mode": "dense (embeddings), bm25 (exact words, codes, numbers) or hybrid (both, fused by reciprocal rank).",
    "fusion": "How hybrid search fuses the dense and BM25 lists: convex (weighted sum of each list's scores "
    "rescaled to 0..1) or rrf (weighted reciprocal rank fusion, k=60). docs/retrieval.md compares them.",
    "bm25_weight": "BM25's share in hybrid fusion, 0..1; dense gets the rest. 0.5: equal shares.",
    "passage_chars": "Most characters of the passage shown for each hit: the matched chunk widened with its "
    "neighbours in the same file (small-to-big). 0: the chunk alone.",
    "mmr": "Diversify retrieved passages with maximal marginal relevance.",
    "reranker": "Path of a local cross-encoder model folder to rerank passages. Empty: no reranking.",
    "min_score": "Passages whose relevance (cosine similarity to the question) is below this are not used; when none "
    "reaches it the answer is a refusal and the LLM is not asked. 0.15 was calibrated for the bundled embedding model "
    "on a mixed collection of real documents (docs/answers.md); 0 never refuses on relevance (see --min-evidence).",
    "min_evidence": "The best evidence sentence must score at least this (0-1: the evidence-selection model's "
    "probability that it holds the answer); below it the answer is a refusal. Chosen on nine real collections with "
    "cross-collection checks (docs/answers.md); 0 never refuses on evidence.",
    "max_unknown": "Refuse when at least this share of the question's content words appears nowhere in the index "
    "(a question about something the documents never mention); used on indexes of 500 chunks or more, where a common "
    "word's absence means something. 1 never refuses on it.",
    "model": "Path of a GGUF model file. Empty: the bundled SmolLM2-135M-Instruct.",
    "n_ctx": "Context window of the LLM in tokens.",
    "max_tokens": "Most tokens in an answer.",
    "temperature": "Sampling temperature. 0: always the most likely token, so the same question gets the same answer.",
    "repeat_penalty": "Penalty on repeated tokens (1: none); keeps small models from looping.",
    "answer_style": "auto: quote the evidence with the bundled model (its own words hold the fact less often than "
    "the quote), generate with any other --model or --llm-url; quote: always quote the evidence, without the model; "
    "generate: let the model write, each claim checked against one evidence sentence.",
    "excerpt_sentences": "Sentences of the retrieved passages the LLM reads: those sharing most words with the question, "
    "kept with their passage's number. 0: whole passages (better for a large model with a large --n-ctx).",
    "threads": "CPU threads for the LLM. 0: one per CPU core that is free when the model loads (a core another "
    "process keeps busy would hold every token back; docs/answers.md).",
    "n_gpu_layers": "Layers offloaded to the GPU when llama.cpp was built with GPU support. -1: all.",
    "history_tokens": "Most tokens of earlier conversation used to understand a follow-up question in chat; "
    "the oldest turns drop out first (never more than the context window holds).",
    "host": "Address `serve` listens on. 127.0.0.1: only this machine; any other address (0.0.0.0: every "
    "interface) requires a token.",
    "port": "Port `serve` listens on.",
    "token": "Token every request to `serve` must carry (Authorization: Bearer TOKEN, or the /login page's cookie), "
    "at least 16 characters. Empty: none on 127.0.0.1; on any other address one is generated and printed once.",
    "chroma_url": "Keep the vectors in a Chroma server (`chroma run`), e.g. http://10.0.0.5:8001, instead of in --db. "
    "The catalog (text, full-text index, journal) stays in --db. An index records where its vectors live and refuses "
    "to be opened the other way. Empty: in --db (docs/scale.md).",
    "llm_url": "Generate with an OpenAI-compatible chat server (llama.cpp's llama-server, vLLM, Ollama, LM Studio), "
    "e.g. http://10.0.0.6:8080/v1, instead of loading --model here. The context window is read from the server "
    "where it says (llama.cpp's /props, vLLM's max_model_len), else --n-ctx. Empty: the local GGUF.",
    "llm_model": "Model name sent to --llm-url (vLLM and Ollama need it). Empty: the first model the server lists.",
    "llm_api_key_file": "File holding the API key for --llm-url (or set LOCALGPT_LLM_API_KEY). The key is sent "
    "to that server only and never logged. Empty: no key.",
}

# Command-line names for settings whose option is not --setting-name.
_OPTION_FLAGS = {"k": ("-k", "--k"), "search_mode": ("--mode", "--search-mode")}


def option_flags(name: str) -> tuple[str, ...]:
    """The command-line option(s) of a setting: --setting-name, or those named above."""
    return _OPTION_FLAGS.get(name, (f"--{name.replace('_', '-')}",))


# Settings for which 0 or less means nothing: refused with the reason, not silently accepted.
AT_LEAST_ONE = ("k",)
# Settings that take one of a few words.
CHOICES = {"answer_style": ("auto", "quote", "generate")}

FIELDS: dict[str, dataclasses.Field] = {f.name: f for f in dataclasses.fields(Settings)}


def env_var(name: str) -> str:
    return ENV_PREFIX + name.upper()


def _convert(name: str, raw: str) -> Any:
    kind = type(FIELDS[name].default)
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ValueError(f"{env_var(name)}={raw!r} is not a yes/no value (use 1 or 0)")
    try:
        return kind(raw) if kind is not type(Path()) else Path(raw).expanduser()
    except ValueError:
        raise ValueError(f"{env_var(name)}={raw!r} is not a valid {kind.__name__}") from None


def load_settings(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then LOCALGPT_* variables, then `overrides` (None values are ignored)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name in FIELDS:
        raw = environ.get(env_var(name))
        if raw is not None and raw != "":
            values[name] = _convert(name, raw)
    for name, value in (overrides or {}).items():
        if value is None:
            continue
        if name not in FIELDS:
            raise KeyError(f"unknown setting {name!r}")
        values[name] = Path(value).expanduser() if isinstance(FIELDS[name].default, Path) else value
    settings = Settings(**values)
    for name, allowed in CHOICES.items():
        if getattr(settings, name) not in allowed:
            raise ValueError(
                f"{name} (--{name.replace('_', '-')}, {env_var(name)}) must be one of {', '.join(allowed)}, "
                f"got {getattr(settings, name)!r}: {HELP[name]}"
            )
    for name in AT_LEAST_ONE:
        if getattr(settings, name) < 1:
            raise ValueError(
                f"{name} (--{name.replace('_', '-')}, {env_var(name)}) must be 1 or more, "
                f"got {getattr(settings, name)}: {HELP[name]}"
            )
    return settings


def default_of(name: str) -> Any:
    return FIELDS[name].default
