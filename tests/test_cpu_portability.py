"""Choices made by CPU (faked CPU flags), the portable llama.cpp build found and checked without risking an
illegal instruction in this process, and what doctor says on a CPU the build cannot run on."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core import cpu
from conftest import REPO
from generation.backends import llama_native

NO_BF16 = frozenset({"SSE42", "AVX", "AVX2", "FMA3", "F16C", "AVX512F", "AVX512BW"})  # an EPYC without bfloat16
WITH_BF16 = NO_BF16 | {"AVX512BF16"}


@pytest.fixture
def on_cpu(monkeypatch):
    """Make this process see a CPU with the given features."""

    def fake(features: frozenset[str]) -> None:
        monkeypatch.setattr(cpu, "cpu_features", lambda: features)
        monkeypatch.setattr("embeddings.embedder.gpu_may_exist", lambda: False)

    return fake


@pytest.mark.parametrize(
    "features, backend, device, expected",
    [
        (NO_BF16, "auto", "auto", "int8"),
        (NO_BF16, "onnx", "cpu", "int8"),
        (WITH_BF16, "auto", "auto", "float32"),  # OpenVINO's bfloat16: faster still, and closer to float32
        (NO_BF16, "openvino", "auto", "float32"),  # int8 runs only on ONNX Runtime
        (NO_BF16, "torch", "auto", "float32"),
        (NO_BF16, "auto", "cuda", "float32"),
    ],
)
def test_a_new_index_gets_the_precision_measured_best_for_the_cpu(
    settings_for, tmp_path, on_cpu, features, backend, device, expected
):
    from embeddings import load_embedder

    on_cpu(features)
    settings = settings_for(tmp_path / "db", embedding_backend=backend, device=device)
    assert load_embedder(settings).precision == expected
    assert load_embedder(settings, index_precision="float32").precision == "float32"  # an index keeps its own
    assert load_embedder(settings.replace(embedding_precision="float32")).precision == "float32"  # asked for by name


@pytest.mark.slow
def test_ingest_on_a_cpu_without_bfloat16_builds_an_int8_index_that_ask_reads_back(settings_for, tmp_path, on_cpu):
    from core.settings import load_settings
    from ingest.pipeline import run_ingest
    from retrieval import open_retriever

    on_cpu(NO_BF16)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lease.txt").write_text("The notice period is sixty (60) days, given in writing.\n", encoding="utf-8")
    settings = load_settings({"db": tmp_path / "db", "source_dir": docs}, environ={"LOCALGPT_THREADS": "2"})
    assert run_ingest(settings).exit_code == 0
    on_cpu(WITH_BF16)  # the same index read on another machine: it keeps the precision that built it
    with open_retriever(settings) as retriever:
        hits = retriever.search("What is the notice period?")
        assert retriever.index.recorded_precision() == "int8"
    assert hits and "sixty (60)" in hits[0].chunk.text


def test_cpu_key_differs_between_cpus_and_is_stable():
    assert cpu.cpu_key(NO_BF16) == cpu.cpu_key(frozenset(sorted(NO_BF16)))
    assert cpu.cpu_key(NO_BF16) != cpu.cpu_key(WITH_BF16)
    assert cpu.has_native_bf16(WITH_BF16) and not cpu.has_native_bf16(NO_BF16)
    assert cpu.shown_features(WITH_BF16)[-1] == "AVX512BF16"


def test_this_cpu_is_read_from_cpuid_and_agrees_with_the_kernel():
    """numpy's detection and /proc/cpuinfo agree on the features both name (outside an emulator)."""
    proc = cpu._from_proc()
    if not proc:
        pytest.skip("no /proc/cpuinfo here")
    assert proc <= cpu.cpu_features(), proc - cpu.cpu_features()


def _fake_package(root: Path, variants: list[str]) -> Path:
    package = root / "site-packages" / "llama_cpp"
    (package / "lib").mkdir(parents=True)
    (package / "lib" / "libllama.so").write_bytes(b"")
    if variants:
        (root / "site-packages" / "bin").mkdir()
        for name in variants:
            (root / "site-packages" / "bin" / f"libggml-cpu-{name}.so").write_bytes(b"")
    else:
        (package / "lib" / "libggml-cpu.so").write_bytes(b"")
    return package


def test_the_build_is_told_portable_or_native_from_its_files(tmp_path):
    portable = llama_native.installed_build(_fake_package(tmp_path / "a", ["x64", "haswell", "skylakex"]))
    assert portable.portable and set(portable.variants) == {"x64", "haswell", "skylakex"}
    assert "any x86-64 CPU" in portable.describe()
    native = llama_native.installed_build(_fake_package(tmp_path / "b", []))
    assert not native.portable and "native" in native.describe()


def test_a_build_that_dies_with_an_illegal_instruction_is_reported_not_fatal(tmp_path):
    python = tmp_path / "python"  # stands in for an interpreter whose llama.cpp uses instructions this CPU lacks
    python.write_text("#!/bin/sh\nkill -ILL $$\n")
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    found = llama_native.probe(str(python))
    assert not found.ok and "illegal instruction" in found.problem and "portable build" in found.problem


