"""Counting tokens the way the embedding model does, without loading the model."""
from __future__ import annotations

from pathlib import Path

from core.errors import ModelLoadError


class TokenCounter:
    """The embedding model's own tokenizer (tokenizer.json), light enough for worker processes."""

    def __init__(self, model_path: Path):
        from tokenizers import Tokenizer  # noqa: PLC0415

        path = Path(model_path) / "tokenizer.json"
        if not path.exists():
            raise ModelLoadError(f"{path} is missing: the embedding model folder needs a fast tokenizer (tokenizer.json).")
        self._tokenizer = Tokenizer.from_file(str(path))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()

    def count(self, text: str) -> int:
        """Tokens of `text`, without the [CLS]/[SEP] the model adds."""
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def count_many(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self._tokenizer.encode_batch(texts, add_special_tokens=False)]
