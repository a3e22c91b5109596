"""How many CPU threads the LLM gets: the cores that are free now, not every core.

llama.cpp splits each token's work evenly over its threads and waits for the slowest. When
another process keeps one core busy, a thread scheduled there holds every token back: on 2
cores with one busy process, `ask` took 22 s with 2 threads against 5-6 s with 1
(docs/answers.md). So the default counts the cores this process may use, measures over a
short moment how busy they are, and leaves out the busy ones (always at least one thread).
"""

from __future__ import annotations

import logging
import os
import time

log = logging.getLogger(__name__)

SAMPLE_SECONDS = 0.08
BUSY_SHARE = 0.5  # a core busier than this (with work not ours) is taken


def usable_cores() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def read_cpu_times(path: str = "/proc/stat") -> dict[int, tuple[int, int]]:
    """Per core: (busy, total) jiffies since boot. Empty where /proc/stat cannot be read."""
    times: dict[int, tuple[int, int]] = {}
    try:
        with open(path, encoding="ascii") as handle:
            for line in handle:
                if not line.startswith("cpu") or line.startswith("cpu "):
                    continue
                name, *fields = line.split()
                values = [int(v) for v in fields[:8]]
                idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
                times[int(name[3:])] = (sum(values) - idle, sum(values))
    except (OSError, ValueError):
        return {}
    return times


def busy_cores(before: dict[int, tuple[int, int]], after: dict[int, tuple[int, int]], cores: list[int]) -> int:
    """How many of `cores` were busier than BUSY_SHARE between two readings."""
    busy = 0
    for core in cores:
        if core not in before or core not in after:
            continue
        worked = after[core][0] - before[core][0]
        elapsed = after[core][1] - before[core][1]
        if elapsed > 0 and worked / elapsed > BUSY_SHARE:
            busy += 1
    return busy


def free_core_count(sample_seconds: float = SAMPLE_SECONDS, read=read_cpu_times, sleep=time.sleep) -> int:
    """Cores this process may use that are not busy right now (at least 1)."""
    cores = usable_cores()
    before = read()
    if not before:
        return max(1, len(cores))
    sleep(sample_seconds)
    taken = busy_cores(before, read(), cores)
    return max(1, len(cores) - taken)


def choose_threads(requested: int) -> int:
    """`requested` when set (> 0); else the free cores, measured now."""
    if requested > 0:
        return requested
    threads = free_core_count()
    log.info("LLM threads: %d (cores free now of %d usable)", threads, len(usable_cores()))
    return threads
