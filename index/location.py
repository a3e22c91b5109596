"""Where an index keeps its vectors: in its own folder (--db/chroma), or in a Chroma server.

The catalog records it on the first write-open (`vector_store`: local or server; for a server
its URL and the index's own collection), and every later open is checked against the record:
an index built on a server is never opened in-process by mistake (it would look empty, and a
repair would forget every file), nor the reverse.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Callable

from core.errors import LocalGPTError
from index.catalog import Catalog
from index.vector_store import VectorStore

log = logging.getLogger(__name__)

LOCAL, SERVER = "local", "server"
KEY_STORE, KEY_URL, KEY_COLLECTION = "vector_store", "chroma_url", "chroma_collection"


class IndexLocationError(LocalGPTError):
    """The index keeps its vectors elsewhere than the command says."""


def recorded_location(catalog: Catalog, vectors_dir: Path) -> str | None:
    """local, server, or None for a new index that holds nothing yet."""
    info = catalog.info()
    if info.get(KEY_STORE):
        return info[KEY_STORE]
    if vectors_dir.exists() or catalog.chunk_count():  # indexes from before the record existed are local
        return LOCAL
    return None


def check_location(db: Path, catalog: Catalog, vectors_dir: Path, chroma_url: str) -> str | None:
    """The recorded location, or an IndexLocationError when `chroma_url` says otherwise."""
    where = recorded_location(catalog, vectors_dir)
    if where == SERVER and not chroma_url:
        info = catalog.info()
        raise IndexLocationError(
            f"The index at {db} keeps its vectors in the Chroma server at {info.get(KEY_URL)} (collection "
            f"{info.get(KEY_COLLECTION)}). Pass --chroma-url {info.get(KEY_URL)} (or set LOCALGPT_CHROMA_URL)."
        )
    if where == LOCAL and chroma_url:
        raise IndexLocationError(
            f"The index at {db} keeps its vectors in its own folder ({vectors_dir}), not in a Chroma server. "
            f"Leave out --chroma-url (and LOCALGPT_CHROMA_URL) for it, or ingest into a new --db folder to use the server."
        )
    return where


def vector_store_factory(
    db: Path, catalog: Catalog, vectors_dir: Path, chroma_url: str, write: bool
) -> Callable[[], VectorStore]:
    """A function that opens the index's vector store. On a write-open of a new index, where the
    vectors will live is recorded now; a mismatch is raised now for writes, on first use for reads
    (commands that read only the catalog, `localgpt documents`, work without --chroma-url)."""
    try:
        where = check_location(db, catalog, vectors_dir, chroma_url)
    except IndexLocationError as exc:
        if write:
            raise
        error = exc

        def refuse() -> VectorStore:
            raise error

        return refuse
    if where is None and write:
        where = _record(catalog, chroma_url)
    if where == SERVER or (where is None and chroma_url):
        from index.chroma_remote import ChromaServerStore, parse_chroma_url

        info = catalog.info()
        address = parse_chroma_url(chroma_url)
        if write and info.get(KEY_URL) != address.url:
            log.info("the index's Chroma server is now %s (was %s)", address.url, info.get(KEY_URL))
            catalog.set_info({KEY_URL: address.url})
        collection = info.get(KEY_COLLECTION, "")
        must_exist = catalog.chunk_count() > 0
        return lambda: ChromaServerStore(
            address.url, collection or "localgpt_unused", must_exist, info.get(KEY_URL, "")
        )
    from index.chroma_store import ChromaStore, sqlite_files

    return lambda: ChromaStore(vectors_dir, also_watch=sqlite_files(catalog.path))


def _record(catalog: Catalog, chroma_url: str) -> str:
    if not chroma_url:
        catalog.set_info({KEY_STORE: LOCAL})
        return LOCAL
    from index.chroma_remote import parse_chroma_url

    address = parse_chroma_url(chroma_url)
    # One collection per index: several indexes share a server without meeting.
    catalog.set_info({KEY_STORE: SERVER, KEY_URL: address.url, KEY_COLLECTION: f"localgpt_{uuid.uuid4().hex[:16]}"})
    return SERVER
