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


NAMES = ["contracts/lease.md", "contracts/old/supply.md", "a.pdf", "b.PDF", "x[1].txt", "notes.txt", "ab", "a/b/c.md"]


@pytest.mark.parametrize("glob", ["contracts/*", "*.pdf", "?.pdf", "*/old/*", "[ab]*", "[!a]*", "x[[]1].txt", "a*c.md"])
def test_a_glob_becomes_a_regex_that_matches_what_fnmatch_matches(glob):
    expected = {n for n in NAMES if fnmatchcase(n, glob)}
    assert {n for n in NAMES if re.match(glob_regex(glob), n)} == expected
