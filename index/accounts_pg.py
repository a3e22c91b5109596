"""The account tables (index/accounts_store.py) in the PostgreSQL catalog of a database index, on
its connection pool: every app host on that database sees the same users, keys and sessions."""

from __future__ import annotations

from typing import Sequence

from index.accounts_store import AccountStore
from index.pg_connect import PgDatabase


class PgRows:
    def __init__(self, db: PgDatabase):
        self.db = db
        self._ready = False

    def _sql(self, sql: str) -> str:
        return sql.format(p=self.db.prefix).replace("?", "%s")

    def ready(self) -> bool:
        """Whether the tables exist: an index from before accounts, opened read-only, has none until
        a write-open (`localgpt users add`) upgrades it."""
        if not self._ready:
            with self.db.connection() as conn:
                found = conn.execute("SELECT to_regclass(%s)", (f"{self.db.prefix}users",)).fetchone()[0]
            self._ready = found is not None
        return self._ready

    def rows(self, sql: str, params: Sequence = ()) -> list[tuple]:
        with self.db.connection() as conn:
            return conn.execute(self._sql(sql), tuple(params)).fetchall()

    def write(self, statements: Sequence[tuple[str, Sequence]]) -> list[int]:
        with self.db.transaction() as conn:
            return [conn.execute(self._sql(sql), tuple(params)).rowcount for sql, params in statements]


def pg_accounts(db: PgDatabase) -> AccountStore:
    return AccountStore(PgRows(db))
