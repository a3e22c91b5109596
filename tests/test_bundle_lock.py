"""requirements.lock and the bundle's installer: what they refuse, checked without building a bundle."""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import REPO

DEPLOY = REPO / "deploy"
sys.path.insert(0, str(DEPLOY))
import bundletool  # noqa: E402


def locked() -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", (REPO / "requirements.lock").read_text(), re.M)
    return {canonicalize_name(name): version for name, version in pins}


def test_the_lock_pins_every_dependency_of_pyproject_within_its_range():
    """Fails when pyproject.toml gains or changes a dependency without `scripts/update-lock.sh`."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = locked()
    wanted = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]
    stale = [
        f"{r} (locked: {pins.get(canonicalize_name(r.name))})"
        for r in wanted
        if canonicalize_name(r.name) not in pins
        or not r.specifier.contains(pins[canonicalize_name(r.name)], prereleases=True)
    ]
    assert stale == [], "requirements.lock is out of date: run scripts/update-lock.sh"


def test_the_lock_holds_the_cpu_torch_and_a_hash_for_every_pin():
    assert locked()["torch"] == "2.13.0+cpu"
    text = (REPO / "requirements.lock").read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 3)[3])
    assert all("--hash=sha256:" in block for block in blocks if block.strip())
    assert "# target: python=3.11 platform=x86_64-manylinux_2_28" in text


def test_requirements_pin_each_wheel_with_its_hash(tmp_path):
    wheel = tmp_path / "Some_Package-1.2.0+cpu-py3-none-any.whl"
    wheel.write_bytes(b"not really a zip")
    digest = hashlib.sha256(b"not really a zip").hexdigest()
    assert bundletool.requirements(tmp_path) == f"some-package==1.2.0+cpu --hash=sha256:{digest}\n"


def test_glibc_needed_is_the_newest_tag_and_the_build_machine_for_local_builds(tmp_path):
    for name in (
        "a-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "b-1-py3-none-any.whl",
        "c-1-cp311-cp311-manylinux_2_28_x86_64.whl",
    ):
        (tmp_path / name).touch()
    assert bundletool.glibc_needed(tmp_path, "glibc-2.36") == "glibc-2.28"
    (tmp_path / "llama_cpp_python-0.3.36-py3-none-linux_x86_64.whl").touch()
    assert bundletool.glibc_needed(tmp_path, "glibc-2.36") == "glibc-2.36"


def test_mismatch_names_what_differs():
    here = {"os": "linux", "arch": "x86_64", "python": "3.11", "implementation": "cpython", "libc": "glibc-2.36"}
    assert bundletool.mismatch(dict(here), here) == ""
    assert bundletool.mismatch({**here, "python": "3.12"}, here) == "python differs"
    assert bundletool.mismatch({**here, "arch": "aarch64"}, here) == "arch differs"
    assert bundletool.mismatch({**here, "libc": "glibc-2.39"}, here) == "this system has glibc-2.36"


@pytest.fixture
def fake_bundle(tmp_path) -> Path:
    """A bundle's frame around two stand-in wheels: enough to reach the checks, which run before pip."""
    bundle = tmp_path / "bundle"
    (bundle / "wheels").mkdir(parents=True)
    shutil.copy(DEPLOY / "install.sh", bundle)
    shutil.copy(DEPLOY / "bundletool.py", bundle)
    (bundle / "wheels" / "a-1.0-py3-none-any.whl").write_bytes(b"first")
    (bundle / "wheels" / "b-2.0-py3-none-any.whl").write_bytes(b"second")
    (bundle / "PLATFORM").write_text(bundletool.platform_record(bundle / "wheels"))
    (bundle / "MODELS").write_text("")
    (bundle / "requirements.txt").write_text(bundletool.requirements(bundle / "wheels"))
    write_sums(bundle)
    return bundle


def write_sums(bundle: Path) -> None:
    files = sorted(
        p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file() and p.name != "SHA256SUMS"
    )
    sums = "".join(f"{hashlib.sha256((bundle / f).read_bytes()).hexdigest()}  {f}\n" for f in files)
    (bundle / "SHA256SUMS").write_text(sums)


def install(bundle: Path, prefix: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(bundle / "install.sh"), str(prefix)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHON": sys.executable},
    )


def test_install_stops_naming_a_damaged_file(fake_bundle, tmp_path):
    (fake_bundle / "wheels" / "b-2.0-py3-none-any.whl").write_bytes(b"secOnd")
    done = install(fake_bundle, tmp_path / "prefix")
    assert done.returncode == 1
    assert "install.sh: wheels/b-2.0-py3-none-any.whl differs from SHA256SUMS" in done.stderr
    assert "nothing was installed" in done.stderr and not (tmp_path / "prefix").exists()


def test_install_stops_naming_a_missing_file(fake_bundle, tmp_path):
    (fake_bundle / "wheels" / "a-1.0-py3-none-any.whl").unlink()
    done = install(fake_bundle, tmp_path / "prefix")
    assert done.returncode == 1 and "wheels/a-1.0-py3-none-any.whl is missing from the bundle" in done.stderr
    assert not (tmp_path / "prefix").exists()


def test_install_refuses_a_file_added_to_the_bundle(fake_bundle, tmp_path):
    (fake_bundle / "wheels" / "evil-9.9-py3-none-any.whl").write_bytes(b"x")
    done = install(fake_bundle, tmp_path / "prefix")
    assert done.returncode == 1 and "wheels/evil-9.9-py3-none-any.whl is not in SHA256SUMS" in done.stderr


def test_install_refuses_another_platform(fake_bundle, tmp_path):
    record = (fake_bundle / "PLATFORM").read_text()
    (fake_bundle / "PLATFORM").write_text(re.sub(r"python=\S+", "python=3.9", record))
    write_sums(fake_bundle)
    done = install(fake_bundle, tmp_path / "prefix")
    assert done.returncode == 1
    here = "%d.%d" % sys.version_info[:2]
    assert "This bundle is for Linux x86_64, Python 3.9" in done.stderr
    assert f"this machine is Linux x86_64, Python {here}" in done.stderr and "python differs" in done.stderr
    assert not (tmp_path / "prefix").exists()
