"""Readers, one per format. Each takes a path and returns the document's `Section`s.

A reader raises `LoadError` with a reason a user understands ("password-protected PDF",
"no text layer (scanned?); OCR is not supported") for a file it cannot read.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from core.types import Section
from ingest.loaders.errors import LoadError

Reader = Callable[[Path], list[Section]]


def _readers() -> dict[str, Reader]:
    # Imported here so that importing `ingest.loaders` stays cheap (worker processes import it).
    from ingest.loaders import markup, pdf, tabular, text  # noqa: PLC0415

    return {
        ".pdf": pdf.read_pdf,
        ".txt": text.read_text,
        ".md": markup.read_markdown,
        ".markdown": markup.read_markdown,
        ".html": markup.read_html,
        ".htm": markup.read_html,
        ".docx": markup.read_docx,
        ".csv": tabular.read_csv,
    }


_READERS: dict[str, Reader] | None = None


def readers() -> dict[str, Reader]:
    global _READERS  # a cache of the table, filled on first use
    if _READERS is None:
        _READERS = _readers()
    return _READERS


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in readers()


def load_file(path: Path) -> list[Section]:
    """The sections of one file; `LoadError` says why when it cannot be read."""
    reader = readers().get(path.suffix.lower())
    if reader is None:
        raise LoadError(f"unsupported file type {path.suffix or '(none)'}")
    try:
        return reader(path)
    except LoadError:
        raise
    except PermissionError:
        raise LoadError("permission denied: cannot read the file") from None
    except OSError as exc:
        raise LoadError(f"cannot read the file: {exc.strerror or exc}") from None


__all__ = ["LoadError", "Reader", "is_supported", "load_file", "readers"]
