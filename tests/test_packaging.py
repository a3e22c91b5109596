"""The installed wheel (the air-gapped bundle, `pip install .`) must hold every package of the tree."""

import tomllib

import pytest

from conftest import REPO


def test_every_top_level_package_is_in_the_wheel():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = sorted(p.parent.name for p in REPO.glob("*/__init__.py") if p.parent.name not in ("tests", "benchmarks"))
    missing = [name for name in packages if f"{name}*" not in include]
    assert not missing, f"packages left out of the wheel: {missing} (add them to [tool.setuptools.packages.find])"


@pytest.mark.slow
def test_the_web_app_ships_in_the_wheel(tmp_path):
    """`localgpt serve`'s page, script and style are package data: a wheel without them serves a blank page."""
    import subprocess
    import sys
    import zipfile

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    wheel = next(tmp_path.glob("localgpt-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for asset in ("index.html", "app.js", "style.css", "login.html"):
        assert f"server/static/{asset}" in names
