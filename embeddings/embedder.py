"""The embedding model: loaded lazily, once, on the best device present."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from core.cpu import has_native_bf16
from core.errors import ModelLoadError
from core.offline import enforce_offline
from core.settings import Settings
from embeddings.bundled import bundled_embedding_model_path
from embeddings.onnx_backend import (
    PRECISIONS,
    OnnxEncoder,
    default_cache_root,
    export_model,
    max_seq_length,
    pooling_mode,
)
from embeddings.tokens import TokenCounter

log = logging.getLogger(__name__)

# Files whose bytes identify a model; weights are identified by name and size (hashing them costs seconds).
_IDENTITY_FILES = (
    "config.json",
    "modules.json",
    "sentence_bert_config.json",
    "tokenizer.json",
    "1_Pooling/config.json",
)
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".onnx")
# Default batch sizes. OpenVINO and ONNX Runtime on CPU (2 cores, MiniLM, length-sorted chunks of
# benchmarks/ingest.py), chunks/s by batch of 4 / 8 / 16 / 32: OpenVINO bfloat16 73.5 / 78.1 / 77.4 / 77.0,
# ONNX Runtime float32 45.8 / 44.8 / 42.3 / 42.6; small batches pad less.
CPU_BATCH = 8
TORCH_BATCH = 32


@dataclass(frozen=True)
class EmbedderInfo:
    """The one description of the embedding model, read from its folder once and passed down: what the
    index records about it (name, fingerprint, dimensions), and what the stages that tokenize need."""

    name: str
    fingerprint: str
    dimensions: int
    max_tokens: int  # content tokens the model reads, special tokens excluded
    path: Path | None = None  # its folder
    max_seq_length: int = 0  # tokens the model reads, special tokens included (the tokenizer's truncation)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


# Folder names that say nothing of the model: a package's "model" folder, a hub cache's snapshot hash.
_GENERIC_FOLDERS = {"model", "models", "weights", "snapshot", "snapshots", "default", "latest", "main"}


def model_name(model_path: Path) -> str:
    """What to call the model in folder `model_path`: the folder's name, unless that is generic
    ("model", a commit hash); then the title of its model card (README.md, "# all-MiniLM-L6-v2"),
    else the name it was saved under (config.json `_name_or_path`), else the folder above's name."""
    name = model_path.name
    if name.lower() not in _GENERIC_FOLDERS and not re.fullmatch(r"[0-9a-f]{20,}", name):
        return name
    readme = model_path / "README.md"
    try:
        card = readme.read_text(encoding="utf-8", errors="replace") if readme.is_file() else ""
    except OSError:
        card = ""
    if card.startswith("---"):  # the card's YAML front matter
        card = card.split("\n---", 1)[-1]
    title = re.search(r"^# +(\S.*?)\s*$", card, re.M)
    if title and len(title.group(1)) <= 80:
        return title.group(1)
    saved = str(_read_json(model_path / "config.json").get("_name_or_path") or "").rstrip("/")
    if saved and not saved.startswith((".", "/")):
        return saved.rsplit("/", 1)[-1]
    return model_path.parent.name or name


def describe_model(model_path: Path) -> EmbedderInfo:
    """Name, fingerprint, dimensions and token limit, read from the folder without loading torch."""
    model_path = Path(model_path)
    if not model_path.is_dir():
        raise ModelLoadError(
            f"Embedding model folder {model_path} does not exist. Pass --embedding-model PATH to a local "
            "sentence-transformers folder, or leave it empty for the bundled model."
        )
    digest = hashlib.sha256()
    for name in _IDENTITY_FILES:
        path = model_path / name
        if path.exists():
            digest.update(name.encode() + b"\0" + path.read_bytes())
    for path in sorted(model_path.rglob("*")):
        if path.suffix in _WEIGHT_SUFFIXES and "onnx" not in path.parts:
            digest.update(f"{path.relative_to(model_path)}:{path.stat().st_size}".encode())
    max_seq = max_seq_length(model_path)
    dims = int(_read_json(model_path / "1_Pooling/config.json").get("word_embedding_dimension", 0)) or int(
        _read_json(model_path / "config.json").get("hidden_size", 0)
    )
    return EmbedderInfo(
        name=model_name(model_path),
        fingerprint=digest.hexdigest()[:16],
        dimensions=dims,
        max_tokens=max_seq - 2,
        path=model_path,
        max_seq_length=max_seq,
    )


