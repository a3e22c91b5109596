#!/usr/bin/env python3
"""Small helpers for make-bundle.sh and install.sh (standard library only: it runs before anything is installed).

bundletool.py platform WHEELDIR > PLATFORM     what the bundle targets, from this Python and the wheels
bundletool.py check PLATFORM                   exit 1, saying why, if this Python cannot use the bundle
bundletool.py requirements WHEELDIR > FILE     name==version --hash=sha256:... for every wheel
bundletool.py lock-target LOCK                 the python and platform a requirements.lock was made for
bundletool.py llama-wheel LOCK                 build llama-cpp-python (the lock's version, its sdist hash
                                               checked) with $CMAKE_ARGS, default the portable build, once:
                                               kept in ~/.cache/localgpt/wheels; prints the wheel's path
bundletool.py lock-without-llama LOCK > FILE   the lock less llama-cpp-python (installed from llama-wheel)
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

# manylinux tags that predate the glibc-numbered form (PEP 600).
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def this_platform() -> dict[str, str]:
    libc, libc_version = platform.libc_ver()
    return {
        "os": platform.system().lower(),
        "arch": platform.machine(),
        "python": "%d.%d" % sys.version_info[:2],
        "implementation": sys.implementation.name,
        "libc": f"{libc}-{libc_version}" if libc else "",
    }


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


def glibc_needed(wheel_dir: Path, build_libc: str) -> str:
    """The oldest glibc every wheel runs on: the highest manylinux tag, and this machine's for wheels built here."""
    needed: tuple[int, ...] = ()
    for wheel in wheel_dir.glob("*.whl"):
        platform_tags = wheel.stem.split("-")[-1].split(".")
        for tag in platform_tags:
            match = re.match(r"manylinux_(\d+)_(\d+)_", tag)
            legacy = next((v for k, v in _LEGACY_MANYLINUX.items() if tag.startswith(k + "_")), None)
            if match:
                needed = max(needed, (int(match[1]), int(match[2])))
            elif legacy:
                needed = max(needed, legacy)
            elif tag.startswith("linux_") and build_libc.startswith("glibc-"):
                needed = max(needed, _version(build_libc)[:2])
    return "glibc-%d.%d" % needed if needed else ""


def platform_record(wheel_dir: Path) -> str:
    here = this_platform()
    record = {**here, "libc": glibc_needed(wheel_dir, here["libc"])}
    return "".join(f"{key}={value}\n" for key, value in record.items())


def read_record(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def describe(record: dict[str, str]) -> str:
    text = f"{record.get('os', '?').capitalize()} {record.get('arch', '?')}, Python {record.get('python', '?')}"
    return text + (f" ({record['libc']} or newer)" if record.get("libc") else "")


def mismatch(bundle: dict[str, str], here: dict[str, str]) -> str:
    """Why this machine cannot use the bundle, or ''."""
    for key in ("os", "arch", "python", "implementation"):
        if bundle.get(key) and bundle[key] != here[key]:
            return f"{key} differs"
    needed = bundle.get("libc", "")
    if needed.startswith("glibc-"):
        if not here["libc"].startswith("glibc-"):
            return "this system has no glibc"
        if _version(here["libc"]) < _version(needed):
            return f"this system has {here['libc']}"
    return ""


def check(path: Path) -> int:
    bundle, here = read_record(path), this_platform()
    reason = mismatch(bundle, here)
    if not reason:
        return 0
    print(
        f"This bundle is for {describe(bundle)}; this machine is {describe(here)} ({sys.executable}): {reason}.\n"
        "Make a bundle on a machine of the same platform, or point PYTHON at a matching interpreter "
        "(PYTHON=/usr/bin/python3.11 ./install.sh PREFIX).",
        file=sys.stderr,
    )
    return 1


def requirements(wheel_dir: Path) -> str:
    lines = []
    for wheel in sorted(wheel_dir.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        lines.append(f"{name.replace('_', '-').lower()}=={version} --hash=sha256:{digest}\n")
    return "".join(lines)


def lock_target(lock: Path) -> str:
    for line in lock.read_text().splitlines():
        if line.startswith("# target:"):
            return line.split(":", 1)[1].strip()
    return ""


# llama.cpp for any x86-64 CPU: no -march=native, one CPU library per CPU generation, the best loaded at run time
# (generation/backends/llama_native.py loads them). About 10 minutes to build on 2 cores, once per machine.
PORTABLE_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON"
LLAMA = "llama-cpp-python"


def _lock_entries(lock: Path) -> list[list[str]]:
    """The lock's lines grouped by entry (a pin with its hash and comment lines); the header is one group."""
    entries: list[list[str]] = [[]]
    for line in lock.read_text().splitlines(keepends=True):
        if re.match(r"[A-Za-z0-9]", line):
            entries.append([])
        entries[-1].append(line)
    return entries


def lock_without_llama(lock: Path) -> str:
    return "".join("".join(e) for e in _lock_entries(lock) if not (e and e[0].startswith(LLAMA + "==")))


def llama_wheel(lock: Path, python: str | Path = sys.executable) -> str:
    """The wheel of the lock's llama-cpp-python built with $CMAKE_ARGS (default: portable); built once per
    version, sdist hash and arguments, kept in $XDG_CACHE_HOME/localgpt/wheels (pip's own cache would hand
    back a wheel built with other arguments)."""
    entry = next((e for e in _lock_entries(lock) if e and e[0].startswith(LLAMA + "==")), None)
    if entry is None:
        raise SystemExit(f"{lock} pins no {LLAMA}")
    args = os.environ.get("CMAKE_ARGS") or PORTABLE_CMAKE_ARGS
    key = hashlib.sha256(("".join(entry) + args).encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "localgpt" / "wheels" / f"{LLAMA}-{key}"
    built = sorted(cache.glob("*.whl"))
    if built:
        return str(built[-1])
    cache.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{LLAMA}-", dir=cache.parent))
    (work / "pin.txt").write_text("".join(line for line in entry if not line.lstrip().startswith("#")))
    print(
        f"Building {entry[0].split()[0]} with CMAKE_ARGS={args!r} (once; about 10 minutes on 2 cores)", file=sys.stderr
    )
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--disable-pip-version-check",
            "--no-cache-dir",
            "--no-deps",
            "--require-hashes",
            "-r",
            str(work / "pin.txt"),
            "--wheel-dir",
            str(work),
        ],
        check=True,
        env={**os.environ, "CMAKE_ARGS": args, "FORCE_CMAKE": "1"},
    )
    (work / "pin.txt").unlink()
    (work / "CMAKE_ARGS").write_text(args + "\n")
    os.replace(work, cache)  # whole or not at all: a build killed midway leaves only a temporary folder
    return str(next(cache.glob("*.whl")))


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in (
        "platform",
        "check",
        "requirements",
        "lock-target",
        "llama-wheel",
        "lock-without-llama",
    ):
        print(__doc__, file=sys.stderr)
        return 2
    command, arg = argv[0], Path(argv[1])
    if command == "check":
        return check(arg)
    output = {
        "platform": platform_record,
        "requirements": requirements,
        "lock-target": lock_target,
        "llama-wheel": llama_wheel,
        "lock-without-llama": lock_without_llama,
    }[command](arg)
    sys.stdout.write(output if output.endswith("\n") or not output else output + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
