"""On another CPU: `ask` under `qemu-x86_64 -cpu max` (AVX2 and FMA, no AVX-512), whatever CPU runs the tests.

A llama.cpp built with -march=native on a CPU with AVX-512 dies there with an illegal instruction; the
portable build that bootstrap.py installs loads its AVX2 variant. The embedding runtime picks its kernels
by the emulated CPU too. Emulated kernels run thousands of times slower (tests/conftest.py), so the checks
are small: about 3 minutes on 2 cores. CI installs qemu-user (.ci/run); elsewhere the tests are skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import (
    EMULATED_ASK,
    EMULATED_GENERATION,
    REPO,
    assert_quotes_the_clause,
    ingest_folder,
    offline_cmd,
    write_one_clause_folder,
)
from generation.backends.llama_native import installed_build

QEMU = shutil.which("qemu-x86_64")

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def emulated():
    if QEMU is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run this test: install qemu-user (apt-get install qemu-user)")
        pytest.skip("qemu-x86_64 is not installed (apt-get install qemu-user)")
    if os.uname().machine != "x86_64":
        pytest.skip("emulates another x86-64 CPU")
    if not installed_build().portable:
        why = "the installed llama-cpp-python is a native build: a .venv made by python3 bootstrap.py setup has the portable one"
        pytest.fail(why) if os.environ.get("CI") else pytest.skip(why)

    def run(*args: str, timeout: float = 1500) -> subprocess.CompletedProcess:  # emulation: ~50x slower
        return subprocess.run(
            offline_cmd([QEMU, "-cpu", "max", sys.executable, *args]),
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    return run


def test_the_emulated_cpu_lacks_avx512_and_llama_cpp_picks_a_variant_it_can_run(emulated):
    cpu = emulated("-c", "from core.cpu import cpu_features; print(' '.join(sorted(cpu_features())))")
    assert cpu.returncode == 0, cpu.stderr
    assert "AVX2" in cpu.stdout.split() and "AVX512F" not in cpu.stdout.split()
    # In this process, not probe()'s child: qemu-user runs a program the emulated one starts on the real CPU.
    loaded = emulated("-c", "from generation.backends.llama_native import probe_here; probe_here()")
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    report = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert report["variant"] in installed_build().variants
    assert "AVX2 = 1" in report["system_info"] and "AVX512" not in report["system_info"]


@pytest.fixture(scope="module")
def one_clause_db(tmp_path_factory):
    """A one-sentence lease, ingested natively: the emulated ask embeds only its question and that sentence."""
    work = tmp_path_factory.mktemp("one-clause")
    return ingest_folder(write_one_clause_folder(work / "docs"), work / "db")


def test_ask_answers_with_sources_on_a_cpu_without_avx512(emulated, one_clause_db):
    done = emulated("localgpt.py", *EMULATED_ASK, "--db", str(one_clause_db))
    assert done.returncode == 0, done.stderr[-3000:]
    assert_quotes_the_clause(json.loads(done.stdout))  # stdout alone: warnings go to stderr


def test_the_bundled_model_writes_on_a_cpu_without_avx512(emulated):
    done = emulated("-c", EMULATED_GENERATION)
    assert done.returncode == 0, done.stderr[-3000:]
    wrote = json.loads(done.stdout.strip().splitlines()[-1])
    assert wrote["text"].strip(), wrote
    assert wrote["variant"] in installed_build().variants
