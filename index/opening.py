"""Where an index is opened: a folder (`--db`, the default) or a PostgreSQL database (`--index-url`)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from core.errors import NoIndexError
from index.catalog import Catalog
from index.store import CATALOG_FILE, Index
from index.store import index_exists as folder_index_exists
from index.store import open_index as open_folder_index


def open_index(
    db: Path, write: bool = False, chroma_url: str = "", index_url: str = "", password_file: str = ""
) -> Index:
    """The index in folder `db` (its vectors in the Chroma server at `chroma_url`, if given), or,
    with `index_url`, the whole index in that PostgreSQL database (index/pg_index.py; `db` unused;
    its password from `password_file` if given). For writing, it is created if missing and the
    one-writer lock is taken."""
    if index_url:
        from index.pg_index import open_pg_index

        return open_pg_index(index_url, write=write, password_file=password_file)
    return open_folder_index(db, write=write, chroma_url=chroma_url)


def index_exists(db: Path, index_url: str = "", password_file: str = "") -> bool:
    """Whether there is an index to read: in folder `db`, or in the database at `index_url`."""
    if index_url:
        from index.pg_index import pg_index_exists

        return pg_index_exists(index_url, password_file)
    return folder_index_exists(db)


def open_configured_index(settings, write: bool = False) -> Index:
    """`open_index` at the place the settings name: --db, --chroma-url, --index-url and its password file."""
    return open_index(settings.db, write, settings.chroma_url, settings.index_url, settings.index_password_file)


def configured_index_exists(settings) -> bool:
    """`index_exists` at the place the settings name."""
    return index_exists(settings.db, settings.index_url, settings.index_password_file)


def index_label(db: Path, index_url: str = "") -> str:
    """What messages call the index: its folder, or its database (without the password)."""
    if index_url:
        from index.pg_connect import parse_index_url

        return parse_index_url(index_url).shown
    return str(db)


@contextmanager
def open_catalog(db: Path, index_url: str = "", password_file: str = "") -> Iterator[Catalog]:
    """The catalog alone (no vectors, no lexical index, no writers' lock), its tables brought up to
    date: for what reads or writes only the catalog's own records (accounts: `localgpt users`)."""
    if not index_exists(db, index_url, password_file):
        raise NoIndexError(
            f"No index at {index_label(db, index_url)}. Ingest a folder first "
            "(`localgpt ingest --source-dir FOLDER`), then add users and grant them its folders."
        )
    if index_url:
        from index.pg_catalog import PgCatalog
        from index.pg_connect import PgDatabase, parse_index_url

        database = PgDatabase(parse_index_url(index_url, password_file))
        try:
            yield PgCatalog(database, setup=True)
        finally:
            database.close()
        return
    catalog = Catalog(Path(db) / CATALOG_FILE)
    try:
        yield catalog
    finally:
        catalog.close()
