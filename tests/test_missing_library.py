"""A system without a shared library llama.cpp needs (libgomp.so.1 on a minimal Linux) is told apart from a CPU
the build cannot run on, naming the library and its package; and the bundle carries such libraries itself."""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO
from doctor import cpu_check
from generation.backends import llama_native
from generation.backends.system_libraries import install_hint, missing_library

sys.path.insert(0, str(REPO / "deploy"))
import bundletool

PATCHELF = shutil.which("patchelf")
# What llama-cpp-python raised on a Debian bookworm minbase (issue 33), as install.sh's check showed it.
ON_MINBASE = (
    "RuntimeError: Failed to load shared library '/opt/localgpt/lib/python3.11/site-packages/llama_cpp/lib/"
    "libllama.so': libgomp.so.1: cannot open shared object file: No such file or directory"
)


def test_the_missing_library_and_its_packages_are_named():
    assert missing_library(ON_MINBASE) == "libgomp.so.1"
    hint = install_hint("libgomp.so.1")
    assert "apt-get install libgomp1" in hint and "dnf install libgomp" in hint
    assert missing_library("Illegal instruction (core dumped)") == ""
    unknown = install_hint("libfoo.so.3")
    assert "apt-file search libfoo.so.3" in unknown and "dnf provides '*/libfoo.so.3'" in unknown
    # A wheel's own copy that went missing: installing the system's package would not help.
    carried = install_hint("libgomp-1a2b3c4d.so.1")
    assert "reinstall" in carried and "apt-get" not in carried


def _fake_python(tmp_path: Path, script: str) -> str:
    python = tmp_path / "python"  # stands in for an interpreter whose llama.cpp fails to load as on that machine
    python.write_text("#!/bin/sh\n" + script)
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return str(python)


def test_probe_tells_a_missing_library_from_an_unsupported_cpu(tmp_path):
    found = llama_native.probe(_fake_python(tmp_path, f'echo "{ON_MINBASE}" >&2; exit 1\n'))
    assert not found.ok and found.missing_library == "libgomp.so.1" and not found.illegal_instruction
    assert "libgomp.so.1" in found.problem and "libgomp1" in found.problem and "dnf install libgomp" in found.problem
    assert "the CPU is fine" in found.problem and "illegal instruction" not in found.problem

    died = llama_native.probe(_fake_python(tmp_path, "kill -ILL $$\n"))
    assert died.illegal_instruction and not died.missing_library


def test_install_checks_exit_code_and_doctor_reason_name_the_library(monkeypatch, capsys):
    missing = llama_native.Probe(False, problem="lacks libgomp.so.1 (libgomp1)", missing_library="libgomp.so.1")
    monkeypatch.setattr(llama_native, "probe", lambda: missing)
    monkeypatch.setattr(llama_native, "installed_build", lambda: llama_native.Build(Path("/x"), {"x64": Path("/x")}))
    assert llama_native.main() == llama_native.EXIT_LIBRARY_MISSING
    assert "llama.cpp on this CPU: lacks libgomp.so.1 (libgomp1)" in capsys.readouterr().out

    monkeypatch.setattr(cpu_check, "probe", lambda: missing)
    monkeypatch.setattr(cpu_check, "installed_build", lambda: llama_native.Build(Path("/x"), {"x64": Path("/x")}))
    facts, problems, loads = cpu_check.cpu_facts()
    assert [p.reason for p in problems] == ["llm-library-missing"] and not loads
    assert "libgomp1" in problems[0].message

    cpu = llama_native.Probe(False, problem="died with an illegal instruction", illegal_instruction=True)
    monkeypatch.setattr(llama_native, "probe", lambda: cpu)
    assert llama_native.main() == llama_native.EXIT_CPU
    monkeypatch.setattr(llama_native, "probe", lambda: llama_native.Probe(False, problem="could not be loaded"))
    assert llama_native.main() == llama_native.EXIT_LOAD_FAILED


