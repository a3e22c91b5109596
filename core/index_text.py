"""What the index sees of a chunk: its text under a short head naming where it sits.

The head is the document's title (from the file, or its name) and the chunk's heading path,
e.g. "R-intro > An Introduction to R > 5 Arrays and matrices". The embedder embeds
`head + "\n" + text` and BM25 indexes the head in a column of its own beside the text; the
stored and displayed chunk text stays as it is. INDEX_TEXT names this recipe: an index
records the recipe that built it, and an ingest into an index built with another one
embeds every file again (docs/retrieval.md, "Chunks that know where they are").
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, Mapping

# The recipe of the index text; recorded in the index's info as "index_text".
INDEX_TEXT = "head1"
# What an index built before the recipe existed embedded: the chunk text alone.
PLAIN = "text"
# Most characters of a head (about 40 tokens): it must leave the chunk its room in the model's window.
HEAD_CHARS = 160


def document_title(source: str, meta: Mapping[str, Any]) -> str:
    """The title a loader found ("title" metadata), else the file name without its extension."""
    title = str(meta.get("title") or "").strip()
    if title:
        return title
    name = PurePosixPath(source).name
    stem = name.split(".", 1)[0] if not name.startswith(".") else name
    return stem.replace("_", " ").strip() or name


def head_of(source: str, meta: Mapping[str, Any]) -> str:
    """ "title > heading path" for a chunk of `source` with metadata `meta`, at most HEAD_CHARS."""
    title = document_title(source, meta)
    heading = " ".join(str(meta.get("heading") or "").split())
    if heading.lower().startswith(title.lower()):
        title = ""  # the heading path already starts with it (an HTML page's h1)
    head = " > ".join(p for p in (title, heading) if p)
    if len(head) > HEAD_CHARS:  # keep the end: the innermost headings say most
        head = "…" + head[-(HEAD_CHARS - 1) :]
    return head


def index_text(head: str, text: str) -> str:
    """What the embedder embeds for a chunk."""
    return f"{head}\n{text}" if head else text
