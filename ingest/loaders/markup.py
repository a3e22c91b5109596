"""Markdown, HTML and DOCX through unstructured, grouped under their headings."""
from __future__ import annotations

from pathlib import Path

from core.offline import prepare_unstructured
from core.types import Section
from ingest.loaders.errors import LoadError
from ingest.loaders.text import read_text_file


def sections_from_elements(elements) -> list[Section]:
    """Group unstructured elements under their heading path ("Lease > Termination")."""
    sections: list[Section] = []
    headings: list[tuple[int, str]] = []  # (depth, title)
    body: list[str] = []

    def flush() -> None:
        text = "\n\n".join(part for part in body if part.strip()).strip()
        if text:
            meta = {"heading": " > ".join(title for _, title in headings)} if headings else {}
            sections.append(Section(text=text, meta=meta))
        body.clear()

    for element in elements:
        text = (element.text or "").strip()
        if not text:
            continue
        if element.category == "Title":
            flush()
            depth = getattr(element.metadata, "category_depth", None) or 0
            headings[:] = [(d, t) for d, t in headings if d < depth]
            headings.append((depth, text))
            body.append(text)
        else:
            body.append(text)
    flush()
    return sections


def _partition(partition, **kwargs) -> list[Section]:
    prepare_unstructured()
    try:
        elements = partition(**kwargs)
    except LoadError:
        raise
    except Exception as exc:  # unstructured raises many types for malformed input
        raise LoadError(f"could not parse the file ({exc.__class__.__name__}: {exc})") from None
    sections = sections_from_elements(elements)
    if not sections:
        raise LoadError("no text found in the file")
    return sections


def read_markdown(path: Path) -> list[Section]:
    from unstructured.partition.md import partition_md  # noqa: PLC0415

    text = read_text_file(path)
    if not text.strip():
        raise LoadError("empty file: no text")
    return _partition(partition_md, text=text)


def read_html(path: Path) -> list[Section]:
    from unstructured.partition.html import partition_html  # noqa: PLC0415

    text = read_text_file(path)
    if not text.strip():
        raise LoadError("empty file: no text")
    return _partition(partition_html, text=text)


def read_docx(path: Path) -> list[Section]:
    from unstructured.partition.docx import partition_docx  # noqa: PLC0415

    return _partition(partition_docx, filename=str(path))