def pick_device(requested: str = "auto") -> str:
    if requested != "auto":
        return requested
    if not gpu_may_exist():
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def gpu_may_exist() -> bool:
    """False when this machine surely has no GPU torch could use; decided without importing torch (2-3 s)."""
    if sys.platform == "darwin":
        return True  # Apple silicon: MPS
    return any(Path(p).exists() for p in ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/kfd", "/dev/dxg"))


BACKENDS = ("auto", "torch", "onnx", "openvino")
CPU_BACKENDS = ("openvino", "onnx")  # auto on a CPU: the first installed (measured fastest first)
RUNTIME_MODULE = {"openvino": "openvino", "onnx": "onnxruntime"}
FALLBACK = {"openvino": "onnx", "onnx": "torch"}  # auto: what to try when a runtime fails to load


def pick_backend(requested: str, device: str, model_path: Path, precision: str = "float32") -> str:
    """torch, onnx or openvino. auto: OpenVINO on CPU (bfloat16 where the CPU has it natively: 1.8x ONNX
    Runtime here, vectors within 1e-4 cosine of torch), else ONNX Runtime; torch on a GPU.
    int8 exists only as an ONNX Runtime model."""
    if requested not in BACKENDS:
        raise ModelLoadError(f"Unknown embedding backend {requested!r}: use {', '.join(BACKENDS)}.")
    if precision == "int8":
        if requested in ("torch", "openvino"):
            raise ModelLoadError(f"int8 embeddings run only on the ONNX backend: drop --embedding-backend {requested}.")
        if pooling_mode(model_path) is None or importlib.util.find_spec("onnxruntime") is None:
            raise ModelLoadError(
                "int8 embeddings need onnxruntime and a mean- or CLS-pooled model; use --embedding-precision float32."
            )
        return "onnx"
    if requested != "auto":
        return requested
    if device != "cpu" or pooling_mode(model_path) is None:
        return "torch"
    for backend in CPU_BACKENDS:
        if importlib.util.find_spec(RUNTIME_MODULE[backend]) is not None:
            return backend
    return "torch"


class Embedder:
    """Embeds passages and questions. The model loads on first use."""

    def __init__(
        self,
        model_path: Path,
        device: str = "auto",
        backend: str = "auto",
        batch_size: int = 0,
        onnx_cache: Path | None = None,
        threads: int = 0,
        precision: str = "float32",
    ):
        if precision not in PRECISIONS:
            raise ModelLoadError(f"Unknown embedding precision {precision!r}: use auto, {' or '.join(PRECISIONS)}.")
        self.model_path = Path(model_path)
        self.info = describe_model(self.model_path)
        self.precision = precision
        self.requested_device = device
        self.requested_backend = backend
        self.requested_batch_size = batch_size
        self.onnx_cache = Path(onnx_cache) if onnx_cache else default_cache_root()
        self.threads = threads
        self._model = None
        self._loading = threading.Lock()  # a server's first questions come at once: one load, not one each
        self._backend: str | None = None
        self._device: str | None = None
        self._tokens: TokenCounter | None = None

    @property
    def tokens(self) -> TokenCounter:
        if self._tokens is None:
            self._tokens = TokenCounter(self.model_path)
        return self._tokens

    @property
    def device(self) -> str:
        self._load()
        return self._device or "cpu"

    @property
    def backend(self) -> str:
        """torch, onnx or openvino: the one that runs (loads the model)."""
        self._load()
        return self._backend or "torch"

    @property
    def compute(self) -> str:
        """The number type the model computes in: float32, bfloat16 (OpenVINO on a CPU with it) or int8 (loads the model)."""
        model = self._load()
        if self.precision == "int8":
            return "int8"
        return "bfloat16" if getattr(model, "compute", "f32") == "bf16" else "float32"

    @property
    def batch_size(self) -> int:
        """Texts per model call: as asked, else what measured fastest for the backend (loads the model)."""
        if self.requested_batch_size > 0:
            return self.requested_batch_size
        return TORCH_BATCH if self.backend == "torch" else CPU_BATCH

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        """Load the model now rather than at the first embed."""
        self._load()

    def _load(self):
        if self._model is not None:
            return self._model
        with self._loading:
            return self._load_once()

    def _load_once(self):
        if self._model is None:
            enforce_offline()
            device = pick_device(self.requested_device)
            backend = pick_backend(self.requested_backend, device, self.model_path, self.precision)
            while self._model is None:
                try:
                    self._model = self._load_backend(backend, device)
                except ModelLoadError:
                    # auto goes down the list when a runtime fails to load; a backend asked for by name does not
                    fallback = (
                        FALLBACK.get(backend)
                        if self.requested_backend == "auto" and self.precision == "float32"
                        else None
                    )
                    if fallback is None:
                        raise
                    log.warning("%s backend unavailable; embedding with %s", backend, fallback, exc_info=True)
                    backend = fallback
            self._backend, self._device = backend, device if backend == "torch" else "cpu"
            log.info(
                "embedding model %s (%s) with %s on %s", self.info.name, self.precision, self._backend, self._device
            )
        return self._model

    def _load_backend(self, backend: str, device: str):
        if backend == "torch":
            return self._load_torch(device)
        onnx_file = export_model(self.model_path, self.info.fingerprint, self.onnx_cache, self.precision)
        if backend == "openvino":
            from embeddings.openvino_backend import OpenVinoEncoder

            return OpenVinoEncoder(
                self.model_path, onnx_file, threads=self.threads, max_length=self.info.max_seq_length
            )
        return OnnxEncoder(self.model_path, onnx_file, threads=self.threads, max_length=self.info.max_seq_length)

    def _load_torch(self, device: str):
        from sentence_transformers import SentenceTransformer

        try:
            return SentenceTransformer(str(self.model_path), device=device, local_files_only=True)
        except Exception as exc:  # a broken folder fails in many ways inside transformers
            raise ModelLoadError(f"Could not load the embedding model from {self.model_path}: {exc}") from exc

    def embed(self, texts: Sequence[str], token_ids: Sequence | None = None) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in the order given. `token_ids`: the texts
        already tokenized for the model (ingest's workers do it), used by the ONNX-file backends."""
        if not texts:
            return np.zeros((0, self.info.dimensions), dtype=np.float32)
        model = self._load()
        if self._backend != "torch":
            if token_ids is not None:
                return model.encode_ids(token_ids, batch_size=self.batch_size)
            return model.encode(list(texts), batch_size=self.batch_size)
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def embedding_model_path(settings: Settings) -> Path:
    return Path(settings.embedding_model).expanduser() if settings.embedding_model else bundled_embedding_model_path()


def new_index_precision(
    requested_device: str, backend: str, model_path: Path, features: frozenset[str] | None = None
) -> str:
    """What auto means for a new index. On a CPU without native bfloat16, OpenVINO computes in float32 and
    the int8 model on ONNX Runtime embeds faster at nearly the same recall (docs/ingest.md, "CPUs without
    bfloat16"): int8 there. float32 elsewhere: a CPU with bfloat16 (OpenVINO's bfloat16 is faster still and
    more exact), a GPU, a backend named other than onnx, or a model int8 cannot run."""
    if has_native_bf16(features) or backend not in ("auto", "onnx"):
        return "float32"
    if requested_device not in ("auto", "cpu") or (requested_device == "auto" and gpu_may_exist()):
        return "float32"  # a GPU may be there: torch in float32
    if pooling_mode(model_path) is None or importlib.util.find_spec("onnxruntime") is None:
        return "float32"
    return "int8"


def resolve_precision(
    requested: str, index_precision: str | None, new_index: Callable[[], str] = lambda: "float32"
) -> str:
    """auto: the precision the index was built with; for a new index, `new_index()`."""
    if requested == "auto":
        return index_precision or new_index()
    return requested


def load_embedder(settings: Settings, index_precision: str | None = None) -> Embedder:
    """The embedder the settings name; nothing heavy loads until it embeds.
    `index_precision`: what the index to be read or written records (None: a new index)."""
    model_path = embedding_model_path(settings)
    return Embedder(
        model_path,
        device=settings.device,
        backend=settings.embedding_backend,
        batch_size=settings.embed_batch_size,
        onnx_cache=Path(settings.onnx_cache).expanduser() if settings.onnx_cache else None,
        precision=resolve_precision(
            settings.embedding_precision,
            index_precision,
            lambda: new_index_precision(settings.device, settings.embedding_backend, model_path),
        ),
    )


def prepare_onnx(settings: Settings) -> Path:
    """Export the settings' embedding model to ONNX into the cache (if not there yet); returns its folder."""
    embedder = load_embedder(settings)
    return export_model(embedder.model_path, embedder.info.fingerprint, embedder.onnx_cache, embedder.precision).parent
