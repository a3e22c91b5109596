"""Readers, one per format family, behind one function: `load_file(path) -> list[Section]`.

The extension picks the reader (case-insensitively), but the content decides: a file whose
bytes show another supported format (a PDF renamed .docx, an HTML page saved as .pdf) is read
by the reader of what it really is; one that shows an unsupported format or binary junk where
text was expected fails with a reason. Every failure is a `LoadError` whose message is the
reason shown to the user ("password-protected PDF: ...", "corrupt image: ..."); nothing a
reader raises escapes as another exception. Scanned pages and images are read by OCR, as
`OcrOptions` say (ingest/ocr).
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import zipfile
from pathlib import Path
from typing import Callable

from core.types import Section
from ingest.loaders.errors import LoadError
from ingest.loaders.formats import TEXT_FORMATS as _TEXT_FORMATS
from ingest.loaders.formats import Format, formats, is_supported, supported_extensions
from ingest.loaders.formats import table as _table
from ingest.ocr import OcrOptions

log = logging.getLogger(__name__)

Reader = Callable[[Path], list[Section]]


def _reader(name: str, depth: int, ocr: OcrOptions) -> Reader:
    # Imported here so that importing `ingest.loaders` stays cheap (worker processes import it).
    from ingest.loaders import code, data, html, image, mail, office, pandoc, pdf, tabular, text

    def nested(path: Path, inner_depth: int) -> list[Section]:
        return _load(path, None, inner_depth, ocr)

    readers: dict[str, Reader] = {
        "pdf": lambda p: pdf.read_pdf(p, ocr),
        "image": lambda p: image.read_image(p, ocr),
        "docx": office.read_docx,
        "pptx": office.read_pptx,
        "xlsx": tabular.read_xlsx,
        "xls": tabular.read_xls,
        "csv": tabular.read_csv,
        "text": text.read_text,
        "markdown": html.read_markdown,
        "rst": pandoc.read_rst,
        "html": html.read_html,
        "eml": lambda p: mail.read_eml(p, nested, depth),
        "msg": lambda p: mail.read_msg(p, nested, depth),
        "epub": pandoc.read_epub,
        "odt": pandoc.read_odt,
        "rtf": pandoc.read_rtf,
        "json": data.read_json,
        "jsonl": data.read_jsonl,
        "code": code.read_code,
    }
    return readers[name]


def _mb(size: float) -> str:
    return f"{size / 1e6:.0f}" if size >= 1e7 else f"{size / 1e6:.1f}"


def _check_file(path: Path, max_bytes: int | None) -> int:
    """The file's size; `LoadError` for what cannot be read at all, before any reading."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise LoadError(f"broken symbolic link: its target {os.readlink(path)} does not exist") from None
        raise LoadError("file not found (deleted during the run?)") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LoadError("symbolic link loop: the link points back to itself") from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise LoadError("permission denied: cannot read the file (check its permissions)") from None
        raise LoadError(f"cannot read the file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise LoadError("not a regular file")
    if max_bytes is not None and info.st_size > max_bytes:
        raise LoadError(
            f"file is {_mb(info.st_size)} MB, above the {_mb(max_bytes)} MB limit (--max-file-mb); raise the limit to ingest it"
        )
    if info.st_size == 0:
        raise LoadError("empty file (0 bytes)")
    return info.st_size


def _actual_format(path: Path, expected: Format) -> str:
    """The format to read `path` as: what its bytes show, where that differs from its extension."""
    from ingest.loaders import sniff

    with open(path, "rb") as handle:
        head = handle.read(8192)
    found = sniff.detect(path, head)
    if found is None and expected.name == "pdf" and b"%PDF-" in head[:1024]:
        found = "pdf"  # the PDF header may follow up to 1 KB of junk; only trusted under .pdf
    if found is None:
        if expected.name in _TEXT_FORMATS:
            if sniff.looks_binary(head):
                raise LoadError("binary content, not text (wrong extension?)")
            return expected.name
        raise LoadError(
            f"not a valid {expected.label} file: its content is not {expected.label} (wrong extension, or damaged)"
        )
    if found == expected.name:
        return found
    if found == "html" and expected.name in _TEXT_FORMATS:
        return expected.name  # HTML inside a text format (a .md page, an .eml) is that format's business
    if found in sniff.UNSUPPORTED_NAMES:
        raise LoadError(f"the file is {sniff.UNSUPPORTED_NAMES[found]}, not {expected.label} (wrong extension?)")
    log.warning("%s: content is %s, not what the extension %s says; reading it as %s", path, found, path.suffix, found)
    return found


# Formats whose readers' own failures name the format: "corrupt or unreadable XLSX file (...)".
_NAMED_WHEN_DAMAGED = {"docx": "DOCX", "pptx": "PPTX", "xlsx": "XLSX", "xls": "XLS", "msg": "Outlook MSG"}
_ZIP_CONTAINERS = ("docx", "pptx")


def read_failure(exc: BaseException, fmt: str | None = None) -> LoadError:
    """Why a file could not be read, in the user's words: the one place that turns an exception met
    while reading (`fmt`: the format it was read as, if known) into a `LoadError`."""
    if isinstance(exc, LoadError):
        return exc
    if isinstance(exc, PermissionError):
        return LoadError("permission denied: cannot read the file (check its permissions)")
    if isinstance(exc, MemoryError):
        return LoadError("out of memory reading the file; lower --max-file-mb to skip files this large")
    if isinstance(exc, RecursionError):
        return LoadError("the file is nested too deeply to read (damaged?)")
    kind = _NAMED_WHEN_DAMAGED.get(fmt or "")
    if kind and fmt in _ZIP_CONTAINERS and isinstance(exc, zipfile.BadZipFile):
        return LoadError(f"corrupt {kind} file (not a valid ZIP container)")
    if kind:
        return LoadError(f"corrupt or unreadable {kind} file ({exc.__class__.__name__}: {exc})")
    if isinstance(exc, OSError):
        return LoadError(f"cannot read the file: {exc.strerror or exc}")
    return LoadError(f"could not read the file ({exc.__class__.__name__}: {exc})")


def _load(path: Path, max_bytes: int | None, depth: int, ocr: OcrOptions) -> list[Section]:
    path = Path(path)
    expected = _table().get(path.suffix.lower())
    if expected is None:
        raise LoadError(f"unsupported file type {path.suffix or '(no extension)'}")
    _check_file(path, max_bytes)
    name = None
    try:
        name = _actual_format(path, expected)
        sections = _reader(name, depth, ocr)(path)
    except Exception as exc:  # a parser's own failure on a malformed file must not end the run
        if not isinstance(exc, LoadError):
            log.debug("reader failed on %s", path, exc_info=True)
        raise read_failure(exc, name) from None
    sections = [s for s in sections if s.text.strip()]
    if not sections:
        raise LoadError("no text found in the file")
    return sections


def load_file(path: Path, max_bytes: int | None = None, ocr: OcrOptions | None = None) -> list[Section]:
    """The sections of one file; `LoadError` says why when it cannot be read.

    Files above `max_bytes` fail without being read. `ocr`: what to do about scanned pages and
    images (default: OCR them where there is no usable text).
    """
    return _load(Path(path), max_bytes, 0, ocr or OcrOptions())


__all__ = [
    "Format",
    "LoadError",
    "OcrOptions",
    "Reader",
    "formats",
    "is_supported",
    "load_file",
    "supported_extensions",
]
