"""Opening a whole index in PostgreSQL (`--index-url`): the catalog, the lexical index and the
vectors in one schema of one database (index/pg_catalog.py, index/pg_vectors.py), as one `Index`.

Readers on any number of hosts open it at once and see each commit at once. One writer at a time:
an ingest holds a session-level advisory lock named after the schema, on a connection of its own,
for as long as it writes; a second ingest is refused with the same message as for a folder index.
The lock goes with the connection, so a killed ingest never leaves it taken.
"""

from __future__ import annotations

import psycopg

from core.errors import IngestLockedError, NoIndexError
from index.pg_catalog import PgCatalog, PgLexical
from index.pg_connect import CONNECT_TIMEOUT_S, PgDatabase, parse_index_url
from index.pg_vectors import PgVectorStore
from index.store import Index

ANALYZE_AFTER = 1000  # chunks written by one open for writing


def _writer_lock(db: PgDatabase) -> psycopg.Connection:
    try:
        conn = psycopg.connect(db.address.url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True)
    except psycopg.OperationalError as exc:
        raise db.unreachable(exc) from exc
    got = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (f"localgpt-ingest:{db.schema}",)).fetchone()[0]
    if not got:
        conn.close()
        raise IngestLockedError(
            f"Another ingest is writing to the index at {db.address.shown} right now. Wait for it to finish, "
            "or ingest into another schema (?schema=NAME in --index-url)."
        )
    return conn


def _exists(db: PgDatabase) -> bool:
    with db.connection() as conn:
        return conn.execute("SELECT to_regclass(%s)", (f"{db.prefix}info",)).fetchone()[0] is not None


def pg_index_exists(url: str) -> bool:
    db = PgDatabase(parse_index_url(url))
    try:
        return _exists(db)
    finally:
        db.close()


def open_pg_index(url: str, write: bool = False) -> Index:
    address = parse_index_url(url)
    db = PgDatabase(address)
    lock = None
    try:
        if not write and not _exists(db):
            raise NoIndexError(
                f"No index in the PostgreSQL database at {address.shown}. Run "
                "`localgpt ingest --source-dir FOLDER --index-url URL` first."
            )
        if write:
            lock = _writer_lock(db)
        catalog = PgCatalog(db, setup=write)
    except BaseException:
        if lock is not None:
            lock.close()
        db.close()
        raise

    def release() -> None:
        try:
            if catalog.rows_written >= ANALYZE_AFTER:
                catalog.analyze()  # a bulk load: the planner's statistics, now rather than in a minute
        finally:
            if lock is not None:
                lock.close()
            db.close()

    return Index(address.shown, catalog, PgVectorStore(db), words=PgLexical(catalog), on_close=release)
