"""The cross-encoder `Ranker` (retrieval/ranker.py): rescores (question, passage) pairs, from a local folder only."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from core.errors import ModelLoadError
from core.offline import enforce_offline

log = logging.getLogger(__name__)


class Reranker:
    """A sentence-transformers CrossEncoder folder; the model loads on first use. One instance serves
    every thread: calls take turns (a fast tokenizer refuses to be used by two threads at once)."""

    def __init__(self, model_path: str | Path, device: str = "auto"):
        self.model_path = Path(model_path).expanduser()
        if not self.model_path.is_dir():
            raise ModelLoadError(
                f"Reranker folder {self.model_path} does not exist. Pass --reranker PATH to a local cross-encoder "
                "folder (for example a copy of cross-encoder/ms-marco-MiniLM-L-6-v2), or leave it empty."
            )
        self.device = device
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        if self._model is None:
            enforce_offline()
            from sentence_transformers import CrossEncoder

            from embeddings.embedder import pick_device

            try:
                self._model = CrossEncoder(str(self.model_path), device=pick_device(self.device), local_files_only=True)
            except Exception as exc:  # a broken folder fails in many ways inside transformers
                raise ModelLoadError(f"Could not load the reranker from {self.model_path}: {exc}") from exc
            log.info("reranker %s loaded", self.model_path.name)
        return self._model

    def score(self, question: str, passages: Sequence[str]) -> np.ndarray:
        """One score per passage, higher is more relevant (the model's own scale)."""
        if not passages:
            return np.zeros(0, dtype=np.float32)
        with self._lock:
            model = self._load()
            scores = model.predict([(question, p) for p in passages], batch_size=16, show_progress_bar=False)
        scores = np.asarray(scores, dtype=np.float32)
        return scores if scores.ndim == 1 else scores[:, -1]  # two-label models: the "relevant" logit
