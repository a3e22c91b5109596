"""`Index`: the vector store and the catalog, kept in step; what retrieval asks of the index.

Reads (`nearest`, `lexical`, `gather`) return whole candidates (index/search.py); `refresh` makes
another process's writes visible to a long-lived reader (serve, chat, batch)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from core.index_text import INDEX_TEXT, PLAIN
from core.errors import IndexMismatchError, IngestLockedError, NoIndexError
from core.filters import Filter
from core.locks import release_lock, take_lock
from core.stages import StageClock
from core.types import Chunk, chunk_id
from core.words import tokens as word_tokens
from index.catalog import FTS5, Catalog, FileRecord
from index.crashpoints import crashpoint
from index.location import vector_store_factory
from index.metadata_keys import check_keys
from index.permissions import make_private
from index.lexical_tantivy import LEXICAL_DIR, TantivyLexical
from index.search import Candidate, tantivy_lexical, with_content
from index.search import lexical as bm25_candidates
from index.subset_search import Subsets
from index.vector_query import nearest_passing
from index.vector_store import VectorStore

log = logging.getLogger(__name__)

CATALOG_FILE = "catalog.sqlite"
VECTORS_DIR = "chroma"
LOCK_FILE = ".ingest.lock"
LEXICAL_SYNC_EVERY_S = 2.0  # during an ingest, written chunks reach lexical search within this
SCHEMA_VERSION = "1"


@dataclass(frozen=True)
class IndexInfo:
    """What built the index: refused if a later ingest or query uses something else."""

    embedding_model: str
    embedding_fingerprint: str
    dimensions: int
    chunk_tokens: int
    chunk_overlap: int
    embedding_precision: str = "float32"

    def as_dict(self) -> dict[str, object]:
        return {
            "schema_version": SCHEMA_VERSION,
            "embedding_model": self.embedding_model,
            "embedding_fingerprint": self.embedding_fingerprint,
            "embedding_precision": self.embedding_precision,
            "dimensions": self.dimensions,
            "chunk_tokens": self.chunk_tokens,
            "chunk_overlap": self.chunk_overlap,
            "index_text": INDEX_TEXT,
        }


def precision_of(recorded: dict[str, str]) -> str | None:
    """The embedding precision an index's recorded info names; None before anything was embedded."""
    if "embedding_fingerprint" not in recorded:
        return None
    return recorded.get("embedding_precision", "float32")  # indexes from before int8 existed are float32


def index_exists(db: Path) -> bool:
    return (Path(db) / CATALOG_FILE).exists()


