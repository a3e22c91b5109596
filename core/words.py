"""Words of a text, split by one set of Unicode-aware rules for every stage.

Three views of the same rule (a letter or digit of any script is part of a word):

- `tokens`: what the full-text index keys on (SQLite FTS5's unicode61 tokenizer: runs of
  letters and digits; underscores, hyphens and dots split), lower case;
- `words`: words as a reader sees them, starting with a letter, keeping inner digits,
  apostrophes and hyphens ("don't", "e-mail", "Übergabe", "utf8"), lower case;
- `term_words`: terms for matching sentences to questions, letters and digits with inner
  dots and hyphens kept ("14.2", "max-age", "straße"), lower case.

"Übergabe" is one word in all three; ASCII-only rules made it "bergabe".
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[^\W_]+")
_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*[^\W_])?")
_WORD_OR_NUMBER = re.compile(r"[^\W_](?:[\w'’-]*[^\W_])?")
_TERM = re.compile(r"[^\W_]+(?:[-.][^\W_]+)*")


def tokens(text: str) -> list[str]:
    """Runs of letters and digits, lower case: the full-text index's own tokens."""
    return _TOKEN.findall(text.lower())


def words(text: str, numbers: bool = False) -> list[str]:
    """Words starting with a letter (or, with `numbers`, with a digit too), lower case."""
    return (_WORD_OR_NUMBER if numbers else _WORD).findall(text.lower())


def raw_words(text: str) -> list[str]:
    """Words starting with a letter, as written (case kept)."""
    return _WORD.findall(text)


def term_words(text: str) -> list[str]:
    """Letters and digits with inner dots and hyphens, lower case: terms for matching."""
    return _TERM.findall(text.lower())
