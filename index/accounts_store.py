"""Who may use a served index, kept in the index's own store: users (a password hash each), their
groups, the folders each group may read, API keys and login sessions (both by their hash only).

The same SQL runs on the SQLite catalog (index/accounts_sqlite.py) and on the PostgreSQL one
(index/accounts_pg.py): two app hosts on one database index share their accounts. The SQL is
written with `?` parameters and `{p}` before each table; each engine's `Rows` adapts it. Nothing
here hashes or checks anything: accounts/ does, and stores only what it made.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol, Sequence

# The tables, for both engines ({p}: the schema's prefix, "" in SQLite). A group exists while it has
# a member or a grant; a grant names a folder by its path as the index records it (roots.path).
TABLES = (
    "CREATE TABLE IF NOT EXISTS {p}users (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, "
    "created_at DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {p}memberships (username TEXT NOT NULL, grp TEXT NOT NULL, PRIMARY KEY (username, grp))",
    "CREATE TABLE IF NOT EXISTS {p}grants (grp TEXT NOT NULL, root TEXT NOT NULL, PRIMARY KEY (grp, root))",
    "CREATE TABLE IF NOT EXISTS {p}api_keys (id TEXT PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE, "
    "username TEXT NOT NULL, scope TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {p}sessions (id_hash TEXT PRIMARY KEY, username TEXT NOT NULL, "
    "created_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL)",
)


class AccountExists(ValueError):
    """A user of that name is there already."""


@dataclass(frozen=True)
class UserRow:
    name: str
    password_hash: str
    created_at: float


@dataclass(frozen=True)
class KeyRow:
    id: str  # public: what `keys list` shows and `keys revoke` takes
    key_hash: str
    user: str
    scope: str
    created_at: float


@dataclass(frozen=True)
class SessionRow:
    id_hash: str
    user: str
    created_at: float
    expires_at: float


class Rows(Protocol):
    """One engine's way to run the statements above."""

    def ready(self) -> bool:
        """Whether the tables exist (an index opened read-only from before accounts has none)."""

    def rows(self, sql: str, params: Sequence = ()) -> list[tuple]: ...

    def write(self, statements: Sequence[tuple[str, Sequence]]) -> list[int]:
        """Run `statements` in one transaction; each one's row count."""


