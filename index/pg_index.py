"""Opening a whole index in PostgreSQL (`--index-url`): the catalog, the lexical index and the
vectors in one schema of one database (index/pg_catalog.py, index/pg_vectors.py), as one `Index`.

Readers on any number of hosts open it at once and see each commit at once.

**Several writers at once.** `localgpt ingest` may run in several processes (on several hosts)
on one folder: each claims the files it reads in the database (`PgCatalog.claim`: a row per
file, the first writer to insert it wins), so each file is read and embedded once. Every writer
holds, for as long as it writes, a session-level advisory lock on a connection of its own:

- **shared** while it writes;
- **exclusive** while it repairs what a killed writer left (the journal's files, vectors the
  catalog does not know, the dead writers' claims), which only a writer that finds no other at
  work may do: it takes the lock exclusively, repairs, then shares it. A writer that finds others
  at work leaves the repair to the next one that starts alone.

Claims stay until the last writer finishes (it forgets them all): a file one writer read is not
read again by another that planned it before it was written. A file changed while other writers
are still at work is read by the next ingest that starts alone.

A lock goes with its connection, so a killed ingest never leaves one taken.
"""

from __future__ import annotations

import uuid

import psycopg

from core.errors import NoIndexError
from index.pg_catalog import PgCatalog, PgLexical
from index.pg_connect import CONNECT_TIMEOUT_S, PgDatabase, parse_index_url
from index.pg_vectors import PgVectorStore
from index.store import Index

ANALYZE_AFTER = 1000  # chunks written by one open for writing
LOCK_CLASS = 7_240_531  # the first key of the writers' advisory lock; the second is the schema's hash
WAIT_FOR_REPAIR_S = 600  # a writer waits this long for another's repair to end


def _lock_key(db: PgDatabase) -> tuple[int, str]:
    """The writers' advisory lock: our class, and the schema (hashed by the server)."""
    return LOCK_CLASS, f"localgpt-ingest:{db.schema}"


def _writers_lock(db: PgDatabase) -> tuple[psycopg.Connection, bool]:
    """The writers' lock on a connection of its own, and whether this writer is alone (holding it
    exclusively: it must share it once it has repaired)."""
    try:
        conn = psycopg.connect(
            db.address.url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True, **db.address.connect_options
        )
    except psycopg.OperationalError as exc:
        raise db.unreachable(exc) from exc
    key = _lock_key(db)
    if conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", key).fetchone()[0]:
        return conn, True
    conn.execute(f"SET lock_timeout = '{WAIT_FOR_REPAIR_S}s'")
    conn.execute("SELECT pg_advisory_lock_shared(%s, hashtext(%s))", key)  # waits while one repairs
    return conn, False


def _share(conn: psycopg.Connection, db: PgDatabase) -> None:
    key = _lock_key(db)
    conn.execute("SELECT pg_advisory_lock_shared(%s, hashtext(%s))", key)
    conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", key)


def _forget_claims_if_last(conn: psycopg.Connection, db: PgDatabase, catalog: PgCatalog) -> None:
    """The last writer to finish forgets every claim. While others still write, the claims stay: a
    file this writer read must not be read again by one that planned it before it was written."""
    key = _lock_key(db)
    try:
        conn.execute("SELECT pg_advisory_unlock_shared(%s, hashtext(%s))", key)
        last = conn.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", key).fetchone()[0]
    except psycopg.OperationalError:
        return  # the server is gone (the next writer that starts alone forgets the claims)
    if last:
        catalog.clear_claims()


def _exists(db: PgDatabase) -> bool:
    with db.connection() as conn:
        return conn.execute("SELECT to_regclass(%s)", (f"{db.prefix}info",)).fetchone()[0] is not None


def pg_index_exists(url: str, password_file: str = "") -> bool:
    db = PgDatabase(parse_index_url(url, password_file))
    try:
        return _exists(db)
    finally:
        db.close()


def open_pg_index(url: str, write: bool = False, password_file: str = "") -> Index:
    address = parse_index_url(url, password_file)
    db = PgDatabase(address)
    lock, alone = None, False
    try:
        if not write and not _exists(db):
            raise NoIndexError(
                f"No index in the PostgreSQL database at {address.shown}. Run "
                "`localgpt ingest --source-dir FOLDER --index-url URL` first."
            )
        if write:
            lock, alone = _writers_lock(db)
        catalog = PgCatalog(db, setup=write, owner=uuid.uuid4().hex if write else "")
    except BaseException:
        if lock is not None:
            lock.close()
        db.close()
        raise

    def release() -> None:
        try:
            if write:
                _forget_claims_if_last(lock, db, catalog)
            if catalog.rows_written >= ANALYZE_AFTER:
                catalog.analyze()  # a bulk load: the planner's statistics, now rather than in a minute
        finally:
            if lock is not None:
                lock.close()
            db.close()

    index = Index(address.shown, catalog, PgVectorStore(db), words=PgLexical(catalog), on_close=release)
    if write:
        try:
            if alone:
                catalog.clear_claims()  # no other writer is alive: their claims are a killed one's
                index.mark_repaired(index.repair())
                _share(lock, db)
            else:
                index.mark_repaired([])  # the others are at work: repairing now could undo their writes
        except BaseException:
            index.close()
            raise
    return index
