"""PDF with pypdf, one page at a time, page numbers kept (1-based)."""
from __future__ import annotations

import logging
from pathlib import Path

from core.types import Section
from ingest.loaders.errors import LoadError

log = logging.getLogger(__name__)

PASSWORD_REASON = "password-protected PDF: remove the password to ingest it"
NO_TEXT_REASON = "PDF has no text layer (scanned?); OCR is not supported"


def read_pdf(path: Path) -> list[Section]:
    from pypdf import PdfReader  # noqa: PLC0415
    from pypdf.errors import FileNotDecryptedError, PdfReadError  # noqa: PLC0415

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    sections = []
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # many PDFs are "encrypted" with an empty user password
            except Exception:
                raise LoadError(PASSWORD_REASON) from None
            if not opened:
                raise LoadError(PASSWORD_REASON)
        pages = reader.pages
        if len(pages) == 0:
            raise LoadError("PDF has no pages")
        for number, page in enumerate(pages, start=1):
            try:
                text = page.extract_text() or ""
            except (FileNotDecryptedError, LoadError):
                raise
            except Exception as exc:  # one damaged page must not lose the others
                log.warning("%s: page %d unreadable (%s)", path, number, exc)
                continue
            text = text.replace("\x00", "").strip()
            if text:
                sections.append(Section(text=text, meta={"page": number}))
    except LoadError:
        raise
    except FileNotDecryptedError:
        raise LoadError(PASSWORD_REASON) from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise LoadError(f"corrupt or unreadable PDF ({exc.__class__.__name__}: {exc})") from None
    if not sections:
        raise LoadError(NO_TEXT_REASON)
    return sections
