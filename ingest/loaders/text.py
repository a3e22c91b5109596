"""Plain text in whatever encoding it was written in."""
from __future__ import annotations

from pathlib import Path

from core.types import Section
from ingest.loaders.errors import LoadError


def decode_bytes(data: bytes) -> str:
    """Text of `data`, its encoding detected (UTF-8, UTF-16, Latin-1, Windows-1252, ...)."""
    if not data:
        return ""
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(codec)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # noqa: PLC0415

    best = from_bytes(data).best()
    if best is None:
        raise LoadError("binary content, not text (wrong extension?)")
    return str(best)


def read_text_file(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError("binary content, not text (wrong extension?)")
    return decode_bytes(data)


def read_text(path: Path) -> list[Section]:
    text = read_text_file(path).strip()
    if not text:
        raise LoadError("empty file: no text")
    return [Section(text=text)]
