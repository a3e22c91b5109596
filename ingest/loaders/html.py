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
# A superscript that is an exponent or index (2<sup>31</sup>, x<sup>n+1</sup>, 10<sup>-9</sup>) is
# written with a caret, 2^31, so that "2³¹−1" does not read "231−1"; one that is several terms, in
# parentheses: x^(n+1). Ordinals (1<sup>st</sup>), marks (TM) and footnote links keep their text.
_EXPONENT = re.compile(r"[-+−]?[\w.]+|[-+−]?[\w.]+(?:\s*[-+−*/]\s*[\w.]+)+", re.UNICODE)
_NOT_EXPONENTS = {"st", "nd", "rd", "th", "tm", "sm", "e", "er", "re", "ème"}
# A definition list's term is this long at most to open its definition's first paragraph ("--list:
# List all available databases"): a longer one (a function's signature) stays a paragraph of its own.
TERM_CHARS = 80
# A table row up to this long is one paragraph, its cells separated by " | ", whatever blocks the
# cells hold (Sphinx and AsciiDoc wrap each cell's text in a <p>: "%a | Locale's abbreviated weekday
# name", not "%a" and the name apart); a longer one (a page laid out in a table) is read as blocks.
ROW_CHARS = 1000


def _superscript(text: str) -> str:
    bare = " ".join(text.split())
    if not bare or bare.lower() in _NOT_EXPONENTS or not _EXPONENT.fullmatch(bare):
        return text
    return f"^{bare}" if re.fullmatch(r"[-+−]?[\w.]+", bare) else f"^({bare})"


class _Walker:
    """Text in reading order, cut into paragraphs at block elements.

    A definition list's terms are read once each, joined (`-l, --list`: DocBook puts each in a span
    of its own, separated by <br>), and open the first paragraph of their definition: "term:
    definition" reads as one statement, where a term standing alone before a definition that
    begins with the same word read "list List ..."."""

    def __init__(self, builder: SectionBuilder):
        self.builder = builder
        self.parts: list[str] = []
        self.terms: list[str] = []  # the terms of a definition list item, waiting for its definition
        self.lead = ""  # those terms, to open the definition's first paragraph
        self._in_term = False
        self._in_row = False
        self._links = 0  # inside how many <a href>: a superscript there is a footnote mark

    def flush(self) -> None:
        text = _SPACES.sub(" ", "".join(self.parts)).strip()
        self.parts = []
        if not text:
            return
        for term in self.terms:  # terms with text, not a definition, after them
            self.builder.paragraph(term)
        self.terms = []
        if self.lead:
            text = f"{self.lead}{'' if self.lead[-1] in ':.?!' else ':'} {text}"
            self.lead = ""
        self.builder.paragraph(text)

    def finish(self) -> None:
        """The end of the document: what is still pending becomes paragraphs."""
        self.flush()
        self._terms_alone()

    def _terms_alone(self) -> None:
        """Terms with no definition after them (or a long one, or a definition that opens with a
        heading or code block) are paragraphs of their own."""
        for text in [*self.terms, *([self.lead] if self.lead else [])]:
            self.builder.paragraph(text)
        self.terms, self.lead = [], ""

    def walk(self, element) -> None:
        if not isinstance(element.tag, str):
            return  # comments and processing instructions (their tail is read by the parent)
        tag = element.tag.rsplit("}", 1)[-1].lower()  # XHTML (EPUB) tags carry a namespace
        if tag in _SKIP or element.get("role") in _SKIP_ROLES:
            return
        if tag == "a" and "headerlink" in (element.get("class") or "").split():
            return  # Sphinx's "¶" permalink after headings and every function's signature
        if self._in_term and tag in _BLOCKS:  # <br> (or a block) between a dt's terms: a separator
            self.parts.append(", ")
            self._children(element)
            return
        if tag == "tr" and not self._in_row and len(element.text_content()) <= ROW_CHARS:
            self.flush()
            self._in_row = True
            try:
                self._children(element)
            finally:
                self._in_row = False
            self.parts = [re.sub(r"(?:\s*\|)+\s*$", "", "".join(self.parts))]  # empty last cells
            self.flush()
            return
        if self._in_row and tag in _BLOCKS:  # a paragraph inside a cell: the row stays one line
            self.parts.append(" ")
            self._children(element)
            self.parts.append(" ")
            return
        if tag in _HEADINGS:
            self.flush()
            self._terms_alone()
            self.builder.heading(_HEADINGS[tag], element.text_content().strip().rstrip(_PERMALINK_MARKS))
            return
        if tag == "pre":
            self.flush()
            self._terms_alone()
            self.builder.paragraph(element.text_content())
            return
        if tag == "dt" and not self._in_term:
            self._term(element)
            return
        if tag == "sup":
            self._superscript(element)
            return
        if tag == "dd":
            self.flush()
            lead = ", ".join(self.terms)
            self.terms = []
            if len(lead) <= TERM_CHARS:
                self.lead = lead
            else:
                self.builder.paragraph(lead)
            self._children(element)
            self.flush()
            self._terms_alone()  # a definition with no text: its terms stand alone
            return
        block = tag in _BLOCKS
        if block:
            self.flush()
        if tag in _CELLS and "".join(self.parts).strip():
            self.parts.append(" | ")
        link = tag == "a" and element.get("href") is not None
        self._links += link
        self._children(element)
        self._links -= link
        if block:
            self.flush()
        if tag == "dl":
            self._terms_alone()  # a last term with no definition: not joined to the next list's

    def _children(self, element) -> None:
        if element.text:
            self.parts.append(element.text)
        for child in element:
            self.walk(child)
            if child.tail:
                self.parts.append(child.tail)

    def _inline(self, element) -> str:
        """The text of `element` (its tail excluded), read as the walk reads it."""
        outer, self.parts = self.parts, []
        try:
            self._children(element)
            return "".join(self.parts)
        finally:
            self.parts = outer

    def _term(self, element) -> None:
        self.flush()
        self._in_term = True
        try:
            text = _SPACES.sub(" ", self._inline(element)).strip()
        finally:
            self._in_term = False
        text = re.sub(r"(?:\s*,\s*)+", ", ", text).strip(", ")
        if text:
            self.terms.append(text)

    def _superscript(self, element) -> None:
        text = self._inline(element)
        self.parts.append(text if self._links else _superscript(text))


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
    walker.finish()
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