def test_the_best_variant_for_the_cpu_is_chosen_and_a_broken_one_never_is():
    # The scores each variant's library gave on an Intel Xeon (Sapphire Rapids) VM: its AMX variant scores
    # highest but died there with an illegal instruction in this llama.cpp; zen4 (AVX-512, VNNI, bfloat16) ran.
    on_sapphire_rapids = {
        "alderlake": 128,
        "cannonlake": 448,
        "cascadelake": 1216,
        "cooperlake": 1728,
        "haswell": 64,
        "icelake": 1472,
        "ivybridge": 23,
        "piledriver": 24,
        "sandybridge": 21,
        "sapphirerapids": 4032,
        "skylakex": 192,
        "sse42": 5,
        "x64": 1,
        "zen4": 1984,
    }
    assert llama_native.best_variant(on_sapphire_rapids) == "zen4"
    assert llama_native.best_variant({"haswell": 64, "zen4": 0, "x64": 1}) == "haswell"
    assert llama_native.best_variant({"zen4": 0, "sapphirerapids": 9}) is None


@pytest.mark.slow
def test_the_portable_build_loads_exactly_one_variant_the_one_its_libraries_score_best(tmp_path):
    build = llama_native.installed_build()
    if not build.portable:
        pytest.skip("the installed llama-cpp-python is a native build")
    code = (
        "from generation.backends.llama_native import *; scores = variant_scores(installed_build()); "
        "load_cpu_backends(); print(best_variant(scores), loaded_variant())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    best, loaded = done.stdout.split()
    assert best == loaded and loaded in build.variants and loaded not in llama_native.SKIPPED_VARIANTS


@pytest.mark.slow
def test_the_installed_build_runs_here_and_says_with_what():
    found = llama_native.probe()
    assert found.ok, found.problem
    assert found.compiled  # llama.cpp's list of the CPU features it was compiled for
    if llama_native.installed_build().portable:
        assert found.variant in llama_native.installed_build().variants


@pytest.mark.slow
def test_the_report_command_says_what_the_cpu_has_and_what_the_build_needs():
    done = subprocess.run(
        [sys.executable, "-c", llama_native.REPORT_COMMAND],
        capture_output=True,
        text=True,
        cwd=Path(llama_native.__file__).resolve().parents[2],  # the folder holding generation/
        env={**os.environ},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("CPU features: ") and lines[1].startswith("llama.cpp build: ")
    assert lines[2].startswith("llama.cpp on this CPU: runs")


def test_doctor_names_a_build_this_cpu_cannot_run_and_does_not_load_it(sample_db, monkeypatch):
    from core.settings import load_settings
    from doctor import run_doctor

    monkeypatch.setattr(
        "doctor.cpu_check.probe", lambda: llama_native.Probe(False, problem="died with an illegal instruction")
    )
    monkeypatch.setattr(
        "generation.backends.local_gguf.gpu_offload_supported", lambda: pytest.fail("llama.cpp was loaded")
    )
    report = run_doctor(load_settings({"db": sample_db}, environ={}))
    assert [p.reason for p in report.errors] == ["llm-cpu-unsupported"]
    assert report.exit_code == 1
    assert "features" in report.sections["cpu"] and "llama_cpp_build" in report.sections["cpu"]


def test_llama_cpp_python_is_built_once_per_arguments_and_the_rest_installs_from_the_lock(tmp_path, monkeypatch):
    """bootstrap.py and make-bundle.sh: the portable build by default, CMAKE_ARGS to change it, each kept."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "deploy"))
    import bundletool

    lock = Path(__file__).resolve().parent.parent / "requirements.lock"
    rest = bundletool.lock_without_llama(lock)
    assert "llama-cpp-python==" not in rest and "chromadb==" in rest
    assert len(lock.read_text().splitlines()) - len(rest.splitlines()) == 3  # the pin, its hash, its comment
    builds = []

    def pip_wheel(cmd, check, env):
        assert "--require-hashes" in cmd and env["FORCE_CMAKE"] == "1"
        builds.append(env["CMAKE_ARGS"])
        (Path(cmd[cmd.index("--wheel-dir") + 1]) / "llama_cpp_python-0.3.36-cp311-cp311-linux_x86_64.whl").write_bytes(
            b""
        )

    monkeypatch.setattr(bundletool.subprocess, "run", pip_wheel)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("CMAKE_ARGS", raising=False)
    portable = bundletool.llama_wheel(lock)
    assert bundletool.llama_wheel(lock) == portable  # from the cache: built once
    monkeypatch.setenv("CMAKE_ARGS", "-DGGML_NATIVE=ON")
    native = bundletool.llama_wheel(lock)
    assert native != portable
    assert builds == [bundletool.PORTABLE_CMAKE_ARGS, "-DGGML_NATIVE=ON"]
    assert (Path(portable).parent / "CMAKE_ARGS").read_text().strip() == bundletool.PORTABLE_CMAKE_ARGS
