"""Seconds summed per named stage: where a long job's time goes (an ingest's, docs/ingest.md
"Where the time goes"). Stages that run side by side each keep their own sum."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Mapping


@dataclass
class StageClock:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timing(self, stage: str, cpu: bool = False) -> Iterator[None]:
        """Add the time spent inside to `stage` (process CPU time with `cpu`, else wall time)."""
        clock = time.process_time if cpu else time.perf_counter
        started = clock()
        try:
            yield
        finally:
            self.add(stage, clock() - started)

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def merge(self, other: Mapping[str, float]) -> None:
        for stage, seconds in other.items():
            self.add(stage, seconds)

    def rounded(self) -> dict[str, float]:
        return {stage: round(s, 3) for stage, s in sorted(self.seconds.items())}
