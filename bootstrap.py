#!/usr/bin/env python3
"""Set up localgpt in .venv/ (made once, reused) and run the demo or the tests.

    python3 bootstrap.py demo    # set up, ingest source_documents/, answer a sample question
    python3 bootstrap.py test    # set up, run the test suite

Only the Python standard library is used here, so it runs on a fresh machine.
Installs come from requirements.lock (exact versions, with hashes) when it exists.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements.lock"
STAMP = VENV / ".localgpt-installed"
DEMO_QUESTION = "What is the notice period in the lease?"


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(*args: str | Path) -> None:
    print("+", " ".join(str(a) for a in args), file=sys.stderr, flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True)


def wanted_stamp() -> str:
    digest = hashlib.sha256()
    for path in (LOCK, ROOT / "pyproject.toml"):
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def set_up() -> Path:
    if sys.version_info < (3, 10):
        sys.exit(f"localgpt needs Python 3.10 or newer; this is {sys.version.split()[0]}.")
    if not venv_python().exists():
        print(f"Creating the virtual environment in {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    python = venv_python()
    if not STAMP.exists() or STAMP.read_text() != wanted_stamp():
        pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
        if LOCK.exists():
            run(*pip, "--require-hashes", "-r", LOCK)
            run(*pip, "--no-deps", "--no-build-isolation", "-e", ".")
        else:
            run(*pip, "-e", ".[test]")
        STAMP.write_text(wanted_stamp())
    return python


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test", "setup"):
        print(__doc__, file=sys.stderr)
        return 2
    python = set_up()
    command, rest = argv[0], argv[1:]
    localgpt = [python, ROOT / "localgpt.py"]
    if command == "demo":
        run(*localgpt, "ingest", "--source-dir", ROOT / "source_documents", "--db", ROOT / "db")
        run(*localgpt, "ask", "--db", ROOT / "db", *(rest or [DEMO_QUESTION]))
    elif command == "test":
        return subprocess.run([str(python), "-m", "pytest", *rest], cwd=ROOT).returncode
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
