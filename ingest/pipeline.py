"""One ingest run: compare the folder with the index, read what changed in worker processes,
embed it here in length-sorted batches, write it file group by file group, crash-safely.

    walk -> plan (size+mtime vs catalog) -> ParsePool (hash, read, chunk) -> embed -> Index.write_files

Nothing heavy loads when nothing changed: no worker starts, the model is never loaded.
"""
from __future__ import annotations

import contextlib
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from core.errors import LocalGPTError, SourceError
from core.settings import Settings
from embeddings import Embedder, load_embedder
from embeddings.embedder import embedding_model_path
from index import open_index
from index.crashpoints import crashpoint
from index.store import Index, IndexInfo
from ingest.chunking import ChunkPlan
from ingest.loaders import is_supported, supported_extensions
from ingest.loaders.image import OFF_REASON
from ingest.ocr import OcrOptions
from ingest.parse_pool import ParsePool, Parsed, file_hash, worker_count
from ingest.plan import make_plan, reading_order
from ingest.progress import Progress
from ingest.report import EXIT_OK, EXIT_SOME_FAILED, FileOutcome, IngestReport
from ingest.walk import find_documents

log = logging.getLogger(__name__)

__all__ = ["EXIT_OK", "EXIT_SOME_FAILED", "FileOutcome", "IngestReport", "file_hash", "run_ingest"]

# Chunks gathered (from whole files) before they are embedded and written together, in batches:
# enough to sort by length and cut padding, few enough to keep memory and the work a kill loses small.
GROUP_CHUNKS = 512
# With nothing more parsed yet, embed what is there rather than wait, once there are this many.
MIN_GROUP_CHUNKS = 16


def chunk_plan(settings: Settings, embedder: Embedder) -> ChunkPlan:
    return ChunkPlan(max_tokens=min(settings.chunk_tokens, embedder.info.max_tokens), overlap=settings.chunk_overlap)


def index_info(settings: Settings, embedder: Embedder) -> IndexInfo:
    plan = chunk_plan(settings, embedder)
    return IndexInfo(
        embedding_model=embedder.info.name,
        embedding_fingerprint=embedder.info.fingerprint,
        dimensions=embedder.info.dimensions,
        chunk_tokens=plan.max_tokens,
        chunk_overlap=plan.overlap,
        embedding_precision=embedder.precision,
    )


def max_bytes(settings: Settings) -> int | None:
    return int(settings.max_file_mb * 1_000_000) if settings.max_file_mb > 0 else None


def ocr_options(settings: Settings) -> OcrOptions:
    try:
        return OcrOptions.from_settings(settings)
    except ValueError as exc:
        raise LocalGPTError(f"{exc}: pass --ocr auto, off or force.") from None


@dataclass
class _Group:
    """Files read and waiting to be embedded and written together."""

    files: list[Parsed] = field(default_factory=list)
    chunks: int = 0

    def add(self, parsed: Parsed) -> None:
        self.files.append(parsed)
        self.chunks += len(parsed.chunks)


