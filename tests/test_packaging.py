"""The installed wheel (the air-gapped bundle, `pip install .`) must hold every package of the tree."""
import tomllib

from conftest import REPO


def test_every_top_level_package_is_in_the_wheel():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = sorted(p.parent.name for p in REPO.glob("*/__init__.py") if p.parent.name not in ("tests", "benchmarks"))
    missing = [name for name in packages if f"{name}*" not in include]
    assert not missing, f"packages left out of the wheel: {missing} (add them to [tool.setuptools.packages.find])"
