"""PDF with PDFium (pypdfium2), one page at a time, page numbers kept (1-based).

PDFium is Chrome's PDF engine: it read the R manuals' text 14x faster than pypdf (0.28 s against
3.85 s for R-intro, R-data and R-admin), which was most of the CPU an ingest spends reading.

A page with no usable text layer (ingest/ocr/usable.py says which) is rendered, alone, to a
grayscale image and OCRed (--ocr auto); --ocr force OCRs every page; --ocr off leaves such
pages out. Only one page image exists at a time.

The text layer is cleaned of what repeats on every page (running headers and footers, page
numbers: ingest/loaders/pdf_layout.py), cut where a bookmark's section begins on a page (the text
above it keeps the previous section's heading), and a page that only lists other pages (a table
of contents, an index) is marked `listing`.
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from pathlib import Path

from core.types import Section
from ingest.loaders.errors import LoadError
from ingest.loaders.pdf_layout import is_listing, split_at_headings, strip_running_lines
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
# TeX draws an accent as its own spacing character before the letter ("Wirtschaftsuniversit¨at"):
# it is joined to the letter as the combining mark, then composed (NFC: "ä"), so a search for
# "Wirtschaftsuniversität" finds it. Only the non-ASCII spacing accents: ` ^ ~ are code too often.
_SPACING_ACCENTS = {
    "\u00a8": "\u0308",
    "\u00b4": "\u0301",
    "\u02c6": "\u0302",
    "\u02dc": "\u0303",
    "\u00b8": "\u0327",
    "\u02da": "\u030a",
    "\u02c7": "\u030c",
    "\u02d8": "\u0306",
    "\u00af": "\u0304",
    "\u02d9": "\u0307",
    "\u02dd": "\u030b",
    "\u02db": "\u0328",
}
_ACCENT_THEN_LETTER = re.compile(f"([{''.join(_SPACING_ACCENTS)}])([^\\W\\d_])")


def _accented(match: re.Match) -> str:
    letter = "i" if match.group(2) == "\u0131" else match.group(2)  # TeX's dotless i under an accent
    composed = unicodedata.normalize("NFC", letter + _SPACING_ACCENTS[match.group(1)])
    return composed if len(composed) == 1 else match.group(0)


def _clean(text: str) -> str:
    text = _LINE_ENDS.sub("\n", text).replace("\ufffe", "").replace("\x00", "")
    return unicodedata.normalize("NFC", _ACCENT_THEN_LETTER.sub(_accented, text)).strip()


# Most bookmarks read for heading paths (a PDF may carry many thousands: refman's index).
MAX_BOOKMARKS = 5000


def _title(document) -> str:
    try:
        return " ".join(str(document.get_metadata_dict().get("Title", "")).split())
    except Exception:  # noqa: BLE001 (broken metadata only costs the title)
        return ""


def _bookmark(item) -> tuple[str, int | None]:
    """(title, 0-based page index or None) of a bookmark, from pypdfium2 5 (methods) or 4 (attributes)."""
    if hasattr(item, "get_title"):
        dest = item.get_dest()
        page = dest.get_index() if dest is not None else None
        return " ".join((item.get_title() or "").split()), page
    return " ".join((item.title or "").split()), item.page_index


class _Quiet(logging.Filter):
    """Drops pypdfium2's notes on bookmark depth and circular bookmarks (logged at debug here instead)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "recursion depth" in message or "circular bookmark" in message:
            log.debug("bookmarks: %s", message)
            return False
        return True


def _page_headings(document, pages: int) -> tuple[list[str], list[list[tuple[str, str]]]]:
    """From the PDF's bookmarks: for each page, the heading path in force where it starts
    ("5 Arrays > 5.1 Arrays": the path of the last bookmark that begins before it), and the
    (title, path) of the bookmarks that begin on it, in order. Empty when the PDF has none."""
    before = [""] * pages
    starts: list[list[tuple[str, str]]] = [[] for _ in range(pages)]
    marks: list[tuple[int, str, str]] = []  # (page index, title, path)
    path: list[str] = []
    toc_log = logging.getLogger("pypdfium2._helpers.document")
    quiet = _Quiet()  # "Maximum recursion depth 4 reached (subtree skipped)": we ask for 4 levels on purpose
    toc_log.addFilter(quiet)
    try:
        for n, item in enumerate(document.get_toc(max_depth=4)):
            if n >= MAX_BOOKMARKS:
                break
            title, page = _bookmark(item)
            del path[item.level :]
            path.append(title)
            if page is not None and title and 0 <= page < pages:
                marks.append((page, title, " > ".join(p for p in path if p)))
    except Exception:  # broken bookmarks only cost the headings
        log.debug("unreadable bookmarks", exc_info=True)
        return before, starts
    finally:
        toc_log.removeFilter(quiet)
    marks.sort(key=lambda m: m[0])  # stable: bookmarks of one page keep their order
    current = ""
    at = 0
    for page in range(pages):
        before[page] = current
        while at < len(marks) and marks[at][0] == page:
            starts[page].append((marks[at][1], marks[at][2]))
            current = marks[at][2]
            at += 1
    return before, starts


def _drawn(page) -> tuple[float, int]:
    """The share of the page its images cover (0-1, overlaps counted twice) and its vector paths."""
    import pypdfium2.raw as pdfium_c

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
        log.warning(
            "%s: page %d is %.0fx%.0f cm: rendered at %.0f dpi to stay under the %g megapixel limit "
            "(--ocr-max-megapixels)",
            path,
            number,
            width / 72 * 2.54,
            height / 72 * 2.54,
            scale * 72,
            max_pixels / 1e6,
        )
    return scale


def _ocr_page(page, path: Path, number: int, options: OcrOptions, text_layer: str) -> Section | None:
    from ingest.ocr.pages import ocr_section

    scale = _scale(page, path, number, options.max_pixels)
    bitmap = page.render(scale=scale, grayscale=True)
    try:
        return ocr_section(path, number, bitmap.to_pil(), round(scale * 72), options, text_layer)
    finally:
        bitmap.close()


def read_pdf(path: Path, ocr: OcrOptions | None = None) -> list[Section]:
    import pypdfium2 as pdfium

    from ingest.ocr.usable import clearly_usable, needs_ocr

    options = ocr or OcrOptions()
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise LoadError(PASSWORD_REASON) from None
        raise LoadError(f"corrupt or unreadable PDF ({exc})") from None
    sections: list[Section] = []
    text_pages: list[tuple[int, str]] = []  # (page number, text layer) of the pages read as text
    ocr_tried = False
    rendered = 0
    try:
        if len(document) == 0:
            raise LoadError("PDF has no pages")
        title = _title(document)
        before, starts = _page_headings(document, len(document))
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
                text_pages.append((number, text))
    finally:
        document.close()
    cleaned = strip_running_lines([text for _, text in text_pages])
    for (number, _), text in zip(text_pages, cleaned):
        if not text:
            continue
        listing = is_listing(text)
        for piece, heading in split_at_headings(text, before[number - 1], starts[number - 1]):
            meta = {"page": number, **({"title": title} if title else {})}
            if heading:
                meta["heading"] = heading
            if listing:
                meta["listing"] = True
            sections.append(Section(text=piece, meta=meta))
    sections.sort(key=lambda s: s.meta.get("page", 0))
    if not sections:
        if options.mode == "off":
            raise LoadError(NO_TEXT_REASON)  # today's message, as before OCR: --ocr off changes nothing
        raise LoadError(OCR_FOUND_NOTHING_REASON if ocr_tried else NOTHING_TO_OCR_REASON)
    return sections
