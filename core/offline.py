"""Switch off every way our libraries reach the network, in code, before they load.

Hugging Face and Chroma phone home unless told not to (unstructured too: we no longer
use it in the product, only in benchmarks/html_readers.py, but the switches stay set)
(see README, "What never leaves the machine"). `enforce_offline()` is called by every
entry point before a heavy library is imported; it is idempotent.
"""
from __future__ import annotations

import os

# Variables read by the libraries at import time.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",  # huggingface_hub: never call the Hub
    "TRANSFORMERS_OFFLINE": "1",  # transformers: local files only
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",  # chromadb (we also pass Settings(anonymized_telemetry=False))
    "DO_NOT_TRACK": "1",  # unstructured (and others honouring the convention)
    "SCARF_NO_ANALYTICS": "true",  # unstructured's Scarf telemetry
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # no download/loading bars on our stderr
    "TRANSFORMERS_VERBOSITY": "error",
    "TOKENIZERS_PARALLELISM": "false",  # quiet fork warnings from tokenizers in worker processes
}


def enforce_offline() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value


def offline_switches() -> dict[str, str | None]:
    """What is in force now, for `localgpt doctor`."""
    return {key: os.environ.get(key) for key in OFFLINE_ENV}
