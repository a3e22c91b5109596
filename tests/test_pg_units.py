"""The PostgreSQL index's pure parts, without a server: its address (never showing the password)
and the translation of source globs into the regular expressions its SQL matches with."""

import re
from fnmatch import fnmatchcase

import pytest

from index.pg_connect import PgServerError, parse_index_url
from index.pg_filter import glob_regex


def test_the_address_keeps_libpq_options_takes_the_schema_out_and_never_shows_the_password():
    address = parse_index_url("postgresql://team:s3cret@db.example:5433/handbook?schema=hr&sslmode=verify-full")
    assert address.schema == "hr"
    assert "sslmode=verify-full" in address.url and "schema=" not in address.url
    assert address.shown == "postgresql://team@db.example:5433/handbook (schema hr)"
    assert parse_index_url("postgresql://db.example/team").schema == "localgpt"


def test_a_wrong_scheme_is_refused_without_echoing_the_address():
    with pytest.raises(PgServerError) as refused:
        parse_index_url("mysql://team:s3cret@db.example/handbook")
    assert "s3cret" not in str(refused.value) and "postgresql://" in str(refused.value)


def test_the_password_file_gives_the_password_to_libpq_and_never_to_repr_or_shown(tmp_path):
    secret = tmp_path / "password"
    secret.write_text("from-the-file-9d2\nignored second line\n")
    secret.chmod(0o600)
    address = parse_index_url("postgresql://team:in-the-url@db.example/handbook", str(secret))
    assert address.connect_options == {"password": "from-the-file-9d2"}  # the file wins over the URL
    assert "from-the-file-9d2" not in repr(address) and "from-the-file-9d2" not in address.shown
    assert "in-the-url" not in address.shown
    assert parse_index_url("postgresql://db.example/handbook").connect_options == {}


@pytest.mark.parametrize(
    ("content", "mode", "message"),
    [
        ("pw-for-others\n", 0o644, "can be read by other users (mode 644): run chmod 600"),
        ("\n", 0o600, "is empty"),
        (None, None, "Cannot read the password file"),
    ],
)
def test_a_password_file_others_can_read_an_empty_or_a_missing_one_is_refused(tmp_path, content, mode, message):
    secret = tmp_path / "password"
    if content is not None:
        secret.write_text(content)
        secret.chmod(mode)
    with pytest.raises(PgServerError, match=message.replace("(", r"\(").replace(")", r"\)")) as refused:
        parse_index_url("postgresql://db.example/handbook", str(secret))
    assert "pw-for-others" not in str(refused.value)


NAMES = ["contracts/lease.md", "contracts/old/supply.md", "a.pdf", "b.PDF", "x[1].txt", "notes.txt", "ab", "a/b/c.md"]


@pytest.mark.parametrize("glob", ["contracts/*", "*.pdf", "?.pdf", "*/old/*", "[ab]*", "[!a]*", "x[[]1].txt", "a*c.md"])
def test_a_glob_becomes_a_regex_that_matches_what_fnmatch_matches(glob):
    expected = {n for n in NAMES if fnmatchcase(n, glob)}
    assert {n for n in NAMES if re.match(glob_regex(glob), n)} == expected
