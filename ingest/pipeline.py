"""One ingest run: compare the folder with the index, read what changed in worker processes,
embed it here in length-sorted batches, write it file group by file group, crash-safely.

    walk -> plan (size+mtime vs catalog) -> ParsePool (hash, read, chunk) -> embed -> Index.write_files

Nothing heavy loads when nothing changed: no worker starts, the model is never loaded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Collection, Iterator, Sequence

import numpy as np

from core.stages import StageClock
from core.errors import LocalGPTError, SourceError
from core.files import file_sha256
from core.index_text import INDEX_TEXT
from core.settings import Settings
from embeddings import Embedder, load_embedder
from index import index_label, open_configured_index
from index.catalog import Failure, Root
from index.crashpoints import crashpoint
from index.store import Index, IndexInfo
from ingest.chunking import ChunkPlan
from ingest.exclude import load_exclusions
from ingest.folders import claim_folder
from ingest.loaders import is_supported, supported_extensions
from ingest.loaders.image import OFF_REASON
from ingest.ocr import OcrOptions
from ingest.parse_pool import ParsePool, Parsed, worker_count
from ingest.moves import Move, find_moves
from ingest.plan import Plan, Task, in_scope, make_plan, reading_order
from ingest.progress import Progress
from ingest.report import EXIT_OK, EXIT_SOME_FAILED, FileOutcome, IngestReport
from ingest.walk import Found, find_documents

log = logging.getLogger(__name__)

__all__ = ["EXIT_OK", "EXIT_SOME_FAILED", "FileOutcome", "IngestReport", "run_ingest"]

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
    exclude: Sequence[str] = (),
    only: Collection[str] | None = None,
    embedders: dict | None = None,
) -> IngestReport:
    """Ingest `settings.source_dir` into `settings.db`: only that folder's files are touched
    (an index may hold several folders: ingest/folders.py). `exclude`: gitignore-style patterns,
    added to the folder's .localgptignore. `only`: paths relative to the folder (files or folders,
    forward slashes), as a watcher names what changed: only what lies at or under them is looked at,
    added, changed or removed (None: the whole folder). A file renamed or moved inside the folder
    keeps its chunks and vectors (ingest/moves.py). `embedders`: a long-lived caller's (the
    watcher's) cache of embedders between runs, so a model loaded once is not loaded again."""
    started = time.perf_counter()
    clock = StageClock()
    root = Path(settings.source_dir).expanduser()
    ocr = ocr_options(settings)
    with clock.timing("main walk"):
        found = find_documents(root, follow_external_links=settings.follow_external_links, only=only)
        exclusions = load_exclusions(root, exclude)
    excluded = [f for f in found if exclusions.excludes(f.source)]
    found = [f for f in found if not exclusions.excludes(f.source)]
    documents = [f for f in found if (is_supported(f.path, images=ocr.enabled) or f.problem) and not f.skipped]
    report = IngestReport(source_dir=str(root), db=index_label(settings.db, settings.index_url))
    if not documents and only is None:
        raise SourceError(
            f"No documents to ingest in {root} (supported: {', '.join(supported_extensions())}). "
            "Add files or pass another --source-dir."
        )
    if not settings.index_url:
        check_db_folder(settings.db)

    progress = progress or Progress(0, enabled=False)
    progress.total_files = len(documents)

    def record(outcome: FileOutcome) -> None:
        report.outcomes.append(outcome)
        if outcome.status not in ("removed", "skipped"):
            progress.file_done()
        if on_file:
            on_file(outcome)

    with (
        open_configured_index(settings, write=True) as index,
        contextlib.ExitStack() as pools,
    ):
        embedder = load_embedder(settings, index.recorded_precision())
        if embedders is not None:
            key = (str(embedder.model_path), embedder.precision, settings.embedding_backend, settings.device)
            embedder = embedders.setdefault(key, embedder)
        plan = chunk_plan(settings, embedder)
        reembed = not index.index_text_is_current()
        if reembed:
            log.warning(
                "the index at %s was embedded with an older recipe (chunk text without its title and "
                "headings): every file is read and embedded again, once",
                index.path,
            )
        index.check_compatible(index_info(settings, embedder), for_writing=True)
        folder = claim_folder(index.catalog, root)
        scope = (
            None if only is None else {folder.source_of(p.strip("/")) if p.strip("/") else folder.label for p in only}
        )
        documents = [d for d in _as_sources(folder, documents, index.catalog.roots()) if in_scope(d.source, scope)]
        wanted = {f.source for f in documents}
        for f in found:
            source = folder.source_of(f.source)
            if not in_scope(source, scope):
                continue
            if f.skipped:
                report.outcomes.append(FileOutcome(source, "skipped", f.skipped))
            elif source not in wanted:
                reason = OFF_REASON if is_supported(f.path) else f"unsupported file type {f.path.suffix or '(none)'}"
                report.outcomes.append(FileOutcome(source, "skipped", reason))
        excluded = [f for f in excluded if in_scope(folder.source_of(f.source), scope)]
        for f in excluded:
            report.outcomes.append(
                FileOutcome(folder.source_of(f.source), "excluded", "excluded (.localgptignore or --exclude)")
            )
        excluded_sources = {folder.source_of(f.source) for f in excluded}

        def parse_pool(files: int) -> ParsePool:
            workers = worker_count(settings.workers, files)
            return pools.enter_context(ParsePool(workers, embedder.info, plan, max_bytes(settings), ocr))

        def known_files():
            return {s: r for s, r in index.catalog.files(root=folder.path).items() if in_scope(s, scope)}

        def claim(tasks: list[Task]) -> list[Task]:
            """Those of `tasks` this ingest reads: all, unless other ingests share the index (index/pg_index.py)."""
            mine = set(index.catalog.claim([t.source for t in tasks]))
            return [t for t in tasks if t.source in mine]

        def plan_work(known) -> tuple[Plan, list[Move]]:
            work = make_plan(documents, known, folder.path, everything=reembed)
            moves = [] if reembed else find_moves(work.to_read, [known[s] for s in work.removed], file_sha256, _stat)
            return _without(work, moves), moves

        pool = None
        known = known_files()
        first_look, moves = plan_work(known)
        if first_look.to_read:
            # Three things take most of a second each before the first batch: the workers start and
            # read the first files, the vector store opens (in a thread) and the model loads (here).
            # They overlap. Nothing is written until the store has settled what a killed ingest left.
            pool = parse_pool(len(first_look.to_read))
            pool.prefetch(reading_order(first_look.to_read), claim)
            index.open_vectors_soon()
            if any(task.known_hash is None for task in first_look.to_read):  # new files: surely embedded
                embedder.load()
        report.repaired = index.repair()
        if (
            report.repaired
        ):  # the repair changed the catalog: plan again (what was read ahead and is still wanted is kept)
            known = known_files()
            work, moves = plan_work(known)
        else:
            work = first_look
        if moves:
            mine = set(index.catalog.claim([m.task.source for m in moves]))
            moves = [m for m in moves if m.task.source in mine]  # another ingest sharing the index moves the rest
        if moves:
            moved = set(index.move_files([(m.old.source, m.record) for m in moves]))
            for m in moves:
                if m.old.source in moved:
                    record(FileOutcome(m.record.source, "moved", f"from {m.old.source}", chunks=m.old.chunk_count))
                else:  # its vectors are not all in the store: read it as a new file
                    work.to_read.append(m.task)
                    work.removed.append(m.old.source)
        index.remove_files(work.removed)
        for source in work.removed:
            record(FileOutcome(source, "removed", "excluded" if source in excluded_sources else ""))
        for unchanged in work.unchanged:
            record(FileOutcome(unchanged.source, "unchanged", chunks=unchanged.chunk_count))
        failed_known = []
        for doc, reason in work.unreadable:
            record(FileOutcome(doc.source, "failed", reason))
            if doc.source in known:
                failed_known.append(doc.source)
        index.remove_files(failed_known)
        reading_started = time.perf_counter()
        timed_before = _main_seconds(clock)
        if work.to_read:
            progress.expect((task.source, task.size) for task in work.to_read)
            pool = pool or parse_pool(len(work.to_read))
            _read_embed_write(pool, reading_order(work.to_read), known, index, embedder, record, progress, clock, claim)
            report.embedding_backend = embedder.backend if embedder.loaded else ""
            report.embedding_compute = embedder.compute if embedder.loaded else ""
        reading_done = time.perf_counter()
        # What the reading loop spent between its timed stages (recording, progress, grouping), so
        # that the main thread's stages add up to the wall time whatever the machine's speed.
        between = reading_done - reading_started - (_main_seconds(clock) - timed_before)
        clock.add("main other (between files)", max(0.0, between))
        _settle_failures(index, folder, report, {f.source: f.path for f in documents}, scope)
        index.catalog.set_root_ingested(folder.path)
        index.catalog.set_info(
            {
                "last_ingest": time.time(),
                "source_dir": str(root.resolve()),
                **({"index_text": INDEX_TEXT} if reembed else {}),
            }
        )
    progress.close()
    report.sort()
    report.elapsed = time.perf_counter() - started
    walked = clock.seconds.get("main walk", 0.0)
    clock.add("main start-up (open, model load, plan, repair)", reading_started - started - walked)
    clock.add("main finish (failures, last lexical sync, close)", started + report.elapsed - reading_done)
    clock.merge(index.write_seconds.seconds)
    report.stages = clock.rounded()
    return report


