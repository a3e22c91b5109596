"""Counting tokens the way the embedding model does, without loading the model."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from pathlib import Path
from typing import Callable

import numpy as np

from core.errors import ModelLoadError

COUNT_CACHE = 1 << 16  # strings whose count is remembered (the splitter asks about the same words and pieces again)


class TokenCounter:
    """The embedding model's own tokenizer (tokenizer.json), light enough for worker processes."""

    def __init__(self, model_path: Path, max_length: int | None = None):
        from tokenizers import Tokenizer

        path = Path(model_path) / "tokenizer.json"
        if not path.exists():
            raise ModelLoadError(
                f"{path} is missing: the embedding model folder needs a fast tokenizer (tokenizer.json)."
            )
        self._tokenizer = Tokenizer.from_file(str(path))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self.max_length = max_length  # most tokens the model takes, special ones included
        self._counts: dict[str, int] = {}
        self._word_local = _tokens_stay_within_words(self._tokenizer)

    def count(self, text: str) -> int:
        """Tokens of `text`, without the [CLS]/[SEP] the model adds."""
        known = self._counts.get(text)
        if known is not None:
            return known
        if len(self._counts) >= COUNT_CACHE:
            self._counts.clear()
        counted = self._counts[text] = len(self._tokenizer.encode(text, add_special_tokens=False).ids)
        return counted

    def piece_counter(self, text: str) -> Callable[[str], int]:
        """A count for pieces of `text` (what a splitter asks about) that tokenizes `text` once.

        With a BERT-style tokenizer (each word, cut at spaces and punctuation, tokenized on its own)
        a piece that begins and ends at word boundaries has exactly the tokens of `text` that lie
        within it, so its count is read off the offsets of `text`'s tokens. A piece that does not
        (cut inside a word, or not found in `text`) is tokenized; so is every piece with another
        kind of tokenizer. A splitter counts each character about five times over; this once."""
        if not self._word_local:
            return self.count
        encoding = self._tokenizer.encode(text, add_special_tokens=False)
        starts = [a for a, _ in encoding.offsets]
        ends = [b for _, b in encoding.offsets]
        words = encoding.word_ids
        total = len(starts)
        counts: dict[str, int] = {}

        def count(piece: str) -> int:
            known = counts.get(piece)
            if known is not None:
                return known
            at = text.find(piece)
            if at < 0:
                return self.count(piece)
            end = at + len(piece)
            first = bisect_left(starts, at)  # the first token that starts within the piece
            after = bisect_right(ends, end)  # the first token that ends beyond it
            if first > 0 and (ends[first - 1] > at or (first < total and words[first] == words[first - 1])):
                return self.count(piece)  # the piece begins inside a token, or between two of one word
            if after < total and (starts[after] < end or (after > 0 and words[after] == words[after - 1])):
                return self.count(piece)  # it ends inside one
            counted = counts[piece] = max(0, after - first)
            return counted

        return count

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        """Where each of `text`'s tokens lies in it: (start, end) character offsets."""
        return self._tokenizer.encode(text, add_special_tokens=False).offsets

    def counts_and_inputs(self, texts: list[str]) -> tuple[list[int], list[np.ndarray] | None]:
        """Each text's count (as `count`) and its token ids as the model takes them ([CLS] ... [SEP]),
        from one pass, so the process that embeds need not tokenize again. The ids are None when a
        text would need cutting to max_length (the model's own tokenizer then truncates it the usual way)."""
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=True)
        specials = [sum(e.special_tokens_mask) for e in encodings]
        counts = [len(e.ids) - n for e, n in zip(encodings, specials)]
        if self.max_length is not None and any(len(e.ids) > self.max_length for e in encodings):
            return counts, None
        return counts, [np.asarray(e.ids, dtype=np.int32) for e in encodings]


def _tokens_stay_within_words(tokenizer) -> bool:
    """True for a WordPiece tokenizer that cuts words at spaces and punctuation (BERT and its kin,
    the bundled model among them): a word's tokens then do not depend on its neighbours."""
    from tokenizers import models, normalizers, pre_tokenizers

    return (
        isinstance(tokenizer.model, models.WordPiece)
        and isinstance(tokenizer.pre_tokenizer, pre_tokenizers.BertPreTokenizer)
        and (tokenizer.normalizer is None or isinstance(tokenizer.normalizer, normalizers.BertNormalizer))
    )
