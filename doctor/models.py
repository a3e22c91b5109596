"""The embedding model and the LLM in use: where, how big, their SHA-256, and the hardware they use."""

from __future__ import annotations

import hashlib
from pathlib import Path

from core.errors import ModelLoadError
from core.files import file_sha256
from core.settings import Settings
from doctor.report import Problem, human_bytes


def folder_sha256(folder: Path) -> tuple[str, int]:
    """One SHA-256 for a folder (over each file's relative path and SHA-256, in order) and its size."""
    digest = hashlib.sha256()
    size = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(f"{path.relative_to(folder).as_posix()}\0{file_sha256(path)}\n".encode())
        size += path.stat().st_size
    return digest.hexdigest(), size


def embedding_facts(settings: Settings) -> tuple[dict[str, object], list[Problem], str | None]:
    """Facts, problems, and the fingerprint the index must have been built with (None if unknown)."""
    from embeddings.embedder import describe_model, embedding_model_path, pick_device

    facts: dict[str, object] = {"setting": settings.embedding_model or "(bundled all-MiniLM-L6-v2)"}
    try:
        path = embedding_model_path(settings)
        info = describe_model(path)
    except ModelLoadError as exc:
        return facts, [Problem("embedding-model-missing", str(exc))], None
    weights = [p for p in path.rglob("*") if p.suffix in (".safetensors", ".bin") and "onnx" not in p.parts]
    sha, size = folder_sha256(path)
    facts.update(
        path=str(path),
        size=human_bytes(size),
        sha256=sha,
        name=info.name,
        fingerprint=info.fingerprint,
        dimensions=info.dimensions,
        max_tokens=info.max_tokens,
    )
    problems = []
    if not weights:
        problems.append(
            Problem(
                "embedding-model-broken",
                f"{path} holds no weights (*.safetensors or *.bin): copy the model folder again.",
            )
        )
    try:
        facts["device"] = pick_device(settings.device)
        import torch

        facts["torch_cuda"] = torch.version.cuda
        facts["cuda_available"] = torch.cuda.is_available()
    except ImportError as exc:
        problems.append(Problem("library-missing", f"torch cannot be imported ({exc}): reinstall localgpt."))
    return facts, problems, info.fingerprint


def llm_facts(settings: Settings, llama_loads: bool = True) -> tuple[dict[str, object], list[Problem]]:
    """`llama_loads`: llama.cpp can be loaded in this process (doctor.cpu_check found it runs on this CPU)."""
    from generation.backends.local_gguf import is_gguf, llm_path  # imports no llama.cpp

    facts: dict[str, object] = {"setting": settings.model or "(bundled SmolLM2-135M-Instruct)"}
    problems: list[Problem] = []
    try:
        path = llm_path(settings)
    except ModelLoadError as exc:
        return facts, [Problem("llm-missing", str(exc))]
    facts["path"] = str(path)
    if not path.is_file():
        problems.append(
            Problem("llm-missing", f"Model file {path} does not exist. Copy it back, or pass --model PATH.gguf.")
        )
    else:
        if not is_gguf(path):
            problems.append(
                Problem("llm-not-gguf", f"{path} is not a GGUF file (llama.cpp format): pass --model PATH.gguf.")
            )
        facts.update(size=human_bytes(path.stat().st_size), size_bytes=path.stat().st_size, sha256=file_sha256(path))
    try:
        from generation.backends.local_gguf import gpu_offload_supported

        facts["llama_cpp_gpu_offload"] = gpu_offload_supported() if llama_loads else None
    except ImportError as exc:
        problems.append(Problem("library-missing", f"llama-cpp-python cannot be imported ({exc}): reinstall localgpt."))
    facts.update(n_ctx=settings.n_ctx, n_gpu_layers=settings.n_gpu_layers)
    return facts, problems
