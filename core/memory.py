"""How much memory this machine has, from Linux's /proc/meminfo (doctor reports it; the LLM loader checks it)."""

from __future__ import annotations


def memory_bytes() -> tuple[int | None, int | None]:
    """(total, available) bytes of memory from Linux's /proc/meminfo; (None, None) where there is none."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            fields = dict(line.split(":", 1) for line in handle if ":" in line)
        return int(fields["MemTotal"].split()[0]) * 1024, int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError, IndexError):
        return None, None
