"""The OpenVINO backend: the same cached model.onnx as the ONNX Runtime backend, run by OpenVINO.

Why: on a CPU with native bfloat16 (AVX512-BF16 or AMX: recent Xeon and EPYC) OpenVINO runs
the matrix products in bfloat16 and embeds about 1.8x faster than ONNX Runtime in float32, with
vectors within 1e-4 cosine of torch's float32 ones (docs/ingest.md). Elsewhere it computes in
float32. Tokenizing, padding and pooling are OnnxEncoder's.

OpenVINO sends a usage event to Google Analytics when imported, unless told not to:
core.offline.enforce_offline() (called before anything loads it) makes its telemetry package
unimportable, so OpenVINO falls back to its own no-op stub.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from core.errors import ModelLoadError
from core.offline import enforce_offline
from core.cpu import cpu_key
from embeddings.onnx_backend import OnnxEncoder, library_versions

log = logging.getLogger(__name__)

COMPUTE = ("auto", "f32", "bf16")


def compiled_cache(onnx_file: Path) -> Path:
    """OpenVINO's cache of compiled models, beside the export they come from, in a folder named by
    OpenVINO's version and this CPU's instruction set: a compiled model holds kernels for the CPU that
    compiled it, so a home folder shared with another machine never hands it one. Within the folder
    OpenVINO keys each entry by the model and the settings, and a truncated entry (a kill mid-write)
    is detected and compiled again (tests/test_embeddings_onnx.py)."""
    return Path(onnx_file).parent / "openvino" / f"{library_versions('openvino').split('=')[1]}-{cpu_key()}"


def native_bf16(core) -> bool:
    """True when the CPU multiplies bfloat16 natively (OpenVINO lists BF16 among its capabilities)."""
    try:
        return "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except Exception:  # noqa: BLE001 - an old or unusual OpenVINO: take the exact path
        return False


class OpenVinoEncoder(OnnxEncoder):
    """Embeds texts with OpenVINO on the CPU. compute: auto (bf16 where the CPU has it natively, else f32), f32, bf16."""

    runtime = "OpenVINO"

    def __init__(
        self, model_path: Path, onnx_file: Path, threads: int = 0, compute: str = "auto", max_length: int | None = None
    ):
        if compute not in COMPUTE:
            raise ModelLoadError(f"Unknown OpenVINO compute type {compute!r}: use {', '.join(COMPUTE)}.")
        self.compute = compute
        super().__init__(model_path, onnx_file, threads, max_length)

    def _open(self, onnx_file: Path, threads: int) -> set[str]:
        enforce_offline()  # before the import: it is what keeps OpenVINO's telemetry from loading
        try:
            import openvino as ov
        except ImportError as exc:
            raise ModelLoadError(
                f"The OpenVINO backend needs the openvino package ({exc}); use --embedding-backend onnx."
            ) from exc
        core = ov.Core()
        if self.compute == "auto":
            self.compute = "bf16" if native_bf16(core) else "f32"
        config = {
            "INFERENCE_PRECISION_HINT": self.compute,
            "PERFORMANCE_HINT": "LATENCY",  # one stream: batches come one at a time
            "ENABLE_CPU_PINNING": False,  # parse workers share the cores
        }
        if threads > 0:
            config["INFERENCE_NUM_THREADS"] = threads
        try:
            try:  # from OpenVINO's cache of compiled models: 0.08 s instead of 0.31 s for reading and compiling
                self.compiled = core.compile_model(
                    str(onnx_file), "CPU", {**config, "CACHE_DIR": str(compiled_cache(onnx_file))}
                )
            except RuntimeError as exc:  # the cache folder cannot be written (a read-only bundle): compile each time
                log.debug("OpenVINO's model cache is unusable (%s); compiling without it", exc)
                self.compiled = core.compile_model(str(onnx_file), "CPU", config)
        except Exception as exc:  # OpenVINO raises RuntimeError subclasses of its own
            raise ModelLoadError(f"OpenVINO could not load {onnx_file}: {exc}") from exc
        self.request = self.compiled.create_infer_request()
        self.output = self.compiled.outputs[0]
        self.lock = threading.Lock()  # one infer request: one batch at a time
        return {name for port in self.compiled.inputs for name in port.get_names()}

    def _forward(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        with self.lock:
            result = self.request.infer(feed)
            return np.array(result[self.output], dtype=np.float32)  # a copy: the request reuses its buffer
