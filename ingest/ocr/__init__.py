"""OCR of scanned pages and images: what to OCR (`usable`), the engine (`engine`), images (`images`).

Nothing heavy is imported here: a worker that never meets a scanned page never starts the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

MODES = ("auto", "off", "force")


@dataclass(frozen=True)
class OcrOptions:
    """What the readers do about pages without text, from the settings `ocr`, `ocr_language`, `ocr_max_megapixels`.

    auto: OCR pages with no usable text and images; off: neither (pages without text are left out,
    images are not read); force: OCR every page, its text layer ignored.
    """

    mode: str = "auto"
    language: str = "eng"
    max_pixels: int = 100_000_000

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"--ocr {self.mode!r} is not one of {', '.join(MODES)}")

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    @classmethod
    def from_settings(cls, settings) -> "OcrOptions":
        return cls(
            mode=settings.ocr, language=settings.ocr_language, max_pixels=int(settings.ocr_max_megapixels * 1_000_000)
        )


__all__ = ["MODES", "OcrOptions"]
