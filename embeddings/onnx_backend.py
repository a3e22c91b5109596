"""The ONNX Runtime backend: the same sentence-transformers model, exported once, run without torch.

The transformer is exported with torch's own exporter (once per model, cached); tokenizing
uses the model's fast tokenizer (tokenizer.json) and pooling + normalising are done in numpy,
so embedding needs neither torch nor sentence-transformers once the export exists.

    <cache>/<fingerprint>-<EXPORT_VERSION>-<libraries>/model.onnx, meta.json
    <cache>/<fingerprint>-<EXPORT_VERSION>-<libraries>-int8/model.onnx, meta.json   (only when int8 is asked for)
    <cache>/.../openvino/<openvino version>-<CPU key>/   OpenVINO's compiled models (openvino_backend.py)

<libraries> is a hash of the torch, onnx and onnxruntime versions (export_key).

The int8 model is the float one with its weights quantized to 8 bits per output channel
(ONNX Runtime's dynamic quantization): about 1.8x faster on CPU, vectors within about 0.99
cosine of the float ones, so an index keeps the precision it was built with.

The export is written to a temporary folder beside it and renamed into place, so a kill
mid-export never leaves a half-written model that a later run would load.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from core.errors import ModelLoadError

log = logging.getLogger(__name__)

EXPORT_VERSION = "v2"  # bump when the export recipe changes: older exports are then ignored
# v2: exported with eager attention (the explicit softmax(QK^T)V graph) instead of torch SDPA: the same vectors
# (cosine 1.000000 on the benchmark chunks), 15% faster on ONNX Runtime and OpenVINO here.
PRECISIONS = ("float32", "int8")
MODEL_FILE = "model.onnx"
META_FILE = "meta.json"


def default_cache_root() -> Path:
    """~/.cache/localgpt/onnx (or $XDG_CACHE_HOME/localgpt/onnx)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "localgpt" / "onnx"


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def pooling_mode(model_path: Path) -> str | None:
    """'mean' or 'cls' when the model pools that way (what we reproduce in numpy), else None."""
    config = _read_json(Path(model_path) / "1_Pooling" / "config.json")
    if not config:
        return None
    if config.get("pooling_mode_mean_tokens"):
        return "mean"
    if config.get("pooling_mode_cls_token"):
        return "cls"
    return None


def max_seq_length(model_path: Path) -> int:
    st = _read_json(Path(model_path) / "sentence_bert_config.json")
    if st.get("max_seq_length"):
        return int(st["max_seq_length"])
    return int(_read_json(Path(model_path) / "config.json").get("max_position_embeddings", 512))


def library_versions(*names: str) -> str:
    """name=version for each installed distribution (read from its metadata, nothing imported)."""
    from importlib import metadata

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "none"

    return ",".join(f"{name}={version(name)}" for name in names)


def export_key() -> str:
    """What an export's validity depends on besides the model and the recipe: the exporter's and the
    runtime's versions (a newer torch may write an opset an older ONNX Runtime cannot read). The ONNX
    file itself holds no CPU-specific code. A home folder shared between machines keeps one entry each."""
    return hashlib.sha256(library_versions("torch", "onnx", "onnxruntime").encode()).hexdigest()[:8]


def export_dir(cache_root: Path, fingerprint: str, precision: str = "float32") -> Path:
    suffix = "" if precision == "float32" else f"-{precision}"
    return Path(cache_root) / f"{fingerprint}-{EXPORT_VERSION}-{export_key()}{suffix}"


def export_model(model_path: Path, fingerprint: str, cache_root: Path, precision: str = "float32") -> Path:
    """The cached export of the model at `model_path`, made now if missing. Returns the model.onnx path."""
    if precision not in PRECISIONS:
        raise ModelLoadError(f"Unknown embedding precision {precision!r}: use {' or '.join(PRECISIONS)}.")
    target = export_dir(cache_root, fingerprint, precision)
    if (target / MODEL_FILE).exists():
        return target / MODEL_FILE
    source = export_model(model_path, fingerprint, cache_root) if precision == "int8" else None
    Path(cache_root).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=cache_root))
    try:
        if source is None:
            _export_to(Path(model_path), work / MODEL_FILE)
        else:
            _quantize(source, work / MODEL_FILE)
        (work / META_FILE).write_text(
            json.dumps(
                {
                    "source": str(model_path),
                    "fingerprint": fingerprint,
                    "export_version": EXPORT_VERSION,
                    "precision": precision,
                }
            ),
            encoding="utf-8",
        )
        try:
            os.rename(work, target)  # atomic; fails if another process won the race
        except OSError:
            if not (target / MODEL_FILE).exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info(
        "exported %s to ONNX (%s) in %.1fs: %s", Path(model_path).name, precision, time.perf_counter() - started, target
    )
    return target / MODEL_FILE


