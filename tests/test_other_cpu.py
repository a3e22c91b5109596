"""On another CPU: `ask` under `qemu-x86_64 -cpu max` (AVX2 and FMA, no AVX-512), whatever CPU runs the tests.

A llama.cpp built with -march=native on a CPU with AVX-512 dies there with an illegal instruction; the
portable build that bootstrap.py installs loads its AVX2 variant. The embedding runtime picks its kernels
by the emulated CPU too. CI installs qemu-user (.ci/run); elsewhere the tests are skipped.

Here, that the emulated CPU is what it claims and that llama.cpp loads a variant it can run. The
emulated `ask` (quoting its evidence) and the bundled model writing on that CPU run once, on the
air-gapped bundle's install of the same portable wheel (tests/test_bundle_airgap.py): emulated
kernels run thousands of times slower (tests/conftest.py), and each took about 2 minutes here too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import (
    REPO,
    offline_cmd,
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