def check_db_folder(db: Path) -> None:
    db = Path(db).expanduser()
    if db.exists() and not db.is_dir():
        raise SourceError(f"--db {db} is a file, not a folder. Pass the folder of an index (or a new folder's name).")


def _as_sources(folder: Root, documents: list[Found], roots: list[Root]) -> list[Found]:
    """The folder's files under their sources in the index (its label first). A file of the
    unlabelled folder whose path starts with another folder's label would be mistaken for that
    folder's: it fails, with the reason."""
    labels = {r.label for r in roots if r.label and r.path != folder.path}
    out = []
    for doc in documents:
        source = folder.source_of(doc.source)
        if not folder.label and source.split("/", 1)[0] in labels:
            doc = dataclasses.replace(
                doc,
                problem=f"its path starts with {source.split('/', 1)[0]}/, the name another "
                "folder's files have in this index; rename it, or remove that folder",
            )
        out.append(dataclasses.replace(doc, source=source))
    return out


def _main_seconds(clock: StageClock) -> float:
    return sum(seconds for name, seconds in clock.seconds.items() if name.startswith("main "))


def _stat(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _without(work: Plan, moves: list[Move]) -> Plan:
    """`work` less the files `moves` handle: their new names are not read, their old ones not removed."""
    if not moves:
        return work
    new, old = {m.task.source for m in moves}, {m.old.source for m in moves}
    return dataclasses.replace(
        work,
        to_read=[t for t in work.to_read if t.source not in new],
        removed=[s for s in work.removed if s not in old],
    )


def _settle_failures(
    index: Index, folder: Root, report: IngestReport, paths: dict[str, Path], scope: set[str] | None = None
) -> None:
    """Record this run's failures of the folder; mark those acknowledged before, for the same
    reason and the same file (size and mtime), as known: they no longer make the exit code 3.
    Only the failures of files this run read, or found gone (within its `scope`: ingest/plan.py,
    `in_scope`), change: those of files outside it, or left to another ingest sharing the index,
    stay as the catalog holds them when this run writes, not as it read them."""
    before = index.catalog.failures(root=folder.path)
    now = time.time()
    decided = {o.source for o in report.outcomes}
    drop = {s for s in before if in_scope(s, scope) and (s in decided or s not in paths)}  # read again, or gone
    failures = []
    for outcome in report.failed:
        size = mtime = None
        with contextlib.suppress(OSError, KeyError):
            stat = paths[outcome.source].stat()
            size, mtime = stat.st_size, stat.st_mtime_ns
        old = before.get(outcome.source)
        same = old is not None and old.reason == outcome.reason and (old.size, old.mtime_ns) == (size, mtime)
        outcome.known = same and old.acknowledged
        failures.append(
            Failure(
                outcome.source,
                folder.path,
                outcome.reason,
                size,
                mtime,
                old.first_seen if same else now,
                now,
                outcome.known,
            )
        )
    index.catalog.settle_failures(folder.path, failures, drop)


class _Writer:
    """Writes a group of files to the index in a thread while the main one embeds the next group.

    At most one write is in flight, and the main thread waits for it before it touches the index
    itself, so the index sees the same writes in the same order as without the thread (each
    write is crash-safe on its own: Index.write_files). A write's outcomes are recorded, in the
    main thread, once it is done."""

    def __init__(self, index: Index, clock: StageClock):
        self.index = index
        self.clock = clock
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="index-writer")
        self._pending: tuple[Future, Callable[[], None]] | None = None

    def write(self, files, vectors: np.ndarray, then: Callable[[], None]) -> None:
        self.wait()
        self._pending = (self._thread.submit(self.index.write_files, files, vectors), then)

    def wait(self) -> None:
        if self._pending is not None:
            future, then = self._pending
            self._pending = None
            with self.clock.timing("main waiting for the writer"):
                future.result()
            then()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._thread.shutdown(wait=True)


