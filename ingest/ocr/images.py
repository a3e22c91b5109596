"""Image documents (PNG, JPEG, TIFF with several pages, WebP) opened safely, one frame at a time.

Pillow reads only the header on open, so an image's size is checked before any pixel is decoded:
one above the pixel limit (a decompression bomb, or a poster-sized scan) is refused with its
size and the setting that raises the limit.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any, Iterator

from ingest.loaders.errors import LoadError

log = logging.getLogger(__name__)

LIMIT_SETTING = "--ocr-max-megapixels"


def _too_big(width: int, height: int, max_pixels: int, what: str) -> LoadError:
    return LoadError(
        f"{what} is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels), above the "
        f"{max_pixels / 1e6:g} megapixel limit ({LIMIT_SETTING}, a guard against decompression bombs); "
        "raise the limit to read it"
    )


def frames(path: Path, max_pixels: int) -> Iterator[tuple[int, Any]]:
    """(page number, grayscale PIL image) for each frame, turned as the camera's EXIF tag says."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = max_pixels  # Pillow's own guard, at our limit (checked again per frame below)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        with _open_unchecked(path) as probe:
            raise _too_big(*probe.size, max_pixels, "the image") from None
    except UnidentifiedImageError:
        raise LoadError(
            "not a readable image: its content is no image format we read (damaged, or wrong extension?)"
        ) from None
    except PermissionError:
        raise
    except (OSError, ValueError, SyntaxError) as exc:  # a header cut short or garbled
        raise LoadError(f"corrupt image: it cannot be decoded ({exc})") from None
    with image:
        count = getattr(image, "n_frames", 1)
        for index in range(count):
            try:
                image.seek(index)
                width, height = image.size
                if width * height > max_pixels:
                    raise _too_big(
                        width, height, max_pixels, f"page {index + 1} of the image" if count > 1 else "the image"
                    )
                frame = ImageOps.exif_transpose(image) if index == 0 else image.copy()
                frame.load()
            except LoadError:
                raise
            except (OSError, ValueError, SyntaxError) as exc:  # Pillow's errors for truncated or damaged data
                if count == 1:
                    raise LoadError(f"corrupt image: it cannot be decoded ({exc})") from None
                log.warning(
                    "%s: page %d of %d cannot be decoded (%s); the other pages are read", path, index + 1, count, exc
                )
                continue
            yield index + 1, frame.convert("L")
            del frame


def _open_unchecked(path: Path):
    """The image header without Pillow's size guard, to report the size of an image refused for it."""
    from PIL import Image

    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        return Image.open(path)
    finally:
        Image.MAX_IMAGE_PIXELS = saved
