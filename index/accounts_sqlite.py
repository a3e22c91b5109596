"""The account tables (index/accounts_store.py) in the SQLite catalog of a folder index: a
connection of their own to catalog.sqlite, shared by the server's threads under a lock."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Sequence

from index.accounts_store import TABLES, AccountStore


class SqliteRows:
    def __init__(self, path: Path):
        self._db = sqlite3.connect(str(path), timeout=30.0, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()

    def ready(self) -> bool:
        return True  # the catalog creates the tables whenever it is opened (index/catalog.py)

    def rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql.format(p=""), tuple(params)).fetchall()

    def write(self, statements: Sequence[tuple[str, Sequence]]) -> list[int]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                counts = [self._db.execute(sql.format(p=""), tuple(params)).rowcount for sql, params in statements]
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return counts

    def close(self) -> None:
        self._db.close()


def sqlite_accounts(path: Path) -> AccountStore:
    return AccountStore(SqliteRows(path))


def create_tables(conn: sqlite3.Connection) -> None:
    """The account tables of a catalog (new, or from before accounts: they are added)."""
    for statement in TABLES:
        conn.execute(statement.format(p=""))