class AccountStore:
    def __init__(self, rows: Rows):
        self._rows = rows

    def _all(self, sql: str, params: Sequence = ()) -> list[tuple]:
        return self._rows.rows(sql, params) if self._rows.ready() else []

    # -- users --------------------------------------------------------------
    def has_users(self) -> bool:
        return bool(self._all("SELECT 1 FROM {p}users LIMIT 1"))

    def users(self) -> list[UserRow]:
        return [
            UserRow(*row) for row in self._all("SELECT name, password_hash, created_at FROM {p}users ORDER BY name")
        ]

    def user(self, name: str) -> UserRow | None:
        found = self._all("SELECT name, password_hash, created_at FROM {p}users WHERE name = ?", (name,))
        return UserRow(*found[0]) if found else None

    def add_user(self, name: str, password_hash: str, groups: Sequence[str] = ()) -> None:
        if self.user(name) is not None:
            raise AccountExists(name)
        self._rows.write(
            [
                (
                    "INSERT INTO {p}users (name, password_hash, created_at) VALUES (?, ?, ?)",
                    (name, password_hash, time.time()),
                ),
                *[
                    ("INSERT INTO {p}memberships (username, grp) VALUES (?, ?) ON CONFLICT DO NOTHING", (name, g))
                    for g in dict.fromkeys(groups)
                ],
            ]
        )

    def set_password(self, name: str, password_hash: str) -> bool:
        """A new password; the user's sessions end (keys stay). False: no such user."""
        changed = self._rows.write(
            [
                ("UPDATE {p}users SET password_hash = ? WHERE name = ?", (password_hash, name)),
                ("DELETE FROM {p}sessions WHERE username = ?", (name,)),
            ]
        )
        return changed[0] > 0

    def remove_user(self, name: str) -> bool:
        """The user, their groups, keys and sessions go. False: no such user."""
        counts = self._rows.write(
            [
                ("DELETE FROM {p}users WHERE name = ?", (name,)),
                ("DELETE FROM {p}memberships WHERE username = ?", (name,)),
                ("DELETE FROM {p}api_keys WHERE username = ?", (name,)),
                ("DELETE FROM {p}sessions WHERE username = ?", (name,)),
            ]
        )
        return counts[0] > 0

    # -- groups and grants ----------------------------------------------------
    def groups_of(self, name: str) -> list[str]:
        return [r[0] for r in self._all("SELECT grp FROM {p}memberships WHERE username = ? ORDER BY grp", (name,))]

    def add_to_group(self, name: str, group: str) -> None:
        self._rows.write(
            [("INSERT INTO {p}memberships (username, grp) VALUES (?, ?) ON CONFLICT DO NOTHING", (name, group))]
        )

    def remove_from_group(self, name: str, group: str) -> bool:
        """False: the user was not in that group."""
        return self._rows.write([("DELETE FROM {p}memberships WHERE username = ? AND grp = ?", (name, group))])[0] > 0

    def grant(self, group: str, root: str) -> bool:
        """False: that group could read that folder already."""
        return (
            self._rows.write(
                [("INSERT INTO {p}grants (grp, root) VALUES (?, ?) ON CONFLICT DO NOTHING", (group, root))]
            )[0]
            > 0
        )

    def revoke(self, group: str, root: str) -> bool:
        """False: that group could not read that folder."""
        return self._rows.write([("DELETE FROM {p}grants WHERE grp = ? AND root = ?", (group, root))])[0] > 0

    def grants(self) -> list[tuple[str, str]]:
        """(group, folder) of every grant, sorted."""
        return [(g, r) for g, r in self._all("SELECT grp, root FROM {p}grants ORDER BY grp, root")]

    def folders_of(self, name: str) -> set[str]:
        """The folders a user may read: those granted to any of their groups."""
        rows = self._all(
            "SELECT DISTINCT g.root FROM {p}grants AS g JOIN {p}memberships AS m ON m.grp = g.grp WHERE m.username = ?",
            (name,),
        )
        return {r[0] for r in rows}

    # -- API keys -------------------------------------------------------------
    def add_key(self, key: KeyRow) -> None:
        self._rows.write(
            [
                (
                    "INSERT INTO {p}api_keys (id, key_hash, username, scope, created_at) VALUES (?, ?, ?, ?, ?)",
                    (key.id, key.key_hash, key.user, key.scope, key.created_at),
                )
            ]
        )

    def key_by_hash(self, key_hash: str) -> KeyRow | None:
        found = self._all(
            "SELECT id, key_hash, username, scope, created_at FROM {p}api_keys WHERE key_hash = ?", (key_hash,)
        )
        return KeyRow(*found[0]) if found else None

    def keys(self, user: str | None = None) -> list[KeyRow]:
        sql = "SELECT id, key_hash, username, scope, created_at FROM {p}api_keys"
        rows = (
            self._all(sql + " WHERE username = ? ORDER BY created_at", (user,))
            if user
            else self._all(sql + " ORDER BY username, created_at")
        )
        return [KeyRow(*row) for row in rows]

    def revoke_key(self, key_id: str, user: str | None = None) -> bool:
        """False: no such key (of that user, if given)."""
        if user is None:
            return self._rows.write([("DELETE FROM {p}api_keys WHERE id = ?", (key_id,))])[0] > 0
        return self._rows.write([("DELETE FROM {p}api_keys WHERE id = ? AND username = ?", (key_id, user))])[0] > 0

    # -- sessions -------------------------------------------------------------
    def add_session(self, session: SessionRow) -> None:
        now = time.time()
        self._rows.write(
            [
                ("DELETE FROM {p}sessions WHERE expires_at < ?", (now,)),  # the expired ones, now and then
                (
                    "INSERT INTO {p}sessions (id_hash, username, created_at, expires_at) VALUES (?, ?, ?, ?)",
                    (session.id_hash, session.user, session.created_at, session.expires_at),
                ),
            ]
        )

    def session(self, id_hash: str) -> SessionRow | None:
        found = self._all(
            "SELECT id_hash, username, created_at, expires_at FROM {p}sessions WHERE id_hash = ?", (id_hash,)
        )
        return SessionRow(*found[0]) if found else None

    def end_session(self, id_hash: str) -> None:
        self._rows.write([("DELETE FROM {p}sessions WHERE id_hash = ?", (id_hash,))])
