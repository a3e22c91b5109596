"""Grouping a document's paragraphs under their heading path ("Lease > Termination > Notice")."""

from __future__ import annotations

from typing import Any

from core.types import Section


class SectionBuilder:
    """Collects paragraphs and headings in reading order and cuts sections at each heading.

    A heading with no text of its own before the next heading is not a section by itself:
    its title is carried into the next section's text, so no chunk is a bare title.
    """

    def __init__(self, base_meta: dict[str, Any] | None = None):
        self.base_meta = dict(base_meta or {})
        self.sections: list[Section] = []
        self._path: list[tuple[int, str]] = []  # (level, title)
        self._titles: list[str] = []  # heading titles not yet followed by text
        self._body: list[str] = []

    def heading(self, level: int, title: str) -> None:
        title = " ".join(title.split())
        if not title:
            return
        self._flush()
        self._path = [(lvl, t) for lvl, t in self._path if lvl < level]
        self._path.append((level, title))
        self._titles.append(title)

    def paragraph(self, text: str) -> None:
        if text.strip():
            self._body.append(text.strip())

    def _meta(self) -> dict[str, Any]:
        meta = dict(self.base_meta)
        if self._path:
            meta["heading"] = " > ".join(title for _, title in self._path)
        return meta

    def _flush(self) -> None:
        if self._body:
            self.sections.append(Section(text="\n\n".join(self._titles + self._body), meta=self._meta()))
            self._titles, self._body = [], []

    def finish(self) -> list[Section]:
        self._flush()
        if self._titles:  # a document (or its end) made of headings only
            self.sections.append(Section(text="\n\n".join(self._titles), meta=self._meta()))
            self._titles = []
        return self.sections