def _read_embed_write(
    pool: ParsePool,
    tasks,
    known,
    index: Index,
    embedder: Embedder,
    record,
    progress: Progress,
    clock: StageClock,
    claim=None,
) -> None:
    group = _Group()
    writer = _Writer(index, clock)
    try:
        progress.follow(pool.reading, pool.finished)
        for parsed in _timed(
            pool.results(tasks, on_wait=progress.redraw, claim=claim), clock, "main waiting for files"
        ):
            crashpoint("parsed")
            clock.merge(parsed.seconds)
            progress.file_read(parsed.source, len(parsed.chunks) if parsed.status == "read" else None)
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
                _flush(group, known, writer, embedder, record, progress, clock)
                group = _Group()
        progress.follow(None)
        _flush(group, known, writer, embedder, record, progress, clock)
    finally:
        progress.follow(None)
        writer.close()


def _timed(items: Iterator, clock: StageClock, stage: str) -> Iterator:
    """`items`, the time spent waiting for each added to `stage`."""
    while True:
        with clock.timing(stage):
            item = next(items, _END)
        if item is _END:
            return
        yield item


_END = object()


def _flush(
    group: _Group, known, writer: _Writer, embedder: Embedder, record, progress: Progress, clock: StageClock
) -> None:
    if not group.files:
        return
    tokens = [t for parsed in group.files for t in parsed.tokens]
    token_ids = None
    if all(parsed.token_ids is not None for parsed in group.files):
        token_ids = [ids for parsed in group.files for ids in parsed.token_ids]
    progress.embedding([parsed.source for parsed in sorted(group.files, key=lambda p: -len(p.chunks))])
    texts = [t for parsed in group.files for t in (parsed.texts or [c.text for c in parsed.chunks])]
    with clock.timing("main embedding"):
        vectors = embed_sorted(embedder, texts, tokens, on_batch=progress.chunks_done, token_ids=token_ids)

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
