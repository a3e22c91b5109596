"""Word (.docx) with python-docx, headings kept as paths; PowerPoint (.pptx) slide by slide."""

from __future__ import annotations

import re
from pathlib import Path

from core.types import Section
from ingest.loaders.errors import LoadError
from ingest.loaders.headings import SectionBuilder

_HEADING_STYLE = re.compile(r"^(?:heading|überschrift|titre|título|titolo)\s*(\d)$", re.IGNORECASE)


def _heading_level(paragraph, style_names: dict[str, str]) -> int | None:
    style = style_names.get(paragraph._p.style or "", "")  # paragraph.style costs a styles lookup per call
    if style == "Title":
        return 0
    match = _HEADING_STYLE.match(style or "")
    if match:
        return int(match.group(1))
    outline = paragraph._p.find(".//{http://schemas.openxmlformats.org/wordprocessingml/2006/main}outlineLvl")
    if outline is not None:
        value = outline.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}val")
        if value is not None and value.isdigit() and int(value) < 9:
            return int(value) + 1
    return None


def _table_text(table) -> str:
    lines = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if not cells or cells[-1] != text:  # merged cells repeat their text
                cells.append(text)
        if any(cells):
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def read_docx(path: Path) -> list[Section]:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(str(path))
    style_names = {style.style_id: style.name or "" for style in document.styles}
    builder = SectionBuilder()
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            level = _heading_level(block, style_names)
            if level is not None:
                builder.heading(level, block.text)
            else:
                builder.paragraph(block.text)
        elif isinstance(block, Table):
            builder.paragraph(_table_text(block))
    sections = builder.finish()
    if not sections:
        raise LoadError("no text found in the document")
    return sections


def _shape_texts(shapes) -> list[str]:
    texts = []
    for shape in shapes:
        if shape.shape_type == 6 and hasattr(shape, "shapes"):  # a group
            texts.extend(_shape_texts(shape.shapes))
        elif getattr(shape, "has_table", False) and shape.has_table:
            rows = [" | ".join(" ".join(c.text.split()) for c in row.cells) for row in shape.table.rows]
            texts.append("\n".join(r for r in rows if r.strip(" |")))
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            texts.append(shape.text_frame.text)
    return [t.strip() for t in texts if t and t.strip()]


def read_pptx(path: Path) -> list[Section]:
    from pptx import Presentation

    presentation = Presentation(str(path))
    sections = []
    for number, slide in enumerate(presentation.slides, start=1):
        title_shape = slide.shapes.title
        title = " ".join(title_shape.text.split()) if title_shape is not None and title_shape.has_text_frame else ""
        texts = _shape_texts(slide.shapes)
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame.text.strip() if slide.notes_slide.notes_text_frame else ""
            if notes:
                texts.append(f"Notes: {notes}")
        if texts:
            meta = {"slide": number, **({"heading": title} if title else {})}
            sections.append(Section(text="\n\n".join(texts), meta=meta))
    if not sections:
        raise LoadError("no text found in the presentation")
    return sections
