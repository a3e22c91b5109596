"""EPUB, ODT, RTF and reStructuredText through pandoc (bundled by pypandoc-binary), read as HTML."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from core.types import Section
from ingest.loaders.errors import LoadError
from ingest.loaders.html import sections_from_html
from ingest.loaders.text import read_text, read_text_file

log = logging.getLogger(__name__)

PANDOC_TIMEOUT_S = 300


def _pandoc_binary() -> str:
    try:
        import pypandoc

        return pypandoc.get_pandoc_path()
    except (ImportError, OSError) as exc:
        raise LoadError(f"pandoc is not available ({exc}); reinstall localgpt (pypandoc-binary)") from None


def to_html(path: Path, fmt: str) -> str:
    """`path` converted by pandoc from `fmt` to HTML; `LoadError` with pandoc's reason when it fails."""
    command = [_pandoc_binary(), "--from", fmt, "--to", "html", "--wrap=none", str(path)]
    try:
        done = subprocess.run(command, capture_output=True, timeout=PANDOC_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise LoadError(f"pandoc took over {PANDOC_TIMEOUT_S}s to read the file") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise LoadError(f"corrupt or unreadable {fmt.upper()} file ({message[-1] if message else 'pandoc failed'})")
    return done.stdout.decode("utf-8", "replace")


def _read(path: Path, fmt: str, what: str) -> list[Section]:
    sections = sections_from_html(to_html(path, fmt))
    if not sections:
        raise LoadError(f"no text found in the {what}")
    return sections


def read_epub(path: Path) -> list[Section]:
    return _read(path, "epub", "book")


def read_odt(path: Path) -> list[Section]:
    return _read(path, "odt", "document")


def read_rtf(path: Path) -> list[Section]:
    try:
        return _read(path, "rtf", "document")
    except LoadError as exc:  # pandoc's RTF reader is strict; striprtf reads what it can
        from striprtf.striprtf import rtf_to_text

        text = rtf_to_text(read_text_file(path), errors="ignore").strip()
        if not text:
            raise exc
        log.info("%s: pandoc failed (%s); read with striprtf", path, exc)
        return [Section(text=text)]


def read_rst(path: Path) -> list[Section]:
    try:
        return _read(path, "rst", "document")
    except LoadError as exc:
        log.info("%s: pandoc could not parse the RST (%s); read as plain text", path, exc)
        return read_text(path)
