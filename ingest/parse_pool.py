"""Reading and chunking files in worker processes, while the main process embeds and writes.

Workers are spawned (not forked): they share no file descriptors with the main process,
so they never hold the ingest lock, the catalog or Chroma, and die with it. Each worker
loads only the tokenizer (to cut chunks by the model's tokens), never the model.
A worker that crashes on a file (a parser segfault, the OOM killer) costs that file, not the run.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from core.files import file_sha256
from core.types import Chunk
from index.catalog import FileRecord
from core.stages import StageClock
from ingest.chunking import ChunkPlan
from ingest.ocr import OcrOptions
from ingest.plan import Task

if TYPE_CHECKING:
    from embeddings.embedder import EmbedderInfo

log = logging.getLogger(__name__)

ATTEMPTS = 2  # a file in flight when a worker died is tried once more, in a fresh pool
# Workers run at a lower priority than the process that embeds: reading needs about a twentieth of the
# CPU that embedding does and has files in hand ahead, so it loses nothing by taking the gaps, while the
# embedder's threads are no longer preempted mid-batch (6 paired runs on 2 cores, lowered from the start:
# 26.5 s against 27.1 s). The first file runs at full priority: embedding waits for it.
WORKER_NICE = 10


@dataclass
class Parsed:
    source: str
    status: str  # read, unchanged (same content hash), failed
    record: FileRecord | None = None
    reason: str = ""
    chunks: list[Chunk] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)  # token count of each chunk
    token_ids: list | None = None  # each chunk's model input ids (numpy int32), or None: embed from the text
    texts: list[str] = field(default_factory=list)  # what is embedded for each chunk: its index text
    seconds: dict[str, float] = field(default_factory=dict)  # worker CPU seconds per stage (core/stages.py)


# -- in the worker -------------------------------------------------------------
_worker: dict = {}  # this worker's tokenizer and plan, set once by _init


def _die_with(parent: int) -> None:
    """End this worker when the main process dies, even by SIGKILL (workers hold the task
    queue's pipe open themselves, so they would otherwise wait on it forever)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.5)

    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _init(model_path: str, max_length: int, plan: ChunkPlan, parent: int, ocr: OcrOptions | None = None) -> None:
    """A worker's set-up: the tokenizer of the embedding model at `model_path`, which reads `max_length` tokens."""
    from core.offline import enforce_offline
    from embeddings.tokens import TokenCounter

    _die_with(parent)
    enforce_offline()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _worker.update(
        counter=TokenCounter(Path(model_path), max_length=max_length), plan=plan, niced=False, ocr=ocr or OcrOptions()
    )


def _load(path: Path, max_bytes: int | None):
    from ingest.loaders import load_file

    return load_file(path, max_bytes=max_bytes, ocr=_worker.get("ocr"))


def parse(task: Task, max_bytes: int | None) -> Parsed:
    """Hash the file; if its content is new, read it into chunks. Never raises for a bad file."""
    try:
        return _parse(task, max_bytes)
    finally:
        if _worker.get("niced") is False:  # a worker's first file at full priority: embedding waits for it
            _worker["niced"] = True
            os.nice(WORKER_NICE)


def _parse(task: Task, max_bytes: int | None) -> Parsed:
    from ingest.chunking import chunk_sections, index_inputs
    from ingest.loaders import LoadError, read_failure

    path = Path(task.path)
    clock = StageClock()
    try:
        stat = path.stat()
        if max_bytes is not None and stat.st_size > max_bytes:
            mb = lambda n: f"{n / 1e6:.1f}"  # noqa: E731
            raise LoadError(
                f"file is {mb(stat.st_size)} MB, above the {mb(max_bytes)} MB limit (--max-file-mb); raise the limit to ingest it"
            )
        with clock.timing("worker hash", cpu=True):
            record = FileRecord(task.source, file_sha256(path), stat.st_size, stat.st_mtime_ns, root=task.root)
        if task.known_hash == record.content_hash:
            return Parsed(task.source, "unchanged", record, seconds=clock.seconds)
        with clock.timing(f"worker read {path.suffix.lower() or '(none)'}", cpu=True):
            sections = _load(path, max_bytes)
        counter, plan = _worker["counter"], _worker["plan"]
        with clock.timing("worker chunk", cpu=True):
            chunks = chunk_sections(sections, task.source, counter, plan)
        if not chunks:
            raise LoadError("no text found in the file")
        with clock.timing("worker heads and tokens", cpu=True):
            texts, tokens, token_ids = index_inputs(chunks, counter)
        return Parsed(
            task.source,
            "read",
            record,
            chunks=chunks,
            tokens=tokens,
            token_ids=token_ids,
            texts=texts,
            seconds=clock.seconds,
        )
    except Exception as exc:  # reading is mapped by _load; this is stat, hash and chunking: one file, not the run
        if not isinstance(exc, LoadError):
            log.debug("parsing failed on %s", task.source, exc_info=True)
        return Parsed(task.source, "failed", reason=str(read_failure(exc)))


# -- in the main process -------------------------------------------------------
def worker_count(requested: int, files: int) -> int:
    """`requested`, or by default one per core but one (the main process embeds), never more than files."""
    cores = os.cpu_count() or 1
    return max(1, min(requested if requested > 0 else cores - 1, files))


Claim = Callable[[list[Task]], list[Task]]
CLAIM_AHEAD = 4  # files claimed at a time when several ingests share an index


class ParsePool:
    """`results(tasks)` yields a `Parsed` per task as workers finish them, keeping a few in flight."""

    def __init__(
        self, workers: int, model: EmbedderInfo, plan: ChunkPlan, max_bytes: int | None, ocr: OcrOptions | None = None
    ):
        """`model`: the embedding model's description; each worker tokenizes with its tokenizer, as it reads."""
        self.workers = workers
        self.init_args = (str(model.path), model.max_seq_length, plan, os.getpid(), ocr or OcrOptions())
        self.max_bytes = max_bytes
        self._pool: ProcessPoolExecutor | None = None
        self._inflight: dict[Future, tuple[Task, int]] = {}
        self._prefetched: dict[Task, Future] = {}

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init,
                initargs=self.init_args,
            )
        return self._pool

    def prefetch(self, tasks: list[Task], claim: Claim | None = None) -> None:
        """Start the workers (each spends a few tenths of a second importing and loading the tokenizer)
        and let them read the first of `tasks` before the caller has settled what to read (the vector
        store is still opening): `results` takes up those it is given again, drops the rest.
        `claim`: as for `results`."""
        first = tasks[: self.workers * 4]
        for task in claim(first) if claim is not None else first:
            self._prefetched[task] = self._start().submit(parse, task, self.max_bytes)

    def ready(self) -> bool:
        """A result is waiting: the caller may collect more before it embeds."""
        return any(f.done() for f in self._inflight)

    def reading(self) -> list[str]:
        """The sources the workers are reading now, as far as the main process can tell: the
        first tasks not done, in the order given (each worker takes the next one when it is free)."""
        pending = [task.source for future, (task, _) in self._inflight.items() if not future.done()]
        return pending[: self.workers]

    def finished(self) -> list[tuple[str, int | None]]:
        """(source, chunks) of the files read but not yet collected by `results` (the caller is busy
        embedding): chunks None for a file unchanged or failed."""
        out = []
        for future, (task, _) in list(self._inflight.items()):
            if future.done() and not future.cancelled() and future.exception() is None:
                parsed = future.result()
                out.append((task.source, len(parsed.chunks) if parsed.status == "read" else None))
        return out

    def results(
        self, tasks: Iterable[Task], on_wait: Callable[[], None] | None = None, claim: Claim | None = None
    ) -> Iterator[Parsed]:
        """`on_wait()`: called before each wait for a worker (`reading()` says for which files).
        `claim(tasks)`: those of `tasks` this ingest may read (several ingests share an index:
        index/pg_index.py); asked a few files ahead of the readers, the others are left out."""
        queue: list[tuple[Task, int]] = [(t, 1) for t in tasks]
        queue.reverse()  # popped from the end: files go in the order given
        wanted = {task for task, _ in queue}
        for task in [t for t in self._prefetched if t not in wanted]:
            self._prefetched.pop(task).cancel()
        claimed, refused = set(self._prefetched), set()
        limit = self.workers * 4
        while queue or self._inflight:
            while queue and len(self._inflight) < limit:
                task, attempt = queue.pop()
                if claim is not None and task not in claimed:
                    if task in refused:
                        continue
                    ahead = [task, *(t for t, _ in reversed(queue[-(CLAIM_AHEAD - 1) :]) if t not in claimed)]
                    got = set(claim(ahead))
                    claimed |= got
                    refused |= set(ahead) - got
                    if task not in got:
                        continue  # another ingest reads it
                future = self._prefetched.pop(task, None) or self._start().submit(parse, task, self.max_bytes)
                self._inflight[future] = (task, attempt)
            if on_wait is not None:
                on_wait()
            done, _ = wait(list(self._inflight), return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                task, attempt = self._inflight.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool:
                    broken = True
                    if attempt < ATTEMPTS:
                        queue.append((task, attempt + 1))
                    else:
                        yield Parsed(task.source, "failed", reason="the reader process crashed on this file")
            if broken:
                log.warning("a parse worker died; starting new ones")
                for task, attempt in list(self._inflight.values()):
                    queue.append((task, attempt + 1 if attempt < ATTEMPTS else attempt))
                self._inflight.clear()
                self.close()

    def close(self) -> None:
        self._prefetched.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "ParsePool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
