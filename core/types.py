"""The plain data the stages pass to each other.

Ingest produces `Chunk`s, the index stores them, retrieval returns `Hit`s,
generation cites them. No stage needs another stage's internals.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from core.display import shown

# Metadata keys that `Chunk` owns; everything else of a chunk's metadata is in `extra`.
_CORE_KEYS = ("source", "chunk_index", "content_hash", "page")


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_id(source: str, chunk_index: int, text: str) -> str:
    """Deterministic id: the same file cut the same way always gives the same ids."""
    digest = hashlib.sha256(f"{source}\x00{chunk_index}\x00{text}".encode("utf-8"))
    return digest.hexdigest()[:32]


@dataclass(frozen=True)
class Section:
    """A piece of a document as a loader reads it, before chunking.

    `meta` holds where it sits: {"page": 3}, {"slide": 2}, {"sheet": "Q3", "row_start": 2,
    "row_end": 40}, {"heading": "Terms > Notice"}. Values are str, int, float or bool.
    `header` is text repeated at the top of every chunk cut from this section
    (a table's header row), and counted in the chunk's token budget.
    """

    text: str
    meta: dict[str, Any] = field(default_factory=dict)
    header: str = ""


@dataclass(frozen=True)
class Chunk:
    """A passage that fits the embedding model, with where it came from."""

    id: str
    text: str
    source: str  # path relative to the ingested folder, with forward slashes
    chunk_index: int
    content_hash: str
    page: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def make(cls, text: str, source: str, chunk_index: int, meta: dict[str, Any] | None = None) -> "Chunk":
        meta = dict(meta or {})
        page = meta.pop("page", None)
        return cls(
            id=chunk_id(source, chunk_index, text),
            text=text,
            source=source,
            chunk_index=chunk_index,
            content_hash=content_hash(text),
            page=int(page) if page is not None else None,
            extra=meta,
        )

    def metadata(self) -> dict[str, Any]:
        """Flat metadata for a store (no None values: Chroma refuses them)."""
        meta: dict[str, Any] = {k: v for k, v in self.extra.items() if v is not None}
        meta.update(source=self.source, chunk_index=self.chunk_index, content_hash=self.content_hash)
        if self.page is not None:
            meta["page"] = self.page
        return meta

    @classmethod
    def from_metadata(cls, id: str, text: str, meta: dict[str, Any]) -> "Chunk":
        extra = {k: v for k, v in meta.items() if k not in _CORE_KEYS}
        page = meta.get("page")
        return cls(
            id=id,
            text=text,
            source=str(meta.get("source", "")),
            chunk_index=int(meta.get("chunk_index", 0)),
            content_hash=str(meta.get("content_hash", "")),
            page=int(page) if page is not None else None,
            extra=extra,
        )

    def location(self) -> str:
        """Where in the file: 'page 3', 'page 3, scanned' (read by OCR), 'slide 2', 'sheet Q3, rows 2-40', or ''."""
        parts = []
        if self.page is not None:
            parts.append(f"page {self.page}")
        if self.extra.get("ocr"):
            parts.append("scanned")
        if "slide" in self.extra:
            parts.append(f"slide {self.extra['slide']}")
        if "sheet" in self.extra:
            parts.append(f"sheet {self.extra['sheet']}")
        if "row_start" in self.extra:
            parts.append(f"rows {self.extra['row_start']}-{self.extra.get('row_end', self.extra['row_start'])}")
        if "heading" in self.extra and not parts:
            parts.append(str(self.extra["heading"]))
        return ", ".join(parts)

    def citation(self) -> str:
        """'contracts/lease.pdf, page 3' — what a user reads after an answer; for a mail's
        attachment 'invoice_mail.eml › INV-20931.docx, page 2'. Control characters in a
        name are escaped (core/display.py)."""
        where = self.location()
        name = shown(self.source)
        if self.extra.get("attachment"):
            name += " › " + shown(str(self.extra["attachment"]).replace(" > ", " › "))
        return f"{name}, {where}" if where else name

    def to_json(self) -> dict[str, Any]:
        """The chunk as every JSON output shows it (docs/answer-record.md): `chunk_id`, `source`, `page`
        (null when the file has no pages), `location`, `citation`, its other metadata, `text`."""
        meta = {k: v for k, v in self.metadata().items() if k not in ("source", "page")}
        return {
            "chunk_id": self.id,
            "source": self.source,
            "page": self.page,
            "location": self.location(),
            "citation": self.citation(),
            **meta,
            "text": self.text,
        }


@dataclass(frozen=True)
class Passage:
    """The text around a matched chunk that a reader answers from (small-to-big).

    `text` is the chunk widened with its neighbours in the same file (chunk_index
    `first_index`..`last_index`), at most about 2,000 characters; the matched chunk's own
    text is `text[start:end]`.
    """

    text: str
    start: int
    end: int
    first_index: int
    last_index: int

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "chunk_indexes": [self.first_index, self.last_index],
        }


@dataclass(frozen=True)
class Hit:
    """A chunk found for a question.

    `chunk` is the small piece that matched. `passage` is the text to read and answer from:
    the chunk widened with its neighbouring text in the same file (at most about 2,000
    characters, `Passage.text`; the chunk sits at `passage.text[passage.start:passage.end]`).
    It is None only where a caller built a Hit itself; use `text` to get the one or the other.
    `score` ranks hits within one search (cosine, BM25 or fused, by mode): higher is better.
    `relevance` is the cosine similarity of the chunk to the question whatever the mode,
    so that "is anything relevant enough to answer from?" has one calibrated scale.
    """

    chunk: Chunk
    score: float
    relevance: float | None = None
    passage: Passage | None = None

    @property
    def text(self) -> str:
        """The passage's text when there is one, else the chunk's."""
        return self.passage.text if self.passage is not None else self.chunk.text

    def to_json(self) -> dict[str, Any]:
        out = {"score": round(float(self.score), 6), **self.chunk.to_json()}
        if self.relevance is not None:
            out["relevance"] = round(float(self.relevance), 6)
        if self.passage is not None:
            out["passage"] = self.passage.to_json()
        return out


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)
