"""A PDF page as a PNG (PDFium), with the evidence sentence drawn over it as a translucent box.

The sentence is found in the page's own text layer (pypdfium2's text page): the page text and the
sentence are compared with whitespace collapsed and case ignored, and the character range found
is turned into PDFium's line rectangles, which are drawn on the rendered image.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from core.display import plural
from core.errors import LocalGPTError

DEFAULT_SCALE = 1.5  # 108 dpi: readable on a laptop, about 150 kB a page
MAX_SCALE = 4.0
HIGHLIGHT_FILL = (255, 214, 0, 90)  # translucent yellow
HIGHLIGHT_EDGE = (230, 160, 0, 200)
_SPACE = re.compile(r"\s+")


class PageError(LocalGPTError):
    """A page that cannot be shown: not a PDF, no such page, an unreadable file."""


@dataclass(frozen=True)
class RenderedPage:
    png: bytes
    highlighted: int  # rectangles drawn (0: no highlight asked, or the sentence was not found on the page)


def _folded(text: str) -> tuple[str, list[int]]:
    """`text` with whitespace runs made one space and lower-cased, and for each of its characters
    the index of the character it came from."""
    out: list[str] = []
    where: list[int] = []
    pending_space = False
    for i, ch in enumerate(text):
        if ch.isspace() or ch in "\x00\ufffe\u00ad":
            pending_space = bool(out)
            continue
        if pending_space:
            out.append(" ")
            where.append(i - 1)
            pending_space = False
        out.append(ch.lower())
        where.append(i)
    return "".join(out), where


def find_sentence(page_text: str, sentence: str) -> tuple[int, int] | None:
    """(first char index, count) of `sentence` in `page_text`, whitespace and case ignored; when the whole
    sentence is not found (it ran over a page break, a hyphenated word), its longest leading part that is."""
    hay, where = _folded(page_text)
    needle = _SPACE.sub(" ", sentence).strip().lower()
    if not needle or not hay:
        return None
    at = hay.find(needle)
    length = len(needle)
    while at < 0 and length > 20:
        length = int(length * 0.7)
        at = hay.find(needle[:length])
    if at < 0:
        return None
    first, last = where[at], where[at + length - 1]
    return first, last - first + 1


def render_page(path: Path, page: int, highlight: str = "", scale: float = DEFAULT_SCALE) -> RenderedPage:
    """Page `page` (1-based) of the PDF at `path` as PNG bytes, `highlight` boxed where it is found."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    if path.suffix.lower() != ".pdf":
        raise PageError(f"{path.name} is not a PDF: only PDF pages are rendered; show the passage text instead.")
    scale = min(max(scale, 0.25), MAX_SCALE)
    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise PageError(f"{path.name} could not be opened as a PDF: {exc}") from None
    try:
        if not 1 <= page <= len(document):
            raise PageError(f"{path.name} has {plural(len(document), 'page')}; page {page} does not exist.")
        pdf_page = document[page - 1]
        image = pdf_page.render(scale=scale).to_pil().convert("RGBA")
        drawn = 0
        if highlight.strip():
            text_page = pdf_page.get_textpage()
            found = find_sentence(text_page.get_text_range(), highlight)
            if found:
                height = pdf_page.get_height()
                overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
                draw = ImageDraw.Draw(overlay)
                first, count = found
                for i in range(text_page.count_rects(first, count)):
                    left, bottom, right, top = text_page.get_rect(i)
                    box = (
                        left * scale - 2,
                        (height - top) * scale - 2,
                        right * scale + 2,
                        (height - bottom) * scale + 2,
                    )
                    draw.rectangle(box, fill=HIGHLIGHT_FILL, outline=HIGHLIGHT_EDGE)
                    drawn += 1
                image = Image.alpha_composite(image, overlay)
            text_page.close()
        pdf_page.close()
    finally:
        document.close()
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", optimize=False)
    return RenderedPage(buffer.getvalue(), drawn)
