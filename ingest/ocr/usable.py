"""When a PDF page's text layer is not usable, so that the page is OCRed (with --ocr auto).

A page's text layer is not usable when it
- holds fewer than MIN_CHARACTERS letters and digits: no text layer at all (a scan), or only what
  a scanner or a fax adds (a page number, "Page 3 of 7", a date stamp), or
- is mostly characters no reader can use: U+FFFD, private-use code points, control characters
  (a font without a Unicode map gives these for every glyph), or
- is short (fewer than SHORT_TEXT letters and digits) on a page an image covers by more than
  half: a scan with a stamped header, a Bates number or a short text box on top.

Such a page is OCRed only when something on it could be text: an image covering at least
MIN_IMAGE_COVER of it, or many vector paths (text turned into outlines). A blank page, or one
with only a page number and a rule, costs nothing: a folder of text PDFs is not slowed down.

Chosen on real documents: every page of the R manuals and the Debian Reference keeps its text
layer and no page of theirs is OCRed (`python benchmarks/ocr.py --classify` counts them).
"""

from __future__ import annotations

import re
import unicodedata

MIN_CHARACTERS = 20
SHORT_TEXT = 200
IMAGE_COVER = 0.5
MIN_IMAGE_COVER = 0.05
MANY_PATHS = 100
BAD_SHARE = 0.3
# The quick test every page of a text PDF goes through looks at its first characters only, with
# regular expressions (C speed): about 1 ms a page here, against 19 ms for PDFium to extract the text.
_SAMPLE = 1000
_NOT_ALNUM = re.compile(r"[\W_]+")
_UNUSABLE = re.compile("[\ufffd\ue000-\uf8ff\U000f0000-\U0010ffff\x00-\x08\x0b\x0c\x0e-\x1f]")


def _counts(text: str) -> tuple[int, int, int]:
    """Letters and digits, unusable characters, non-space characters."""
    useful = bad = visible = 0
    for char in text:
        if char.isspace():
            continue
        visible += 1
        if char.isalnum():
            useful += 1
        elif char == "\ufffd" or unicodedata.category(char) in ("Co", "Cc", "Cn"):
            bad += 1
    return useful, bad, visible


def clearly_usable(text: str) -> bool:
    """Enough readable text that nothing on the page needs looking at (most pages of a text PDF):
    SHORT_TEXT letters and digits among its first characters, none of them unusable."""
    sample = text[:_SAMPLE]
    return _UNUSABLE.search(sample) is None and len(_NOT_ALNUM.sub("", sample)) >= SHORT_TEXT


def needs_ocr(text: str, image_cover: float, paths: int) -> bool:
    """The page is OCRed: its text layer is not usable and something drawn on it could be text.

    `image_cover`: the share of the page its images cover (0-1); `paths`: its vector path objects.
    """
    if image_cover < MIN_IMAGE_COVER and paths < MANY_PATHS:
        return False
    useful, bad, visible = _counts(text)
    if useful < MIN_CHARACTERS or bad > BAD_SHARE * visible:
        return True
    return useful < SHORT_TEXT and image_cover > IMAGE_COVER
