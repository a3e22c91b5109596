"""Counting tokens the way the embedding model does, without loading the model."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.errors import ModelLoadError

COUNT_CACHE = 1 << 16  # strings whose count is remembered (the splitter asks about the same words and pieces again)


class TokenCounter:
    """The embedding model's own tokenizer (tokenizer.json), light enough for worker processes."""

    def __init__(self, model_path: Path, max_length: int | None = None):
        from tokenizers import Tokenizer  # noqa: PLC0415

        path = Path(model_path) / "tokenizer.json"
        if not path.exists():
            raise ModelLoadError(f"{path} is missing: the embedding model folder needs a fast tokenizer (tokenizer.json).")
        self._tokenizer = Tokenizer.from_file(str(path))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.max_length = max_length  # most tokens the model takes, special ones included
        self._counts: dict[str, int] = {}

    def count(self, text: str) -> int:
        """Tokens of `text`, without the [CLS]/[SEP] the model adds."""
        known = self._counts.get(text)
        if known is not None:
            return known
        if len(self._counts) >= COUNT_CACHE:
            self._counts.clear()
        counted = self._counts[text] = len(self._tokenizer.encode(text, add_special_tokens=False).ids)
        return counted

    def model_inputs(self, texts: list[str]) -> list[np.ndarray] | None:
        """Each text's token ids as the model takes them ([CLS] ... [SEP]), so the process that embeds
        need not tokenize again; None when a text would need cutting to max_length (the model's own
        tokenizer then truncates it the usual way)."""
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=True)
        if self.max_length is not None and any(len(e.ids) > self.max_length for e in encodings):
            return None
        return [np.asarray(e.ids, dtype=np.int32) for e in encodings]
