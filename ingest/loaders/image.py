"""Images as documents (PNG, JPEG, TIFF, WebP): each frame is a page, read by OCR (ingest/ocr)."""

from __future__ import annotations

from pathlib import Path

from core.types import Section
from ingest.loaders.errors import LoadError
from ingest.ocr import OcrOptions

OFF_REASON = "an image: OCR is off (--ocr off); use --ocr auto to read it"
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")
_DEFAULT_DPI = 150  # what Tesseract assumes when the image does not say


def _dpi(image) -> int:
    found = image.info.get("dpi")
    try:
        value = int(round(float(found[0])))
    except (TypeError, ValueError, IndexError):
        return _DEFAULT_DPI
    return value if 70 <= value <= 1200 else _DEFAULT_DPI


def read_image(path: Path, options: OcrOptions) -> list[Section]:
    from ingest.ocr.images import frames
    from ingest.ocr.pages import ocr_section

    if not options.enabled:
        raise LoadError(OFF_REASON)
    sections, decoded = [], 0
    for number, frame in frames(path, options.max_pixels):
        decoded += 1
        section = ocr_section(path, number, frame, _dpi(frame), options)
        if section is not None:
            sections.append(section)
    if not decoded:
        raise LoadError("corrupt image: none of its pages can be decoded")
    if not sections:
        raise LoadError("no text found: OCR read nothing in the image")
    return sections