def _quantize(source: Path, out: Path) -> None:
    """8-bit weights, one scale per output channel (per-tensor scales lost up to 0.19 cosine on some chunks)."""
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise ModelLoadError(
            f"Quantizing the embedding model needs onnxruntime and onnx ({exc}); pip install onnx."
        ) from exc
    quiet = logging.getLogger()  # the quantizer logs a tip about pre-processing at WARNING on the root logger
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        quiet.setLevel(level)


def _export_to(model_path: Path, out: Path) -> None:
    try:
        import onnx  # noqa: F401 (torch's exporter needs it)
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise ModelLoadError(
            f"Exporting the embedding model to ONNX needs torch, transformers and onnx ({exc}). "
            "Install them (pip install onnx), or use --embedding-backend torch."
        ) from exc

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    try:
        model = AutoModel.from_pretrained(str(model_path), local_files_only=True, attn_implementation="eager").eval()
    except Exception as exc:  # a broken folder fails in many ways inside transformers
        raise ModelLoadError(f"Could not load the embedding model from {model_path} to export it: {exc}") from exc
    sample = torch.ones((2, 8), dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter warns about tracing internals we do not rely on
        torch.onnx.export(
            LastHiddenState(model),
            (sample, sample, torch.zeros_like(sample)),
            str(out),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,  # the dynamo exporter needs onnxscript; the TorchScript one gives the same graph here
        )


class OnnxEncoder:
    """Embeds texts with ONNX Runtime: tokenizer.json -> model.onnx -> pooling -> unit vectors.

    Tokenizing, padding and pooling live here; the runtime that runs model.onnx is `_open` and
    `_forward` (embeddings/openvino_backend.py runs the same file with OpenVINO)."""

    runtime = "ONNX Runtime"

    def __init__(self, model_path: Path, onnx_file: Path, threads: int = 0, max_length: int | None = None):
        """`max_length`: the model's max_seq_length (EmbedderInfo has it); None reads it from the folder."""
        from tokenizers import Tokenizer

        self.pooling = pooling_mode(model_path)
        if self.pooling is None:
            raise ModelLoadError(
                f"The model at {model_path} pools in a way {self.runtime} here does not reproduce; use --embedding-backend torch."
            )
        self.input_names = self._open(Path(onnx_file), threads)
        self.tokenizer = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_length or max_seq_length(model_path))
        self.tokenizer.no_padding()  # each batch is padded to its own longest text in _run
        pad_id = self.tokenizer.token_to_id("[PAD]")
        self.pad_id = 0 if pad_id is None else pad_id

    def _open(self, onnx_file: Path, threads: int) -> set[str]:
        """Load the model into the runtime; returns the names of the inputs it takes."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads > 0:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        # Idle threads sleep instead of spinning: parse workers share the cores, and batches are large.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(onnx_file), sess_options=options, providers=["CPUExecutionProvider"])
        return {i.name for i in self.session.get_inputs()}

    def _forward(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        """last_hidden_state (batch, tokens, dims) for the padded batch."""
        return self.session.run(None, feed)[0]

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Unit vectors in the order of `texts`; batches are cut from texts sorted by length (less padding)."""
        return self.encode_ids([e.ids for e in self.tokenizer.encode_batch(list(texts))], batch_size)

    def encode_ids(self, token_ids: Sequence[Sequence[int]], batch_size: int = 32) -> np.ndarray:
        """As encode, from texts already tokenized for the model ([CLS] ... [SEP], within its length)."""
        order = np.argsort([len(ids) for ids in token_ids], kind="stable")
        out: np.ndarray | None = None
        for start in range(0, len(order), batch_size):
            picked = order[start : start + batch_size]
            vectors = self._run([token_ids[i] for i in picked])
            if out is None:
                out = np.empty((len(token_ids), vectors.shape[1]), dtype=np.float32)
            out[picked] = vectors
        return out if out is not None else np.zeros((0, 0), dtype=np.float32)

    def _run(self, batch: list[Sequence[int]]) -> np.ndarray:
        """One padded batch: attention on each text's own tokens, one segment (type id 0)."""
        width = max(len(ids) for ids in batch)
        ids = np.full((len(batch), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, text_ids in enumerate(batch):
            ids[row, : len(text_ids)] = text_ids
            mask[row, : len(text_ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(mask)}
        hidden = self._forward({k: v for k, v in feed.items() if k in self.input_names})
        if self.pooling == "cls":
            pooled = hidden[:, 0, :]
        else:
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
