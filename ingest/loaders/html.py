"""HTML (and what converts to it: Markdown, RST, EPUB, ODT, RTF) read with lxml, under heading paths.

Measured on Python's library pages (docs/formats.md): lxml directly is many times faster than
unstructured's partition_html and keeps the same heading structure.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from core.types import Section
from ingest.loaders.errors import LoadError
from ingest.loaders.headings import SectionBuilder
from ingest.loaders.text import read_text_file

_SKIP = {
    "script",
    "style",
    "noscript",
    "template",
    "head",
    "svg",
    "math",
    "button",
    "select",
    "iframe",
    "object",
    "nav",
}
_SKIP_ROLES = {"navigation", "search", "banner"}  # site menus and search boxes: noise in every chunk
_PERMALINK_MARKS = "¶#§🔗"  # Sphinx/GitHub heading anchors ("Descaling¶")
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCKS = {
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "nav",
    "blockquote",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "caption",
    "figure",
    "figcaption",
    "form",
    "fieldset",
    "address",
    "hr",
    "br",
    "body",
    "html",
    "details",
    "summary",
}
_CELLS = {"td", "th"}
_SPACES = re.compile(r"\s+")


class _Walker:
    def __init__(self, builder: SectionBuilder):
        self.builder = builder
        self.parts: list[str] = []

    def flush(self) -> None:
        text = _SPACES.sub(" ", "".join(self.parts)).strip()
        self.parts = []
        if text:
            self.builder.paragraph(text)

    def walk(self, element) -> None:
        if not isinstance(element.tag, str):
            return  # comments and processing instructions (their tail is read by the parent)
        tag = element.tag.rsplit("}", 1)[-1].lower()  # XHTML (EPUB) tags carry a namespace
        if tag in _SKIP or element.get("role") in _SKIP_ROLES:
            return
        if tag == "a" and "headerlink" in (element.get("class") or "").split():
            return  # Sphinx's "¶" permalink after headings and every function's signature
        if tag in _HEADINGS:
            self.flush()
            self.builder.heading(_HEADINGS[tag], element.text_content().strip().rstrip(_PERMALINK_MARKS))
            return
        if tag == "pre":
            self.flush()
            self.builder.paragraph(element.text_content())
            return
        block = tag in _BLOCKS
        if block:
            self.flush()
        if tag in _CELLS and "".join(self.parts).strip():
            self.parts.append(" | ")
        if element.text:
            self.parts.append(element.text)
        for child in element:
            self.walk(child)
            if child.tail:
                self.parts.append(child.tail)
        if block:
            self.flush()


def sections_from_html(html: str | bytes, base_meta: dict[str, Any] | None = None) -> list[Section]:
    """Sections of an HTML document, each under its heading path."""
    import lxml.html
    from lxml.etree import ParserError

    if isinstance(html, str):
        html = html.encode("utf-8")  # lxml refuses str input that declares its own encoding
        parser = lxml.html.HTMLParser(encoding="utf-8")
    else:
        parser = lxml.html.HTMLParser()
    try:
        root = lxml.html.document_fromstring(html, parser=parser)
    except (ParserError, ValueError) as exc:
        raise LoadError(f"could not parse the HTML ({exc})") from None
    builder = SectionBuilder(base_meta)
    walker = _Walker(builder)
    body = root.find("body")
    walker.walk(body if body is not None else root)
    walker.flush()
    return builder.finish()


def read_html(path: Path) -> list[Section]:
    sections = sections_from_html(read_text_file(path))
    if not sections:
        raise LoadError("no text found in the HTML")
    return sections


def read_markdown(path: Path) -> list[Section]:
    import markdown

    text = read_text_file(path)
    html = markdown.markdown(text, extensions=["tables", "fenced_code", "sane_lists"])
    sections = sections_from_html(f"<html><body>{html}</body></html>")
    if not sections:
        raise LoadError("no text: the file holds only whitespace")
    return sections
