"""The one home of configuration: the table SETTINGS, one row per setting (name, default, help, stage).

A value comes from, in order of precedence: a CLI option, the environment variable
LOCALGPT_<NAME> (upper case), the default here. `load_settings` is called once at
the edge (the CLI, a benchmark, a test) and the resulting `Settings` is passed down.

The stage says which part of the pipeline reads a setting, and so which commands take it as an
option (localgpt.py builds its option groups from the stages): every command that searches takes
the index, embedding and retrieval settings; every command that answers takes those and the
generation settings as well. docs/settings.md is written from this table (scripts/settings_doc.py).
What a default means is said in its help, because the bare value often says little.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

ENV_PREFIX = "LOCALGPT_"

# Stages, in pipeline order.
INDEX = "index"  # where the index lives
EMBEDDING = "embedding"  # how text becomes vectors, at ingest and for every question
INGEST = "ingest"  # reading and chunking documents
RETRIEVAL = "retrieval"  # finding the passages for a question
GENERATION = "generation"  # deciding, writing and checking the answer
CHAT = "chat"  # a conversation's follow-ups (chat, serve)
SERVER = "server"  # `serve` itself
WATCH = "watch"  # `watch` and `serve --watch`: following a folder's changes
STAGES = (INDEX, EMBEDDING, INGEST, RETRIEVAL, GENERATION, CHAT, SERVER, WATCH)


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any  # its type is the setting's type (a Path, str, int, float or bool)
    help: str
    stage: str


SETTINGS: tuple[Setting, ...] = (
    Setting("db", Path("db"), "Folder of the index (created on first ingest, private to you: mode 0700).", INDEX),
    Setting(
        "chroma_url",
        "",
        (
            "Keep the vectors in a Chroma server (`chroma run`), e.g. http://10.0.0.5:8001, instead of in --db. "
            "The catalog (text, journal) and the lexical index stay in --db. An index records where its vectors live "
            "and refuses to be opened the other way. Empty: in --db (docs/scale.md)."
        ),
        INDEX,
    ),
    Setting(
        "index_url",
        "",
        (
            "Keep the whole index (catalog, text, lexical index, vectors, journal) in a PostgreSQL database with "
            "pgvector, e.g. postgresql://localgpt@10.0.0.5/team?schema=handbook, shared by several hosts, instead of "
            "in --db. Needs the postgres extra (psycopg, pgvector). Empty: in --db (docs/scale.md)."
        ),
        INDEX,
    ),
    Setting(
        "index_password_file",
        "",
        (
            "File holding the password for --index-url (the password alone on its first line; owner-only, chmod "
            "600). Never logged. Empty: libpq's own ways (the URL, ~/.pgpass or PGPASSFILE, a service file)."
        ),
        INDEX,
    ),
    Setting(
        "embedding_model",
        "",
        "Path of a local sentence-transformers model folder. Empty: the bundled all-MiniLM-L6-v2.",
        EMBEDDING,
    ),
    Setting(
        "embedding_backend",
        "auto",
        (
            "auto, openvino, onnx or torch. auto: OpenVINO on CPU (bfloat16 where the CPU has it natively, "
            "vectors within 1e-4 cosine of torch's), else ONNX Runtime (exact float32); torch on a GPU."
        ),
        EMBEDDING,
    ),
    Setting(
        "embedding_precision",
        "auto",
        (
            "auto, float32 or int8. int8: the model with 8-bit weights on ONNX Runtime, about 2x faster than "
            "float32 on a CPU without bfloat16, a little less exact (docs/ingest.md). An index keeps the "
            "precision that built it; auto: the index's; for a new one int8 on a CPU without native bfloat16 (the"
            " same recall on our real dev set), float32 elsewhere."
        ),
        EMBEDDING,
    ),
    Setting(
        "device", "auto", "auto, cpu, cuda or mps for embeddings. auto: CUDA or MPS when present, else CPU.", EMBEDDING
    ),
    Setting(
        "onnx_cache",
        "",
        "Folder caching the ONNX export of the embedding model (made once). Empty: ~/.cache/localgpt/onnx.",
        EMBEDDING,
    ),
    Setting("source_dir", Path("source_documents"), "Folder of documents to ingest, searched recursively.", INGEST),
    Setting(
        "embed_batch_size",
        0,
        (
            "Chunks embedded per batch. 0: 8 with OpenVINO or ONNX Runtime on CPU (measured fastest there: less "
            "padding), 32 with torch."
        ),
        INGEST,
    ),
    Setting("chunk_tokens", 200, "Most tokens in one chunk (never more than the embedding model reads).", INGEST),
    Setting("chunk_overlap", 32, "Tokens shared between neighbouring chunks.", INGEST),
    Setting(
        "max_file_mb",
        200.0,
        ("Files larger than this many MB are not read (listed as failed, with the reason); raise it to ingest them."),
        INGEST,
    ),
    Setting(
        "workers",
        0,
        ("Processes that parse documents while the main one embeds. 0: one per CPU core but one (at least one)."),
        INGEST,
    ),
    Setting(
        "follow_external_links",
        False,
        (
            "Read files that symbolic links in the folder point to outside it. Off: such links are skipped "
            "(listed in the summary), so a stray link cannot put a private file into the index."
        ),
        INGEST,
    ),
    Setting(
        "ocr",
        "auto",
        (
            "auto, off or force: OCR (Tesseract, bundled) of scanned pages and images. auto: PDF pages with no "
            "usable text layer, and image files (PNG, JPEG, TIFF, WebP); force: every PDF page, its text layer "
            "ignored; off: neither (scanned pages are left out, images skipped)."
        ),
        INGEST,
    ),
    Setting(
        "ocr_language",
        "eng",
        "Language of the scanned text: eng or deu (the models bundled), or both as eng+deu (slower).",
        INGEST,
    ),
    Setting(
        "ocr_max_megapixels",
        100.0,
        (
            "Images larger than this many megapixels are refused (a guard against decompression bombs); 100 holds"
            " an A3 page scanned at 600 dpi. PDF pages are rendered smaller instead."
        ),
        INGEST,
    ),
    Setting("k", 6, "Passages retrieved for a question.", RETRIEVAL),
    Setting(
        "search_mode",
        "hybrid",
        "dense (embeddings), bm25 (exact words, codes, numbers) or hybrid (both, fused by reciprocal rank).",
        RETRIEVAL,
    ),
    Setting(
        "fusion",
        "convex",
        (
            "How hybrid search fuses the dense and BM25 lists: convex (weighted sum of each list's scores "
            "rescaled to 0..1) or rrf (weighted reciprocal rank fusion, k=60). docs/retrieval.md compares them."
        ),
        RETRIEVAL,
    ),
    Setting(
        "bm25_weight", 0.5, "BM25's share in hybrid fusion, 0..1; dense gets the rest. 0.5: equal shares.", RETRIEVAL
    ),
    Setting(
        "passage_chars",
        2000,
        (
            "Most characters of the passage shown for each hit: the matched chunk widened with its neighbours in "
            "the same file (small-to-big). 0: the chunk alone."
        ),
        RETRIEVAL,
    ),
    Setting("mmr", False, "Diversify retrieved passages with maximal marginal relevance.", RETRIEVAL),
    Setting(
        "reranker", "", "Path of a local cross-encoder model folder to rerank passages. Empty: no reranking.", RETRIEVAL
    ),
    Setting(
        "min_score",
        0.15,
        (
            "Passages whose relevance (cosine similarity to the question) is below this are not used; when none "
            "reaches it the answer is a refusal and the LLM is not asked. 0.15 was calibrated for the bundled "
            "embedding model on a mixed collection of real documents (docs/answers.md); 0 never refuses on "
            "relevance (see --min-evidence)."
        ),
        GENERATION,
    ),
    Setting(
        "min_evidence",
        0.15,
        (
            "The best evidence sentence must score at least this (0-1: the evidence-selection model's "
            "probability that it holds the answer); below it the answer is a refusal. Chosen on nine real "
            "collections with cross-collection checks (docs/answers.md); 0 never refuses on evidence."
        ),
        GENERATION,
    ),
    Setting(
        "max_unknown",
        0.34,
        (
            "Refuse when at least this share of the question's content words appears nowhere in the index (a "
            "question about something the documents never mention); used on indexes of 500 chunks or more, where "
            "a common word's absence means something. 1 never refuses on it."
        ),
        GENERATION,
    ),
    Setting("model", "", "Path of a GGUF model file. Empty: the bundled SmolLM2-135M-Instruct.", GENERATION),
    Setting("n_ctx", 2048, "Context window of the LLM in tokens.", GENERATION),
    Setting("max_tokens", 384, "Most tokens in an answer.", GENERATION),
    Setting(
        "temperature",
        0.0,
        "Sampling temperature. 0: always the most likely token, so the same question gets the same answer.",
        GENERATION,
    ),
    Setting(
        "repeat_penalty", 1.1, "Penalty on repeated tokens (1: none); keeps small models from looping.", GENERATION
    ),
    Setting(
        "excerpt_sentences",
        3,
        (
            "Sentences of the retrieved passages the LLM reads: those sharing most words with the question, kept "
            "with their passage's number. 0: whole passages (better for a large model with a large --n-ctx)."
        ),
        GENERATION,
    ),
    Setting(
        "threads",
        0,
        (
            "CPU threads for the LLM. 0: one per CPU core that is free when the model loads (a core another "
            "process keeps busy would hold every token back; docs/answers.md)."
        ),
        GENERATION,
    ),
    Setting(
        "n_gpu_layers",
        -1,
        "Layers offloaded to the GPU when llama.cpp was built with GPU support. -1: all.",
        GENERATION,
    ),
    Setting(
        "llm_url",
        "",
        (
            "Generate with an OpenAI-compatible chat server (llama.cpp's llama-server, vLLM, Ollama, LM Studio), "
            "e.g. http://10.0.0.6:8080/v1, instead of loading --model here. The context window is read from the "
            "server where it says (llama.cpp's /props, vLLM's max_model_len), else --n-ctx. Empty: the local "
            "GGUF."
        ),
        GENERATION,
    ),
    Setting(
        "llm_model",
        "",
        "Model name sent to --llm-url (vLLM and Ollama need it). Empty: the first model the server lists.",
        GENERATION,
    ),
    Setting(
        "llm_api_key_file",
        "",
        (
            "File holding the API key for --llm-url (or set LOCALGPT_LLM_API_KEY). The key is sent to that server"
            " only and never logged. Empty: no key."
        ),
        GENERATION,
    ),
    Setting(
        "answer_style",
        "auto",
        (
            "auto: quote the evidence with the bundled model (its own words hold the fact less often than the "
            "quote), generate with any other --model or --llm-url; quote: always quote the evidence, without the "
            "model; generate: let the model write, each claim checked against one evidence sentence."
        ),
        GENERATION,
    ),
    Setting(
        "history_tokens",
        512,
        (
            "Most tokens of earlier conversation used to understand a follow-up question in chat; the oldest "
            "turns drop out first (never more than the context window holds)."
        ),
        CHAT,
    ),
    Setting(
        "host",
        "127.0.0.1",
        (
            "Address `serve` listens on. 127.0.0.1: only this machine; any other address (0.0.0.0: every "
            "interface) requires a token."
        ),
        SERVER,
    ),
    Setting("port", 8000, "Port `serve` listens on.", SERVER),
    Setting(
        "token",
        "",
        (
            "Token every request to `serve` must carry (Authorization: Bearer TOKEN, or the /login page's "
            "cookie), at least 16 characters. Empty: none on 127.0.0.1; on any other address one is generated and"
            " printed once."
        ),
        SERVER,
    ),
    Setting(
        "session_hours",
        12.0,
        "Hours a login session of `serve` lasts (users of `localgpt users`); after that the user logs in again.",
        SERVER,
    ),
    Setting(
        "login_attempts",
        5,
        (
            "Failed logins allowed per user name, and per client address, in any minute; more are refused "
            "(429) until the minute has passed. 0: no limit."
        ),
        SERVER,
    ),
    Setting(
        "trusted_user_header",
        "",
        (
            "Header naming the logged-in user, set by a reverse proxy that does the login (oauth2-proxy, "
            "Authelia: X-Forwarded-User). Accepted only from --trusted-proxy; empty: no such header is trusted."
        ),
        SERVER,
    ),
    Setting(
        "trusted_proxy",
        "",
        (
            "Address of the reverse proxy whose --trusted-user-header is believed (comma-separated for "
            "several). A request carrying that header from any other address is refused."
        ),
        SERVER,
    ),
    Setting(
        "audit",
        True,
        (
            "Keep the audit log when `serve` has users: who searched or asked what, which sources they got, "
            "who was refused. --no-audit: keep none (for those who must not keep questions)."
        ),
        SERVER,
    ),
    Setting(
        "audit_log",
        "",
        "File of the audit log (JSONL, mode 0600, rotated at 10 MB, 5 kept). Empty: audit.jsonl in the --db folder.",
        SERVER,
    ),
    Setting(
        "watch_debounce",
        1.0,
        (
            "Seconds a watched folder must be quiet before its changes are ingested as one batch (an editor's "
            "save, a git checkout); a file is taken once its size and mtime held still that long."
        ),
        WATCH,
    ),
    Setting(
        "watch_poll",
        0.0,
        (
            "Look for changes every this many seconds instead of following filesystem events (network or FUSE "
            "filesystems that send none). 0: filesystem events (inotify, FSEvents), nothing runs while idle."
        ),
        WATCH,
    ),
)


def _replace(self, **changes: Any):
    """A copy with `changes` applied; None values are ignored (an option not given)."""
    return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


# The values of every setting, as one frozen object: Settings().k, settings.replace(k=3).
Settings = dataclasses.make_dataclass(
    "Settings",
    [(s.name, type(s.default), dataclasses.field(default=s.default)) for s in SETTINGS],
    frozen=True,
    namespace={"replace": _replace, "__module__": __name__},
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
HELP: dict[str, str] = {s.name: s.help for s in SETTINGS}
FIELDS: dict[str, dataclasses.Field] = {f.name: f for f in dataclasses.fields(Settings)}


def names_of(*stages: str) -> tuple[str, ...]:
    """The settings of `stages`, in table order."""
    return tuple(s.name for s in SETTINGS if s.stage in stages)


# Command-line names for settings whose option is not --setting-name.
_OPTION_FLAGS = {
    "k": ("-k", "--k"),
    "search_mode": ("--mode", "--search-mode"),
    "watch_debounce": ("--debounce", "--watch-debounce"),
    "watch_poll": ("--poll", "--watch-poll"),
}


def option_flags(name: str) -> tuple[str, ...]:
    """The command-line option(s) of a setting: --setting-name, or those named above."""
    return _OPTION_FLAGS.get(name, (f"--{name.replace('_', '-')}",))


# Settings for which 0 or less means nothing: refused with the reason, not silently accepted.
AT_LEAST_ONE = ("k",)
# Settings that take one of a few words.
CHOICES = {"answer_style": ("auto", "quote", "generate")}


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