def run_ingest(
    settings: Settings,
    on_file: Callable[[FileOutcome], None] | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    started = time.perf_counter()
    root = Path(settings.source_dir).expanduser()
    ocr = ocr_options(settings)
    found = find_documents(root)
    documents = [f for f in found if is_supported(f.path, images=ocr.enabled) or f.problem]
    report = IngestReport(source_dir=str(root), db=str(settings.db))
    wanted = {f.source for f in documents}
    for f in found:
        if f.source not in wanted:
            reason = OFF_REASON if is_supported(f.path) else f"unsupported file type {f.path.suffix or '(none)'}"
            report.outcomes.append(FileOutcome(f.source, "skipped", reason))
    if not documents:
        raise SourceError(
            f"No documents to ingest in {root} (supported: {', '.join(supported_extensions())}). "
            "Add files or pass another --source-dir."
        )

    progress = progress or Progress(0, enabled=False)
    progress.total_files = len(documents)

    def record(outcome: FileOutcome) -> None:
        report.outcomes.append(outcome)
        if outcome.status not in ("removed", "skipped"):
            progress.file_done()
        if on_file:
            on_file(outcome)

    with open_index(settings.db, write=True) as index, contextlib.ExitStack() as pools:
        embedder = load_embedder(settings, index.recorded_precision())
        plan = chunk_plan(settings, embedder)
        index.check_compatible(index_info(settings, embedder), for_writing=True)

        def parse_pool(files: int) -> ParsePool:
            workers = worker_count(settings.workers, files)
            return pools.enter_context(ParsePool(workers, embedding_model_path(settings), plan, max_bytes(settings), ocr))

        pool = None
        known = index.catalog.files()
        first_look = make_plan(documents, known)
        if first_look.to_read:
            # Three things take most of a second each before the first batch: the workers start and
            # read the first files, the vector store opens (in a thread) and the model loads (here).
            # They overlap. Nothing is written until the store has settled what a killed ingest left.
            pool = parse_pool(len(first_look.to_read))
            pool.prefetch(reading_order(first_look.to_read))
            index.open_vectors_soon()
            if any(task.known_hash is None for task in first_look.to_read):  # new files: surely embedded
                embedder.load()
        report.repaired = index.repair()
        if report.repaired:  # the repair changed the catalog: plan again (what was read ahead and is still wanted is kept)
            known = index.catalog.files()
            work = make_plan(documents, known)
        else:
            work = first_look
        index.remove_files(work.removed)
        for source in work.removed:
            record(FileOutcome(source, "removed"))
        for unchanged in work.unchanged:
            record(FileOutcome(unchanged.source, "unchanged", chunks=unchanged.chunk_count))
        failed_known = []
        for doc, reason in work.unreadable:
            record(FileOutcome(doc.source, "failed", reason))
            if doc.source in known:
                failed_known.append(doc.source)
        index.remove_files(failed_known)
        if work.to_read:
            pool = pool or parse_pool(len(work.to_read))
            _read_embed_write(pool, reading_order(work.to_read), known, index, embedder, record, progress)
            report.embedding_backend = embedder.backend if embedder.loaded else ""
            report.embedding_compute = embedder.compute if embedder.loaded else ""
        index.catalog.set_info({"last_ingest": time.time(), "source_dir": str(root.resolve())})
    progress.close()
    report.sort()
    report.elapsed = time.perf_counter() - started
    return report


class _Writer:
    """Writes a group of files to the index in a thread while the main one embeds the next group.

    At most one write is in flight, and the main thread waits for it before it touches the index
    itself, so the index sees the same writes in the same order as without the thread (each
    write is crash-safe on its own: Index.write_files). A write's outcomes are recorded, in the
    main thread, once it is done."""

    def __init__(self, index: Index):
        self.index = index
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="index-writer")
        self._pending: tuple[Future, Callable[[], None]] | None = None

    def write(self, files, vectors: np.ndarray, then: Callable[[], None]) -> None:
        self.wait()
        self._pending = (self._thread.submit(self.index.write_files, files, vectors), then)

    def wait(self) -> None:
        if self._pending is not None:
            future, then = self._pending
            self._pending = None
            future.result()
            then()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._thread.shutdown(wait=True)


def _read_embed_write(pool: ParsePool, tasks, known, index: Index, embedder: Embedder, record, progress: Progress) -> None:
    group = _Group()
    writer = _Writer(index)
    try:
        for parsed in pool.results(tasks):
            crashpoint("parsed")
            if parsed.status == "unchanged":
                writer.wait()
                index.catalog.touch_file(parsed.record)
                record(FileOutcome(parsed.source, "unchanged", chunks=known[parsed.source].chunk_count))
            elif parsed.status == "failed":
                if parsed.source in known:  # a clean run would hold nothing of it: neither do we
                    writer.wait()
                    index.remove_files([parsed.source])
                record(FileOutcome(parsed.source, "failed", parsed.reason))
            else:
                group.add(parsed)
            if group.chunks >= GROUP_CHUNKS or (group.chunks >= MIN_GROUP_CHUNKS and not pool.ready()):
                _flush(group, known, writer, embedder, record, progress)
                group = _Group()
        _flush(group, known, writer, embedder, record, progress)
    finally:
        writer.close()


def _flush(group: _Group, known, writer: _Writer, embedder: Embedder, record, progress: Progress) -> None:
    if not group.files:
        return
    chunks = [c for parsed in group.files for c in parsed.chunks]
    tokens = [t for parsed in group.files for t in parsed.tokens]
    token_ids = None
    if all(parsed.token_ids is not None for parsed in group.files):
        token_ids = [ids for parsed in group.files for ids in parsed.token_ids]
    progress.embedding()
    vectors = embed_sorted(embedder, [c.text for c in chunks], tokens, on_batch=progress.chunks_done, token_ids=token_ids)

    def written() -> None:
        for parsed in group.files:
            status = "changed" if parsed.source in known else "new"
            record(FileOutcome(parsed.source, status, chunks=len(parsed.chunks)))

    writer.write([(parsed.record, parsed.chunks) for parsed in group.files], vectors, then=written)


def embed_sorted(
    embedder: Embedder,
    texts: list[str],
    tokens: list[int],
    on_batch: Callable[[int], None] | None = None,
    token_ids: list | None = None,
) -> np.ndarray:
    """Vectors of `texts` in their order, embedded in batches of similar length (less padding).
    `token_ids`: the texts as the workers tokenized them for the model (spares tokenizing again)."""
    order = np.argsort(np.asarray(tokens, dtype=np.int64), kind="stable")
    out = np.empty((len(texts), embedder.info.dimensions), dtype=np.float32)
    size = max(1, embedder.batch_size)
    for start in range(0, len(order), size):
        picked = order[start : start + size]
        ids = [token_ids[i] for i in picked] if token_ids is not None else None
        out[picked] = embedder.embed([texts[i] for i in picked], token_ids=ids)
        crashpoint("embedded")
        if on_batch:
            on_batch(len(picked))
    return out
