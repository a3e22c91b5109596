"""Which files a reader handles: the table of extensions and the formats they name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Formats read as text: their content is not identified by magic bytes.
TEXT_FORMATS = {"text", "markdown", "rst", "csv", "json", "jsonl", "code", "eml", "html"}


@dataclass(frozen=True)
class Format:
    name: str  # "pdf", "docx", ... (the names `sniff.detect` returns, plus text formats)
    label: str  # what the docs and messages call it


def _code_formats() -> dict[str, Format]:
    from ingest.loaders.code import CODE_LANGUAGES  # a table, cheap

    return {ext: Format("code", "source code") for ext in CODE_LANGUAGES}


def formats() -> dict[str, Format]:
    """Extension (lower case, with the dot) -> format."""
    table = {
        ".pdf": Format("pdf", "PDF"),
        ".docx": Format("docx", "Word"),
        ".pptx": Format("pptx", "PowerPoint"),
        ".xlsx": Format("xlsx", "Excel"),
        ".xlsm": Format("xlsx", "Excel"),
        ".xls": Format("xls", "Excel 97-2003"),
        ".csv": Format("csv", "CSV"),
        ".tsv": Format("csv", "TSV"),
        ".txt": Format("text", "text"),
        ".text": Format("text", "text"),
        ".log": Format("text", "text"),
        ".md": Format("markdown", "Markdown"),
        ".markdown": Format("markdown", "Markdown"),
        ".rst": Format("rst", "reStructuredText"),
        ".html": Format("html", "HTML"),
        ".htm": Format("html", "HTML"),
        ".xhtml": Format("html", "HTML"),
        ".eml": Format("eml", "e-mail"),
        ".msg": Format("msg", "Outlook e-mail"),
        ".epub": Format("epub", "EPUB"),
        ".odt": Format("odt", "OpenDocument text"),
        ".rtf": Format("rtf", "RTF"),
        ".json": Format("json", "JSON"),
        ".jsonl": Format("jsonl", "JSON Lines"),
        ".ndjson": Format("jsonl", "JSON Lines"),
        ".png": Format("image", "image"),
        ".jpg": Format("image", "image"),
        ".jpeg": Format("image", "image"),
        ".tif": Format("image", "image"),
        ".tiff": Format("image", "image"),
        ".webp": Format("image", "image"),
    }
    table.update(_code_formats())
    return table


_FORMATS: dict[str, Format] | None = None


def table() -> dict[str, Format]:
    """Extension -> format, built once."""
    global _FORMATS  # a cache of the table, filled on first use
    if _FORMATS is None:
        _FORMATS = formats()
    return _FORMATS


def supported_extensions() -> list[str]:
    """Every extension a reader handles, lower case with the dot, sorted."""
    return sorted(table())


def is_supported(path: Path, images: bool = True) -> bool:
    """A reader handles `path`'s extension; `images`: count image files (read by OCR) as supported."""
    found = table().get(Path(path).suffix.lower())
    return found is not None and (images or found.name != "image")
