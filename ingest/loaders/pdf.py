"""PDF with PDFium (pypdfium2), one page at a time, page numbers kept (1-based).

PDFium is Chrome's PDF engine: it read the R manuals' text 14x faster than pypdf (0.28 s against
3.85 s for R-intro, R-data and R-admin), which was most of the CPU an ingest spends reading.

A page with no usable text layer (ingest/ocr/usable.py says which) is rendered, alone, to a
grayscale image and OCRed (--ocr auto); --ocr force OCRs every page; --ocr off leaves such
pages out. Only one page image exists at a time.
"""
from __future__ import annotations

import logging
import math
import re
from pathlib import Path

from core.types import Section
from ingest.loaders.errors import LoadError
from ingest.ocr import OcrOptions

log = logging.getLogger(__name__)

PASSWORD_REASON = "password-protected PDF: remove the password to ingest it"
NO_TEXT_REASON = "PDF has no text layer (scanned?); OCR is not supported"
NOTHING_TO_OCR_REASON = "PDF has no text: no text layer, and no page holds an image or drawing to OCR"
OCR_FOUND_NOTHING_REASON = "PDF has no text layer, and OCR found no text on its pages"
# Pages are rendered for OCR at this resolution: Tesseract's character error rate on the R manuals and
# the Debian Reference was as low at 200 dpi as at 300, at half the pixels (benchmarks/ocr.py --dpi).
OCR_DPI = 200
# PDFium keeps what it decoded for a page in caches of the document until it is closed (about 0.3 MB a
# page here): a long scan is reopened after this many rendered pages, so memory stays flat.
REOPEN_AFTER = 25

# PDFium ends lines with \r\n and puts U+FFFE where a word was hyphenated across a line break
# ("pack\ufffeages"): the word is joined again, so a search for "packages" finds it.
_LINE_ENDS = re.compile(r"\r\n?")


def _clean(text: str) -> str:
    return _LINE_ENDS.sub("\n", text).replace("\ufffe", "").replace("\x00", "").strip()


def _drawn(page) -> tuple[float, int]:
    """The share of the page its images cover (0-1, overlaps counted twice) and its vector paths."""
    import pypdfium2.raw as pdfium_c  # noqa: PLC0415

    width, height = page.get_size()
    area = max(width * height, 1.0)
    cover, paths = 0.0, 0
    for obj in page.get_objects(max_depth=3):
        if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            left, bottom, right, top = obj.get_bounds()
            cover += max(0.0, min(right, width) - max(left, 0.0)) * max(0.0, min(top, height) - max(bottom, 0.0)) / area
        elif obj.type == pdfium_c.FPDF_PAGEOBJ_PATH:
            paths += 1
    return min(cover, 1.0), paths


def _scale(page, path: Path, number: int, max_pixels: int) -> float:
    """OCR_DPI, or less for a page so large its image would pass the pixel limit."""
    width, height = page.get_size()
    scale = OCR_DPI / 72
    if width * height * scale * scale > max_pixels:
        scale = math.sqrt(max_pixels / max(width * height, 1.0))
        log.warning("%s: page %d is %.0fx%.0f cm: rendered at %.0f dpi to stay under the %g megapixel limit "
                    "(--ocr-max-megapixels)", path, number, width / 72 * 2.54, height / 72 * 2.54, scale * 72, max_pixels / 1e6)
    return scale


def _ocr_page(page, path: Path, number: int, options: OcrOptions, text_layer: str) -> Section | None:
    from ingest.ocr.pages import ocr_section  # noqa: PLC0415

    scale = _scale(page, path, number, options.max_pixels)
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        return ocr_section(path, number, bitmap.to_pil(), round(scale * 72), options, text_layer)
    finally:
        bitmap.close()


def read_pdf(path: Path, ocr: OcrOptions | None = None) -> list[Section]:
    import pypdfium2 as pdfium  # noqa: PLC0415

    from ingest.ocr.usable import clearly_usable, needs_ocr  # noqa: PLC0415

    options = ocr or OcrOptions()
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise LoadError(PASSWORD_REASON) from None
        raise LoadError(f"corrupt or unreadable PDF ({exc})") from None
    sections = []
    ocr_tried = False
    rendered = 0
    try:
        if len(document) == 0:
            raise LoadError("PDF has no pages")
        for number in range(1, len(document) + 1):
            if rendered >= REOPEN_AFTER:
                document.close()
                document = pdfium.PdfDocument(str(path))
                rendered = 0
            try:
                page = document[number - 1]
                try:
                    textpage = page.get_textpage()
                    try:
                        text = _clean(textpage.get_text_range())
                    finally:
                        textpage.close()
                    scan = options.mode == "force" or (
                        options.mode == "auto" and not clearly_usable(text) and needs_ocr(text, *_drawn(page))
                    )
                    if scan:
                        ocr_tried = True
                        rendered += 1
                        section = _ocr_page(page, path, number, options, "" if options.mode == "force" else text)
                        if section is not None:
                            sections.append(section)
                        continue
                finally:
                    page.close()
            except pdfium.PdfiumError as exc:  # one damaged page must not lose the others
                log.warning("%s: page %d unreadable (%s)", path, number, exc)
                continue
            if text:
                sections.append(Section(text=text, meta={"page": number}))
    finally:
        document.close()
    if not sections:
        if options.mode == "off":
            raise LoadError(NO_TEXT_REASON)  # today's message, as before OCR: --ocr off changes nothing
        raise LoadError(OCR_FOUND_NOTHING_REASON if ocr_tried else NOTHING_TO_OCR_REASON)
    return sections
