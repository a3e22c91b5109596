"""Switch off every way our libraries reach the network, in code, before they load.

OpenVINO has no switch of that kind: importing it sends a usage event to Google Analytics
unless a consent file in the user's home says no, or CI=true. Its model-conversion tools
fall back to a no-op stub when the `openvino_telemetry` package cannot be imported, so
enforce_offline() makes it unimportable (sys.modules entry None) before OpenVINO loads.

Hugging Face and Chroma phone home unless told not to (unstructured too: we no longer
use it in the product, only in benchmarks/html_readers.py, but the switches stay set)
(see README, "What never leaves the machine"). `enforce_offline()` is called by every
entry point before a heavy library is imported; it is idempotent.
"""

from __future__ import annotations

import os
import sys

# Variables read by the libraries at import time.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",  # huggingface_hub: never call the Hub
    "TRANSFORMERS_OFFLINE": "1",  # transformers: local files only
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    # onnxruntime (1.32 here, on Linux): its C++ 1DS client starts at import and, ~9 s later, looks up
    # mobile.events.data.microsoft.com; read once at import, invisible to Python's socket module
    "ORT_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",  # chromadb (we also pass Settings(anonymized_telemetry=False))
    "DO_NOT_TRACK": "1",  # unstructured (and others honouring the convention)
    "SCARF_NO_ANALYTICS": "true",  # unstructured's Scarf telemetry
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # no download/loading bars on our stderr
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",  # quiet fork warnings from tokenizers in worker processes
}


BLOCKED_MODULES = ("openvino_telemetry",)  # imported by `import openvino`, sends on import


def enforce_offline() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value
    for name in BLOCKED_MODULES:
        if sys.modules.get(name) is None:  # not imported yet: make `import name` raise ImportError
            sys.modules[name] = None  # type: ignore[assignment]


def offline_switches() -> dict[str, str | None]:
    """What is in force now, for `localgpt doctor`."""
    return {key: os.environ.get(key) for key in OFFLINE_ENV}
