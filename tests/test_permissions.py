"""Data at rest: the index folder is 0700 and its files 0600, whatever the umask."""

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SAMPLES
from localgpt import cli


def modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            path = Path(folder) / name
            found[str(path.relative_to(root))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def loose(root: Path) -> dict[str, str]:
    """What is not 0700 (folders) or 0600 (files) under root."""
    return {
        name: oct(mode) for name, mode in modes(root).items() if mode != (0o700 if (root / name).is_dir() else 0o600)
    }


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.slow
def test_index_is_private_under_a_permissive_umask(tmp_path, umask_022):
    db = tmp_path / "db"
    runner = CliRunner()
    result = runner.invoke(cli, ["ingest", "--source-dir", str(SAMPLES), "--db", str(db), "--quiet"])
    assert result.exit_code == 0, result.output
    os.umask(0o022)  # ask runs in a fresh process in real use: the ingest's umask must not be what protects it
    result = runner.invoke(cli, ["ask", "--db", str(db), "--json", "What is the monthly rent?"])
    assert result.exit_code == 0, result.output

    found = modes(db)
    assert "catalog.sqlite" in found and any(name.startswith("chroma/") and name.endswith(".bin") for name in found)
    assert loose(db) == {}, "files or folders of the index that others can read"


@pytest.mark.slow
def test_an_ingest_tightens_an_index_left_readable(tmp_path, umask_022):
    db = tmp_path / "db"
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.md").write_text("# Note\n\nThe alarm code is changed every March.\n")
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", "--source-dir", str(docs), "--db", str(db), "--quiet"]).exit_code == 0
    for path in [db, *db.rglob("*")]:  # as an older version, a copy or `chmod -R a+rX` would leave it
        path.chmod(0o755 if path.is_dir() else 0o644)
    assert loose(db)

    result = runner.invoke(cli, ["ingest", "--source-dir", str(docs), "--db", str(db), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "1 unchanged" in result.output
    assert loose(db) == {}


def test_exposed_paths_names_what_others_can_read(tmp_path):
    from index.permissions import exposed_paths, tighten

    db = tmp_path / "db"
    (db / "chroma").mkdir(parents=True)
    (db / "catalog.sqlite").write_bytes(b"")
    db.chmod(0o700)
    (db / "chroma").chmod(0o750)
    (db / "catalog.sqlite").chmod(0o604)
    assert sorted((p.name, oct(m)) for p, m in exposed_paths(db)) == [("catalog.sqlite", "0o604"), ("chroma", "0o750")]
    tighten(db)
    assert exposed_paths(db) == []
    assert stat.S_IMODE((db / "chroma").stat().st_mode) == 0o700
    assert stat.S_IMODE((db / "catalog.sqlite").stat().st_mode) == 0o600
