"""What an ingest did, file by file: the summary a user reads and the JSON of `--report`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from core.display import plural

# Exit codes of `localgpt ingest` (docs/ingest.md).
EXIT_OK = 0
EXIT_SOME_FAILED = 3

STATUSES = ("new", "changed", "unchanged", "moved", "removed", "failed", "skipped", "excluded")


@dataclass
class FileOutcome:
    source: str
    status: str  # one of STATUSES
    reason: str = ""
    chunks: int = 0
    known: bool = False  # a failure acknowledged earlier, same reason, same size and mtime: no exit code 3


@dataclass
class IngestReport:
    source_dir: str
    db: str
    outcomes: list[FileOutcome] = field(default_factory=list)
    elapsed: float = 0.0
    repaired: list[str] = field(default_factory=list)
    embedding_backend: str = ""  # "" when nothing needed embedding (the model was not loaded)
    embedding_compute: str = ""  # float32, bfloat16 or int8 ("" as above)
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage (core/stages.py, docs/ingest.md)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def chunks_written(self) -> int:
        return sum(o.chunks for o in self.outcomes if o.status in ("new", "changed"))

    @property
    def new_failures(self) -> list[FileOutcome]:
        return [o for o in self.failed if not o.known]

    @property
    def exit_code(self) -> int:
        return EXIT_SOME_FAILED if self.new_failures else EXIT_OK

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in STATUSES]
        known = len(self.failed) - len(self.new_failures)
        if known:
            parts[STATUSES.index("failed")] += f" ({known} known)"
        return (
            f"Ingested {self.source_dir} into {self.db}: {', '.join(parts)}; "
            f"{plural(self.chunks_written, 'chunk')} written in {self.elapsed:.1f}s."
        )

    def sort(self) -> None:
        self.outcomes.sort(key=lambda o: (o.source, o.status))

    def to_json(self) -> dict:
        return {
            "source_dir": self.source_dir,
            "db": self.db,
            "elapsed_s": round(self.elapsed, 3),
            "exit_code": self.exit_code,
            "counts": {s: self.count(s) for s in STATUSES},
            "new_failures": len(self.new_failures),
            "chunks_written": self.chunks_written,
            "repaired": self.repaired,
            "embedding_backend": self.embedding_backend,
            "embedding_compute": self.embedding_compute,
            "stages": self.stages,
            "files": [asdict(o) for o in self.outcomes],
        }
