"""One ingest run: compare the folder with the index, read and embed what changed, write it safely."""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from core.errors import SourceError
from core.settings import Settings
from embeddings import Embedder, load_embedder
from index import open_index
from index.catalog import FileRecord
from index.store import IndexInfo
from ingest.chunking import ChunkPlan, chunk_sections
from ingest.loaders import LoadError, is_supported, load_file
from ingest.walk import Found, find_documents

log = logging.getLogger(__name__)

# Exit codes of `localgpt ingest` (documented in the README).
EXIT_SOME_FAILED = 3


@dataclass
class FileOutcome:
    source: str
    status: str  # new, changed, unchanged, removed, failed, skipped
    reason: str = ""
    chunks: int = 0


@dataclass
class IngestReport:
    source_dir: str
    db: str
    outcomes: list[FileOutcome] = field(default_factory=list)
    elapsed: float = 0.0
    repaired: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def chunks_written(self) -> int:
        return sum(o.chunks for o in self.outcomes if o.status in ("new", "changed"))

    @property
    def exit_code(self) -> int:
        return EXIT_SOME_FAILED if self.failed else 0

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in ("new", "changed", "unchanged", "removed", "failed", "skipped")]
        return f"Ingested {self.source_dir} into {self.db}: {', '.join(parts)}; {self.chunks_written} chunks written in {self.elapsed:.1f}s."

    def to_json(self) -> dict:
        return {
            "source_dir": self.source_dir,
            "db": self.db,
            "elapsed_s": round(self.elapsed, 3),
            "counts": {s: self.count(s) for s in ("new", "changed", "unchanged", "removed", "failed", "skipped")},
            "chunks_written": self.chunks_written,
            "files": [o.__dict__ for o in self.outcomes],
        }


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    )


def run_ingest(settings: Settings, on_file: Callable[[FileOutcome], None] | None = None) -> IngestReport:
    started = time.perf_counter()
    root = Path(settings.source_dir).expanduser()
    found = find_documents(root)
    documents = [f for f in found if is_supported(f.path)]
    report = IngestReport(source_dir=str(root), db=str(settings.db))
    for f in found:
        if not is_supported(f.path):
            report.outcomes.append(FileOutcome(f.source, "skipped", f"unsupported file type {f.path.suffix or '(none)'}"))
    if not documents:
        raise SourceError(f"No documents to ingest in {root} (supported: PDF, DOCX, TXT, MD, HTML, CSV). Add files or pass another --source-dir.")

    embedder = load_embedder(settings)
    plan = chunk_plan(settings, embedder)
    with open_index(settings.db, write=True) as index:
        index.check_compatible(index_info(settings, embedder), for_writing=True)
        report.repaired = index.repair()
        known = index.catalog.files()
        for doc in documents:
            outcome = _ingest_one(doc, known.get(doc.source), index, embedder, plan)
            report.outcomes.append(outcome)
            if on_file:
                on_file(outcome)
        present = {d.source for d in documents}
        gone = sorted(s for s in known if s not in present)
        index.remove_files(gone)
        report.outcomes.extend(FileOutcome(s, "removed") for s in gone)
        index.catalog.set_info({"last_ingest": time.time(), "source_dir": str(root.resolve())})
    report.elapsed = time.perf_counter() - started
    return report


def _ingest_one(doc: Found, known: FileRecord | None, index, embedder: Embedder, plan: ChunkPlan) -> FileOutcome:
    try:
        stat = doc.path.stat()
        if known and known.size == stat.st_size and known.mtime_ns == stat.st_mtime_ns:
            return FileOutcome(doc.source, "unchanged", chunks=known.chunk_count)
        digest = file_hash(doc.path)
        record = FileRecord(doc.source, digest, stat.st_size, stat.st_mtime_ns)
        if known and known.content_hash == digest:
            index.catalog.touch_file(record)
            return FileOutcome(doc.source, "unchanged", chunks=known.chunk_count)
        sections = load_file(doc.path)
        chunks = chunk_sections(sections, doc.source, embedder.tokens, plan)
        if not chunks:
            raise LoadError("no text found in the file")
        vectors = embedder.embed([c.text for c in chunks])
    except LoadError as exc:
        return FileOutcome(doc.source, "failed", str(exc))
    except PermissionError:
        return FileOutcome(doc.source, "failed", "permission denied: cannot read the file")
    except OSError as exc:
        return FileOutcome(doc.source, "failed", f"cannot read the file: {exc.strerror or exc}")
    index.replace_file(record, chunks, vectors)
    return FileOutcome(doc.source, "changed" if known else "new", chunks=len(chunks))