class Index:
    def __init__(
        self,
        path: Path,
        catalog: Catalog,
        vectors: VectorStore | Callable[[], VectorStore],
        lock_fd: int | None = None,
        words=None,
        on_close: Callable[[], None] | None = None,
        subsets: Subsets | None = None,
    ):
        """`words`: the lexical index (Tantivy in `path` unless given); `on_close`: what closing also
        releases (a database's pool and lock)."""
        self.path = path
        self.catalog = catalog
        self._vectors = vectors
        self._vectors_lock = threading.Lock()  # hybrid search reaches the store from a worker thread
        self._lock_fd = lock_fd
        self._worker: ThreadPoolExecutor | None = None  # one thread for the vector search of `gather`
        self._worker_catalog: Catalog | None = None  # its own connection to the catalog
        self._keys_seen: set[str] = set()  # --where keys some chunk has (`check_keys`)
        self._shares: dict[Filter, float | None] = {}  # filter -> share of chunks passing: a hint for its width
        self._subsets = subsets if subsets is not None else Subsets()  # a few filters' vectors, for every thread
        self.write_seconds = StageClock()  # wall seconds per step of the writes (`write_files`)
        self.words = words if words is not None else TantivyLexical(Path(path) / LEXICAL_DIR, write=lock_fd is not None)
        self._on_close = on_close
        self._repaired: list[str] | None = None  # what the open repaired already (`mark_repaired`)

    def for_thread(self) -> "Index":
        """A reader of this index for another thread: its own catalog connection and lexical reader,
        the same vector store."""
        return Index(
            self.path, self.catalog.for_thread(), self.vectors, words=self.words.for_thread(), subsets=self._subsets
        )

    @property
    def vectors(self) -> VectorStore:
        """The vector store, opened on first use (Chroma takes most of a second to import and open,
        which an ingest spends while its parse workers start)."""
        with self._vectors_lock:
            if callable(self._vectors):
                self._vectors = self._vectors()
            return self._vectors

    def open_vectors_soon(self) -> None:
        """Start opening the vector store in a thread; its first user waits for it (and, if the
        open failed, opens it again and gets the error)."""

        def open_quietly() -> None:
            with contextlib.suppress(Exception):
                _ = self.vectors

        threading.Thread(target=open_quietly, name="open-vector-store", daemon=True).start()

    # -- reads ------------------------------------------------------------------
    def refresh(self) -> bool:
        """Make what another process wrote since the last look visible to the next reads (SQLite
        shows every commit; a vector store may not). Cheap; long-lived readers call it before each
        search. Returns whether the store was reopened."""
        self.words.refresh()
        with self._vectors_lock:
            vectors = self._vectors
        return False if callable(vectors) else vectors.refresh()

    def nearest(self, vector: np.ndarray, k: int, where: Filter | None = None) -> list[Candidate]:
        """The k chunks nearest to `vector` passing `where` (index/vector_query.py), closest first."""
        return self.gather("", vector, k, where, lexical=False)[0]

    def lexical(self, question: str, k: int, where: Filter | None = None) -> list[Candidate]:
        """The k chunks that best match `question` by BM25 (passing `where`), best first."""
        if self.catalog.lexical_engine() != FTS5:
            if self.words.wrote:
                self._sync_lexical()  # this process's own writes, searchable at once
            return tantivy_lexical(self.catalog, self.words, question, k, where)
        return bm25_candidates(self.catalog, question, k, where)

    def document_mentions(self, source: str, words: Sequence[str]) -> bool:
        """Whether any chunk of `source` holds one of `words` (each word's tokens in a row, as
        core/words.py splits them). The lexical index finds the chunks to read."""
        wanted = [f" {' '.join(word_tokens(word))} " for word in words if word_tokens(word)]

        def holds(text: str) -> bool:
            return any(w in f" {' '.join(word_tokens(text))} " for w in wanted)

        if self.catalog.lexical_engine() == FTS5:
            return any(holds(chunk.text) for chunk in self.catalog.chunks_of(source))
        if self.words.wrote:
            self._sync_lexical()
        only = Filter(()).with_exact_sources([source])
        for word in words:
            found = [chunk_id for chunk_id, _ in self.words.search(word, 20, only, None)]
            if any(holds(text) for text, _meta in self.catalog.texts_and_meta(found).values()):
                return True
        return False

    def word_counts(self, words: Sequence[str]) -> dict[str, int]:
        """For each word, how many chunks hold it (the lexical index's own tokens)."""
        if self.catalog.lexical_engine() == FTS5:
            return self.catalog.word_counts(words)
        return {word: self.words.doc_count(word_tokens(word)) for word in words}

    def gather(
        self,
        question: str,
        vector: np.ndarray,
        k: int,
        where: Filter | None,
        dense: bool = True,
        lexical: bool = True,
        least: int | None = None,
    ) -> tuple[list[Candidate], list[Candidate]]:
        """(nearest, lexical): both searches' k best, as `nearest` and `lexical` give them; under a
        filter the nearest may be fewer than k, never fewer than `least` (index/vector_query.py). With both,
        the vector search runs in a worker thread beside BM25 (Chroma's core and SQLite release the
        GIL), with its own catalog connection: connections stay in their thread."""
        if k <= 0 or not (dense or lexical):
            return [], []
        if not dense:
            return [], self.lexical(question, k, where)
        if not lexical:
            return self._nearest(self.catalog, vector, k, where, least), []
        pending = self._background().submit(self._nearest_in_worker, vector, k, where, least)
        found = self.lexical(question, k, where)
        return pending.result(), found

    def _nearest(
        self, catalog: Catalog, vector: np.ndarray, k: int, where: Filter | None, least: int | None = None
    ) -> list[Candidate]:
        share = None
        if where is not None:
            share = self._shares.get(where)
            if share is None:
                if len(self._shares) >= 64:
                    self._shares.clear()
                share = self._shares[where] = catalog.share_passing(where)
        return with_content(
            nearest_passing(self.vectors, catalog, vector, k, where, share, least, self._subsets), catalog
        )

    def _nearest_in_worker(
        self, vector: np.ndarray, k: int, where: Filter | None, least: int | None = None
    ) -> list[Candidate]:
        if self._worker_catalog is None:
            self._worker_catalog = self.catalog.for_thread()
        return self._nearest(self._worker_catalog, vector, k, where, least)

    def vectors_of(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of those `ids` the store holds."""
        return self.vectors.vectors(list(ids)) if ids else {}

    def neighbours(self, source: str, low: int, high: int) -> dict[int, str]:
        """chunk_index -> text of the chunks of `source` numbered low..high."""
        return self.catalog.neighbours(source, low, high)

    def check_keys(self, where: Filter | None) -> None:
        """Refuse a filter on a metadata key no chunk has (the search would silently find nothing),
        naming the keys the index does have. Keys found once are not looked up again."""
        if where is None:
            return
        keys = {c.key for c in where.conditions if not c.folders} - self._keys_seen  # folders are no key
        if not keys:
            return
        check_keys(self.catalog, keys)
        if self.catalog.chunk_count():  # an empty index refuses nothing now, but may after an ingest
            self._keys_seen |= keys

    def _background(self) -> ThreadPoolExecutor:
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dense-search")
        return self._worker

    # -- what built it --------------------------------------------------------
    def recorded_precision(self) -> str | None:
        """The embedding precision that built the index; None for an empty index."""
        return precision_of(self.catalog.info())

    def index_text_is_current(self) -> bool:
        """Whether the vectors were embedded with today's index text (core/index_text.py); an empty
        index is current. An older one keeps working for search; the next ingest embeds it again."""
        recorded = self.catalog.info()
        return "embedding_fingerprint" not in recorded or recorded.get("index_text", PLAIN) == INDEX_TEXT

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
        precision = precision_of(recorded)
        if precision != info.embedding_precision:
            raise IndexMismatchError(
                f"The index at {self.path} was built with {precision} embeddings; you asked for "
                f"{info.embedding_precision}. Leave --embedding-precision at auto (it follows the index), "
                f"or ingest into a new --db folder."
            )
        if for_writing and (
            recorded.get("chunk_tokens") != str(info.chunk_tokens)
            or recorded.get("chunk_overlap") != str(info.chunk_overlap)
        ):
            raise IndexMismatchError(
                f"The index at {self.path} was built with chunks of {recorded.get('chunk_tokens')} tokens "
                f"(overlap {recorded.get('chunk_overlap')}); you asked for {info.chunk_tokens} "
                f"(overlap {info.chunk_overlap}). Use the same settings, or ingest into a new --db folder."
            )

    # -- writes (only with the ingest lock held) ------------------------------
    # The catalog is the truth. Invariant, at every instant and after a kill at any
    # instant: every chunk in the catalog has its vector in the store. The store may
    # hold more (vectors of a file being replaced or removed) only for sources in the
    # journal (`pending`); `repair` deletes those extras on the next write-open.

    def mark_repaired(self, sources: list[str]) -> None:
        """The repair is done (or, with other writers at work, not this writer's to do): `repair`
        returns `sources` once, then nothing (index/pg_index.py)."""
        self._repaired = list(sources)

    def repair(self) -> list[str]:
        """Settle what an earlier, killed ingest left: returns the sources it touched."""
        if self._repaired is not None:
            done, self._repaired = self._repaired, []
            return done
        pending = self.catalog.pending()
        if pending:
            log.info("repairing %d file(s) left by an interrupted ingest", len(pending))
            extra = self.vectors.ids_of_sources(pending) - self.catalog.chunk_ids_of(pending)
            self.vectors.delete_ids(sorted(extra))
            self.catalog.clear_pending(pending)
        repaired = pending + self.reconcile()
        self.settle_lexical()
        return repaired

    def settle_lexical(self) -> None:
        """Bring the lexical index level with the catalog: build it whole for an index from before
        Tantivy (or one whose folder is missing or disagrees), else take in the pending changes
        (those a killed ingest left included)."""
        chunks = self.catalog.chunk_count()
        if self.catalog.lexical_engine() != FTS5:
            self._sync_lexical()
            if self.words.count() == chunks:
                return
            why = "its folder does not match the catalog; until it is built, lexical search misses chunks"
        else:
            why = "the index is from before Tantivy; until it is built, searches use the previous one"
        started = time.monotonic()
        log.warning("building the lexical index (%s, %d chunks) once: %s", self.path / LEXICAL_DIR, chunks, why)
        self.words.rebuild(self.catalog)
        log.warning("lexical index built: %d chunks in %.0f s", chunks, time.monotonic() - started)

    def _sync_lexical(self, every_s: float = 0.0) -> None:
        if self.catalog.lexical_engine() == FTS5:
            return  # an index from before Tantivy: FTS5 follows the catalog by itself
        self.words.sync(self.catalog, every_s=every_s)

    def reconcile(self) -> list[str]:
        """A check of the invariant that costs two counts; on a mismatch (an index written by an
        older version, a store restored from a backup) the stores are compared id by id: vectors
        the catalog does not know are deleted, files with a vector missing are forgotten (and so
        ingested again)."""
        if self.vectors.count() == self.catalog.chunk_count():
            return []
        in_store, in_catalog = self.vectors.ids(), self.catalog.chunk_ids()
        extra, missing = in_store - in_catalog, in_catalog - in_store
        if not extra and not missing:
            return []
        log.warning(
            "index stores disagree: %d vectors unknown to the catalog, %d chunks without a vector; repairing",
            len(extra),
            len(missing),
        )
        self.vectors.delete_ids(sorted(extra))
        broken = sorted(self.catalog.sources_of(missing))
        self.remove_files(broken)
        return broken

    def write_files(self, files: Sequence[tuple[FileRecord, Sequence[Chunk]]], vectors: np.ndarray) -> None:
        """Replace the chunks of `files` (their vectors are the rows of `vectors`, in order), crash-safely."""
        if not files:
            return
        sources = [record.source for record, _ in files]
        chunks = [c for _, file_chunks in files for c in file_chunks]
        clock = self.write_seconds
        with clock.timing("writer journal"):
            self.catalog.mark_pending(sources)
        crashpoint("pending")
        with clock.timing("writer vectors"):
            if chunks:
                self.vectors.upsert([c.id for c in chunks], vectors, [c.metadata() for c in chunks])
        crashpoint("vectors")
        with clock.timing("writer catalog"):
            old = self.catalog.chunk_ids_of(sources)
            self.catalog.replace_files([(record, list(file_chunks)) for record, file_chunks in files])
        crashpoint("catalog")
        stale = old - {c.id for c in chunks}
        with clock.timing("writer vectors"):
            if stale:
                self.vectors.delete_ids(sorted(stale))
        with clock.timing("writer journal"):
            self.catalog.clear_pending(sources)
        with clock.timing("writer lexical"):
            self._sync_lexical(every_s=LEXICAL_SYNC_EVERY_S)

    def move_files(self, moves: Sequence[tuple[str, FileRecord]]) -> list[str]:
        """Files renamed or moved with the same content: each (old source, new record) takes the
        old source's chunks and vectors under the new name, nothing embedded again; crash-safely,
        as `write_files` (both names journalled until the store holds only the new ids). Returns
        the old sources it moved: one whose vectors are not all in the store is left (to be read)."""
        planned = []
        for old_source, record in moves:
            old_chunks = self.catalog.chunks_of(old_source)
            chunks = [renamed(c, record.source) for c in old_chunks]
            planned.append((old_source, record, chunks, [c.id for c in old_chunks]))
        vectors = self.vectors_of([i for *_, ids in planned for i in ids])
        planned = [p for p in planned if p[3] and all(i in vectors for i in p[3])]
        if not planned:
            return []
        sources = [s for old, record, *_ in planned for s in (old, record.source)]
        self.catalog.mark_pending(sources)
        new_chunks = [c for _, _, chunks, _ in planned for c in chunks]
        rows = np.stack([vectors[i] for *_, ids in planned for i in ids])
        self.vectors.upsert([c.id for c in new_chunks], rows, [c.metadata() for c in new_chunks])
        crashpoint("move-vectors")
        self.catalog.move_files([(old, record, chunks) for old, record, chunks, _ in planned])
        crashpoint("move-catalog")
        stale = {i for *_, ids in planned for i in ids} - {c.id for c in new_chunks}
        self.vectors.delete_ids(sorted(stale))
        self.catalog.clear_pending(sources)
        self._sync_lexical(every_s=LEXICAL_SYNC_EVERY_S)
        return [old for old, *_ in planned]

    def remove_files(self, sources: Sequence[str]) -> None:
        if not sources:
            return
        self.catalog.remove_files(sources, journal=True)
        crashpoint("removed")
        self.vectors.delete_sources(list(sources))
        self.catalog.clear_pending(sources)
        self._sync_lexical(every_s=LEXICAL_SYNC_EVERY_S)

    def close(self) -> None:
        if self._lock_fd is not None or self.words.wrote:
            try:
                with self.write_seconds.timing("writer lexical"):
                    self._sync_lexical()  # what the last writes changed becomes searchable now
            finally:
                self.words.close()
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None
        if self._worker_catalog is not None:
            if self._worker_catalog is not self.catalog:
                self._worker_catalog.close()
            self._worker_catalog = None
        self.catalog.close()
        if self._lock_fd is not None:
            release_lock(self._lock_fd)
            self._lock_fd = None
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def renamed(chunk: Chunk, source: str) -> Chunk:
    """`chunk` as the same file under the name `source` gives it (its id follows the name)."""
    return dataclasses.replace(chunk, source=source, id=chunk_id(source, chunk.chunk_index, chunk.text))


def _take_ingest_lock(db: Path) -> int:
    return take_lock(
        db / LOCK_FILE,
        lambda: IngestLockedError(
            f"Another ingest is writing to {db} right now. Wait for it to finish, or ingest into another --db folder."
        ),
    )


def open_index(db: Path, write: bool = False, chroma_url: str = "") -> Index:
    """Open the index in folder `db`. For writing, it is created if missing and the ingest lock is taken.
    `chroma_url`: its vectors live in that Chroma server (index/location.py checks the record)."""
    db = Path(db)
    if not write and not index_exists(db):
        raise NoIndexError(f"No index at {db}. Run `localgpt ingest --source-dir FOLDER --db {db}` first.")
    lock_fd = None
    if write:
        make_private(db)
        lock_fd = _take_ingest_lock(db)
    catalog = None
    try:
        catalog = Catalog(db / CATALOG_FILE)
        vectors = vector_store_factory(db, catalog, db / VECTORS_DIR, chroma_url, write)
    except Exception:
        if catalog is not None:
            catalog.close()
        if lock_fd is not None:
            os.close(lock_fd)
        raise
    return Index(db, catalog, vectors, lock_fd)
