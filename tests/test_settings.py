from pathlib import Path

import pytest

from core.settings import load_settings


def test_defaults_env_then_overrides():
    settings = load_settings(environ={})
    assert settings.db == Path("db") and settings.k == 6
    settings = load_settings(environ={"LOCALGPT_K": "9", "LOCALGPT_DB": "/tmp/x", "LOCALGPT_MMR": "yes"})
    assert settings.k == 9 and settings.db == Path("/tmp/x") and settings.mmr is True
    settings = load_settings({"k": 3, "db": None}, environ={"LOCALGPT_K": "9"})
    assert settings.k == 3 and settings.db == Path("db")


def test_a_bad_env_value_names_the_variable():
    with pytest.raises(ValueError, match="LOCALGPT_K"):
        load_settings(environ={"LOCALGPT_K": "many"})


def test_every_setting_has_help_and_is_documented():
    """docs/settings.md is written from the table (scripts/settings_doc.py): every setting, its option and variable."""
    import subprocess
    import sys

    from conftest import REPO
    from core.settings import FIELDS, HELP, env_var

    assert set(HELP) == set(FIELDS), "every setting needs its help, and help only settings"
    doc = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    for name in FIELDS:
        assert f"| {name} |" in doc and f"`{env_var(name)}`" in doc, name
    assert "`--chunk-tokens`" in doc and "`--chunk-overlap`" in doc
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "settings_doc.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
