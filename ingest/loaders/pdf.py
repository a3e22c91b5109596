"""PDF with pypdf, one page at a time, page numbers kept (1-based)."""
from __future__ import annotations

import logging
from pathlib import Path

from core.types import Section
from ingest.loaders.errors import LoadError

log = logging.getLogger(__name__)


def read_pdf(path: Path) -> list[Section]:
    from pypdf import PdfReader  # noqa: PLC0415
    from pypdf.errors import PdfReadError  # noqa: PLC0415

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise LoadError("password-protected PDF: remove the password to ingest it")
            except LoadError:
                raise
            except Exception:
                raise LoadError("password-protected PDF: remove the password to ingest it") from None
        sections = []
        for number, page in enumerate(reader.pages, start=1):
            text = (page.extract_text() or "").strip()
            if text:
                sections.append(Section(text=text, meta={"page": number}))
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LoadError(f"corrupt or unreadable PDF ({exc.__class__.__name__}: {exc})") from None
    if not sections:
        raise LoadError("PDF has no text layer (a scanned document?); OCR is not supported")
    return sections
