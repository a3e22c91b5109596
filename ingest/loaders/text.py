"""Plain text in whatever encoding it was written in, read in blocks of paragraphs."""

from __future__ import annotations

import codecs
import io
from pathlib import Path
from typing import Iterator

from core.types import Section
from ingest.loaders.errors import LoadError
from ingest.loaders.sniff import looks_binary, utf16_codec

_SAMPLE = 1 << 16  # bytes read to detect the encoding
BLOCK_CHARS = 32_000  # text is handed to the chunker in blocks of about this size
BINARY_REASON = "binary content, not text (wrong extension?)"


def detect_encoding(sample: bytes) -> str:
    """The codec of a text file from its first bytes: BOMs, UTF-8, UTF-16, else a charset guess.

    Among the legacy 8-bit encodings that fit equally well, Windows-1252 wins: it is a superset
    of Latin-1 for printable text and carries the euro sign.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    utf16 = utf16_codec(sample)
    if utf16:
        return utf16
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if len(sample) == _SAMPLE and exc.start >= len(sample) - 3:  # a character cut at the sample's end
            return "utf-8"
    from charset_normalizer import from_bytes

    results = list(from_bytes(sample))
    if not results:
        raise LoadError(BINARY_REASON)
    best = results[0]
    # Short samples make the guess noisy: encodings about as good as the best count as ties.
    ties = [r.encoding for r in results if r.chaos <= best.chaos + 0.02 and r.coherence >= best.coherence - 0.05]
    for preferred in ("cp1252", "latin_1", "iso8859_15"):
        if preferred in ties:
            return "cp1252" if preferred == "latin_1" else preferred
    return best.encoding


def _head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(_SAMPLE)


def open_text(path: Path) -> io.TextIOWrapper:
    """`path` opened as text in its detected encoding; `LoadError` for binary content."""
    head = _head(path)
    if looks_binary(head[:8192]):
        raise LoadError(BINARY_REASON)
    encoding = detect_encoding(head)
    return open(path, encoding=encoding, errors="replace", newline="")


def read_text_file(path: Path) -> str:
    """The whole text of `path`, decoded (for formats whose parser needs it all at once)."""
    with open_text(path) as handle:
        return handle.read()


def blocks(lines: Iterator[str], size: int = BLOCK_CHARS) -> Iterator[str]:
    """Lines joined into blocks of about `size` characters, cut at blank lines where possible."""
    block: list[str] = []
    length = 0
    for line in lines:
        block.append(line)
        length += len(line)
        if length >= size and (not line.strip() or length >= 2 * size):
            yield "".join(block)
            block, length = [], 0
    if block:
        yield "".join(block)


def read_text(path: Path) -> list[Section]:
    """A text file as blocks of paragraphs, streamed: memory stays in proportion to the file."""
    with open_text(path) as handle:
        sections = [Section(text=block.strip()) for block in blocks(handle) if block.strip()]
    if not sections:
        raise LoadError("no text: the file holds only whitespace")
    return sections