def _small_extension() -> Path:
    """A small ELF shared object of this Python's own that needs nothing beyond the system's libraries."""
    dynload = Path(os.__file__).parent / "lib-dynload"  # the base interpreter's, not a venv's
    for path in sorted(dynload.glob("*.so"), key=lambda p: p.stat().st_size):
        needed = subprocess.run([PATCHELF, "--print-needed", str(path)], capture_output=True, text=True).stdout.split()
        if set(needed) <= bundletool.SYSTEM_LIBRARIES:
            return path
    pytest.skip(f"no extension module in {dynload} to copy")


@pytest.mark.skipif(PATCHELF is None, reason="needs patchelf (apt-get install patchelf; CI installs it)")
def test_the_loader_own_message_for_a_missing_library_is_read(tmp_path):
    needs_it = tmp_path / "libneedsit.so"
    shutil.copyfile(_small_extension(), needs_it)
    subprocess.run([PATCHELF, "--add-needed", "libnotonthissystem.so.7", str(needs_it)], check=True)
    with pytest.raises(OSError) as raised:
        ctypes.CDLL(str(needs_it))
    assert missing_library(str(raised.value)) == "libnotonthissystem.so.7"


@pytest.mark.skipif(PATCHELF is None, reason="needs patchelf (apt-get install patchelf; CI installs it)")
def test_a_wheel_is_given_the_libraries_a_minimal_linux_lacks(tmp_path):
    """As in llama-cpp-python's portable wheel: libraries in the package and in site-packages/bin need libgomp."""
    try:
        ctypes.CDLL("libgomp.so.1")
    except OSError:
        pytest.skip("this machine has no libgomp.so.1 to carry")
    built = tmp_path / "built"
    for where in ("demo/lib/libdemo.so", "bin/libdemo-cpu-x64.so"):
        (built / where).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_small_extension(), built / where)
        subprocess.run([PATCHELF, "--add-needed", "libgomp.so.1", str(built / where)], check=True)
    (built / "demo" / "__init__.py").write_text("")
    wheel = tmp_path / "demo-1.0-cp311-cp311-linux_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as out:
        for path in sorted(p for p in built.rglob("*") if p.is_file()):
            out.write(path, path.relative_to(built).as_posix())
        out.writestr("demo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n")
        out.writestr("demo-1.0.dist-info/RECORD", "")

    carried = Path(bundletool.carry_libraries(wheel, tmp_path / "out"))
    assert carried.name == wheel.name
    site = tmp_path / "site-packages"
    with zipfile.ZipFile(carried) as unpacked:
        unpacked.extractall(site)
        record = unpacked.read("demo-1.0.dist-info/RECORD").decode()
    [copy] = (site / "demo.libs").iterdir()
    assert copy.name.startswith("libgomp-") and copy.name.endswith(".so.1") and copy.read_bytes()[:4] == b"\x7fELF"
    assert f"demo.libs/{copy.name},sha256=" in record and "demo/lib/libdemo.so,sha256=" in record
    for library in (site / "demo/lib/libdemo.so", site / "bin/libdemo-cpu-x64.so"):
        needed = subprocess.run([PATCHELF, "--print-needed", str(library)], capture_output=True, text=True).stdout
        assert copy.name in needed.split() and "libgomp.so.1" not in needed.split()
        # The loader finds the carried copy from wherever the wheel was unpacked, not the system's.
        resolved = subprocess.run(["ldd", str(library)], capture_output=True, text=True).stdout
        found = re.search(rf"{re.escape(copy.name)} => (\S+)", resolved)
        assert found and Path(found[1]).resolve() == copy.resolve(), resolved
    # A wheel that needs nothing beyond the system's libraries is copied as it is.
    plain = tmp_path / "plain-1.0-py3-none-any.whl"
    with zipfile.ZipFile(plain, "w") as out:
        out.writestr("plain/__init__.py", "")
        out.writestr("plain-1.0.dist-info/RECORD", "")
    assert Path(bundletool.carry_libraries(plain, tmp_path / "out")).read_bytes() == plain.read_bytes()
