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
