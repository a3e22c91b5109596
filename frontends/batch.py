"""`localgpt batch QUESTIONS -o ANSWERS`: many questions, one model load, answers written as they come.

Resumable: the answers file is read back first; questions it already answers (by id, else by
question text) are skipped. Records of failed questions and a record cut short by a kill are
dropped from it (the file is rewritten atomically), so a rerun retries them and every question
ends up in the file exactly once.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from core.display import plural
from core.files import open_private
from frontends.batch_files import ANSWERED, FAILED, AnswerFormat, Existing, Question, format_for, normalize
from answering import Session
from generation import Answer
from generation.record import answer_record

log = logging.getLogger(__name__)

# Exit codes of `localgpt batch` (documented in docs/chat-and-batch.md and the command's help).
EXIT_ALL_ANSWERED = 0
EXIT_SOME_FAILED = 3
EXIT_INTERRUPTED = 130


@dataclass
class BatchReport:
    output: Path
    total: int = 0  # questions in the input, duplicates not counted
    already: int = 0  # answered by an earlier run
    duplicates: int = 0  # the same id (or text) again in the input: answered once
    answered: int = 0  # answered by this run
    failed: list[tuple[Question, str]] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def exit_code(self) -> int:
        return EXIT_SOME_FAILED if self.failed else EXIT_ALL_ANSWERED

    def rate_per_minute(self) -> float:
        done = self.answered + len(self.failed)
        return 60.0 * done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def summary(self) -> str:
        parts = [f"{self.answered} answered now", f"{self.already} already in {self.output.name}"]
        if self.duplicates:
            parts.append(f"{plural(self.duplicates, 'duplicate')} skipped")
        parts.append(f"{len(self.failed)} failed")
        text = f"{plural(self.total, 'question')}: {', '.join(parts)}"
        if self.answered or self.failed:
            text += f"; {self.rate_per_minute():.1f} questions/minute"
        if self.failed:
            text += ". Rerun the same command to retry the failed ones"
        return text + "."


def batch_record(question: Question, result: Answer) -> dict[str, Any]:
    """The answer record (generation/record.py) with the question's id and status first."""
    return {
        "id": question.id,
        **_line(question),
        "question": question.text,
        "status": ANSWERED,
        **answer_record(result),
    }


def _line(question: Question) -> dict[str, Any]:
    """Where the question is in its file, for a record: {"line": 3} (none for questions from elsewhere)."""
    return {"line": question.line} if question.line is not None else {}


def error_record(question: Question, error: str, elapsed: float) -> dict[str, Any]:
    return {
        "id": question.id,
        **_line(question),
        "question": question.text,
        "status": FAILED,
        "error": error,
        "timings": {"total_s": round(elapsed, 4)},
    }


def _done_keys(existing: Existing) -> set[tuple[str, str]]:
    keys = set()
    for entry in existing.entries:
        if entry.status == ANSWERED:
            keys.add(("id", str(entry.id)))
            keys.add(("question", normalize(entry.question)))
    return keys


def prepare_output(path: Path, fmt: AnswerFormat) -> set[tuple[str, str]]:
    """Keys answered already; the file left holding only whole answered records, ready to append to."""
    content = ""
    if path.exists():
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            content = handle.read()
    if not content.strip():
        with open_private(path, "w") as handle:
            handle.write(fmt.header())
        return set()
    existing = fmt.parse(content)
    kept = [e for e in existing.entries if e.status == ANSWERED]
    if not existing.clean or len(kept) != len(existing.entries):
        dropped = len(existing.entries) - len(kept)
        log.info(
            "rewriting %s: %d failed record(s) to retry%s",
            path,
            dropped,
            "" if existing.clean else ", a record cut short dropped",
        )
        temporary = path.with_name(path.name + ".tmp")
        with open_private(temporary, "w") as handle:
            handle.write(existing.header + "".join(e.raw for e in kept))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    return _done_keys(existing)


def run_batch(
    session: Session,
    questions: list[Question],
    output: str | Path,
    on_done: Callable[[dict[str, Any]], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> BatchReport:
    """Answer every question not answered in `output` yet, appending each record as soon as it is done.

    `on_start(n)` learns how many questions are left; `on_done(record)` is called after each is written.
    """
    output = Path(output)
    fmt = format_for(output)
    done = prepare_output(output, fmt)
    report = BatchReport(output)
    pending: list[Question] = []
    seen: set[tuple[str, str]] = set()
    for question in questions:
        if question.key in seen:
            report.duplicates += 1
            continue
        seen.add(question.key)
        report.total += 1
        if question.key in done:
            report.already += 1
        else:
            pending.append(question)
    if on_start:
        on_start(len(pending))
    started = time.perf_counter()
    with open_private(output, "a") as handle:
        for question in pending:
            began = time.perf_counter()
            try:
                record = batch_record(question, session.ask(question.text))
                report.answered += 1
            except Exception as exc:  # one failing question must not end the batch; it is recorded
                log.debug("question %r failed", question.id, exc_info=True)
                error = f"{type(exc).__name__}: {exc}"
                record = error_record(question, error, time.perf_counter() - began)
                report.failed.append((question, error))
            handle.write(fmt.render(record))
            handle.flush()
            os.fsync(handle.fileno())
            report.elapsed_s = time.perf_counter() - started
            if on_done:
                on_done(record)
    return report


def progress_callbacks(enabled: bool, stream=sys.stderr):
    """A progress bar on stderr (count, rate, ETA) as (on_start, on_done, close)."""
    if not enabled:
        return None, None, lambda: None
    from tqdm import tqdm

    bar: dict[str, Any] = {}

    def on_start(total: int) -> None:
        bar["bar"] = tqdm(total=total, unit="q", desc="Answering", file=stream, dynamic_ncols=True, smoothing=0.1)

    def on_done(record: dict[str, Any]) -> None:
        bar["bar"].update(1)
        if record["status"] == FAILED:
            bar["bar"].write(f"  failed: {record['id']}: {record['error']}", file=stream)

    def close() -> None:
        if "bar" in bar:
            bar["bar"].close()

    return on_start, on_done, close
