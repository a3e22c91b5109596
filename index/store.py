"""`Index`: the vector store and the catalog, kept in step."""
from __future__ import annotations

import fcntl
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from core.errors import IndexMismatchError, IngestLockedError, NoIndexError
from core.types import Chunk
from index.catalog import Catalog, FileRecord
from index.vector_store import VectorStore

log = logging.getLogger(__name__)

CATALOG_FILE = "catalog.sqlite"
VECTORS_DIR = "chroma"
LOCK_FILE = ".ingest.lock"
SCHEMA_VERSION = "1"


@dataclass(frozen=True)
class IndexInfo:
    """What built the index: refused if a later ingest or query uses something else."""

    embedding_model: str
    embedding_fingerprint: str
    dimensions: int
    chunk_tokens: int
    chunk_overlap: int

    def as_dict(self) -> dict[str, object]:
        return {
            "schema_version": SCHEMA_VERSION,
            "embedding_model": self.embedding_model,
            "embedding_fingerprint": self.embedding_fingerprint,
            "dimensions": self.dimensions,
            "chunk_tokens": self.chunk_tokens,
            "chunk_overlap": self.chunk_overlap,
        }


def index_exists(db: Path) -> bool:
    return (Path(db) / CATALOG_FILE).exists()


class Index:
    def __init__(self, path: Path, catalog: Catalog, vectors: VectorStore, lock_fd: int | None = None):
        self.path = path
        self.catalog = catalog
        self.vectors = vectors
        self._lock_fd = lock_fd

    # -- what built it --------------------------------------------------------
    def recorded_info(self) -> dict[str, str]:
        return self.catalog.info()

    def check_compatible(self, info: IndexInfo, for_writing: bool) -> None:
        """Refuse an embedder (or, when writing, a chunking) other than the one that built the index."""
        recorded = self.catalog.info()
        if "embedding_fingerprint" not in recorded:
            if for_writing:
                self.catalog.set_info({**info.as_dict(), "created_at": time.time()})
            return
        if recorded["embedding_fingerprint"] != info.embedding_fingerprint:
            action = "ingest into" if for_writing else "query"
            raise IndexMismatchError(
                f"The index at {self.path} was built with the embedding model {recorded.get('embedding_model')!r}; "
                f"you asked to {action} it with {info.embedding_model!r}. Use the same --embedding-model, "
                f"or ingest into a new --db folder."
            )
        if for_writing and (
            recorded.get("chunk_tokens") != str(info.chunk_tokens) or recorded.get("chunk_overlap") != str(info.chunk_overlap)
        ):
            raise IndexMismatchError(
                f"The index at {self.path} was built with chunks of {recorded.get('chunk_tokens')} tokens "
                f"(overlap {recorded.get('chunk_overlap')}); you asked for {info.chunk_tokens} "
                f"(overlap {info.chunk_overlap}). Use the same settings, or ingest into a new --db folder."
            )

    # -- writes (only with the ingest lock held) ------------------------------
    def repair(self) -> list[str]:
        """Wipe files an earlier, killed ingest left half-written; they are ingested again."""
        pending = self.catalog.pending()
        if pending:
            log.info("repairing %d file(s) left by an interrupted ingest", len(pending))
            self.vectors.delete_sources(pending)
            self.catalog.remove_files(pending)
        return pending

    def replace_file(self, record: FileRecord, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        self.catalog.mark_pending([record.source])
        self.vectors.delete_sources([record.source])
        if chunks:
            self.vectors.upsert([c.id for c in chunks], vectors, [c.text for c in chunks], [c.metadata() for c in chunks])
        self.catalog.replace_file(record, list(chunks))

    def remove_files(self, sources: Sequence[str]) -> None:
        if not sources:
            return
        self.catalog.mark_pending(sources)
        self.vectors.delete_sources(list(sources))
        self.catalog.remove_files(sources)

    def close(self) -> None:
        self.catalog.close()
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _take_ingest_lock(db: Path) -> int:
    fd = os.open(db / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise IngestLockedError(
            f"Another ingest is writing to {db} right now. Wait for it to finish, or ingest into another --db folder."
        ) from None
    return fd


def open_index(db: Path, write: bool = False) -> Index:
    """Open the index at `db`. For writing, it is created if missing and the ingest lock is taken."""
    from index.chroma_store import ChromaStore  # noqa: PLC0415 (chromadb is slow to import)
    from index.permissions import make_private  # noqa: PLC0415

    db = Path(db)
    if not write and not index_exists(db):
        raise NoIndexError(f"No index at {db}. Run `localgpt ingest --source-dir FOLDER --db {db}` first.")
    lock_fd = None
    if write:
        make_private(db)
        lock_fd = _take_ingest_lock(db)
    try:
        catalog = Catalog(db / CATALOG_FILE)
        vectors = ChromaStore(db / VECTORS_DIR)
    except Exception:
        if lock_fd is not None:
            os.close(lock_fd)
        raise
    return Index(db, catalog, vectors, lock_fd)
