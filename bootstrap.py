#!/usr/bin/env python3
"""Set up localgpt in .venv/ (made once, reused) and run the demo or the tests.

    python3 bootstrap.py demo    # set up, ingest source_documents/, answer a sample question
    python3 bootstrap.py test    # set up, run ruff (lint and format check), then the test suite

Only the Python standard library is used here, so it runs on a fresh machine.
Installs come from requirements.lock (exact versions, with hashes) when it exists. llama-cpp-python,
a source package, is built once per machine for any x86-64 CPU (GGML_NATIVE off, CPU variants chosen
at run time) and kept in ~/.cache/localgpt/wheels; set CMAKE_ARGS for another build (-DGGML_NATIVE=ON,
-DGGML_CUDA=on).
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
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


def bundletool():
    """deploy/bundletool.py (standard library only), which builds llama-cpp-python for bootstrap and the bundle."""
    sys.path.insert(0, str(ROOT / "deploy"))
    import bundletool as tool

    return tool


def wanted_stamp() -> str:
    digest = hashlib.sha256()
    for path in (LOCK, ROOT / "pyproject.toml"):
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def lock_fits() -> bool:
    """Whether requirements.lock was made for this Python and CPU (its `# target:` line)."""
    target = next((line for line in LOCK.read_text().splitlines() if line.startswith("# target:")), "")
    python = re.search(r"python=(\S+)", target)
    arch = re.search(r"platform=([^-\s]+)", target)
    here = "%d.%d" % sys.version_info[:2]
    fits = (not python or python[1] == here) and (not arch or arch[1] == platform.machine()) and sys.platform == "linux"
    if not fits:
        print(
            f"requirements.lock is for {target[9:].strip()} on Linux; this is Python {here} on "
            f"{platform.system()} {platform.machine()}. Installing from pyproject.toml's ranges instead "
            "(versions not pinned; see docs/deploy.md to make a lock for this platform).",
            file=sys.stderr,
        )
    return fits


def set_up() -> Path:
    if sys.version_info < (3, 10):
        sys.exit(f"localgpt needs Python 3.10 or newer; this is {sys.version.split()[0]}.")
    if not venv_python().exists():
        print(f"Creating the virtual environment in {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    python = venv_python()
    if not STAMP.exists() or STAMP.read_text() != wanted_stamp():
        pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
        if LOCK.exists() and lock_fits():
            try:
                # llama-cpp-python built for any x86-64 CPU (or with your CMAKE_ARGS), once per machine
                llama = bundletool().llama_wheel(LOCK, python)
                rest = VENV / "requirements-without-llama.txt"
                rest.write_text(bundletool().lock_without_llama(LOCK))
                run(
                    *pip, "--require-hashes", "--no-deps", "-r", rest
                )  # the lock pins every dependency; llama-cpp-python comes next
                run(*pip, "--no-deps", "--force-reinstall", llama)
            except subprocess.CalledProcessError:
                print(
                    "Installing from requirements.lock failed. If pip found no torch==...+cpu: the CPU build of torch "
                    "comes from PyTorch's index; run again with "
                    "PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu",
                    file=sys.stderr,
                )
                raise
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
        # The linter and the format check first (pyproject.toml's [tool.ruff]); then every test.
        for check in (["check", "."], ["format", "--check", "."]):
            if subprocess.run([str(python), "-m", "ruff", *check], cwd=ROOT).returncode != 0:
                print(f"ruff {check[0]} failed: run `.venv/bin/ruff {' '.join(check)}` to see where", file=sys.stderr)
                return 1
        return subprocess.run([str(python), "-m", "pytest", *rest], cwd=ROOT).returncode
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode)
