"""One page image -> one Section of OCR text, marked `ocr: true`, with what a user should know logged."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from core.errors import ModelLoadError
from core.types import Section
from ingest.loaders.errors import LoadError
from ingest.ocr import OcrOptions

log = logging.getLogger(__name__)


def ocr_section(
    path: Path, number: int, image: Any, dpi: int, options: OcrOptions, text_layer: str = ""
) -> Section | None:
    """The page's OCR text (after `text_layer`, the little text the page had, if any) or None for nothing read.

    `LoadError` when the engine cannot start (the whole file fails with that reason); a page the
    engine fails on is logged and left out.
    """
    from ingest.ocr.engine import GOOD_CONFIDENCE, OcrError, load_engine, read_page

    try:
        engine = load_engine(options.language)
    except ModelLoadError as exc:
        raise LoadError(str(exc)) from None
    try:
        page = read_page(engine, image, dpi)
    except OcrError as exc:
        log.warning("%s: page %d: %s; the page is left out", path, number, exc)
        return None
    if not page.text.strip():
        return None
    if page.rotation:
        log.info("%s: page %d read turned by %d degrees", path, number, page.rotation)
    if page.confidence < GOOD_CONFIDENCE:
        log.warning(
            "%s: page %d: OCR read it with %.0f%% confidence (a poor scan, handwriting or a photo?): its text may be wrong",
            path,
            number,
            page.confidence,
        )
    meta: dict[str, Any] = {"page": number, "ocr": True, "ocr_confidence": round(page.confidence / 100, 2)}
    text = f"{text_layer.strip()}\n\n{page.text}".strip()
    return Section(text=text, meta=meta)
