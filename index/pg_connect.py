"""One PostgreSQL database holding an index: its address, its schema, a psycopg 3 connection pool.

`--index-url postgresql://USER@HOST:PORT/DATABASE` names the database; the index lives in one
schema of it (`?schema=NAME` in the URL's options, default `localgpt`), so several indexes share
one server. The pgvector extension must exist or be creatable by the user.

Connections come from a pool (psycopg_pool) and are thread-safe to share: the catalog, the lexical
search and the vector store of one index all use the same `PgDatabase`. A server that cannot be
reached is a `PgServerError` naming it (without its password) and saying what to check.

The password: in the URL, through libpq's own conventions (`~/.pgpass` or `PGPASSFILE`, a service
file, `PGPASSWORD`), or in a file of its own (`--index-password-file`: the password alone, owner-only,
as libpq asks of a password file). It is never logged, and `PgAddress.shown` leaves it out.
"""

from __future__ import annotations

import logging
import os
import stat
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from core.errors import LocalGPTError

log = logging.getLogger(__name__)

DEFAULT_SCHEMA = "localgpt"
POOL_SIZE = 4
CONNECT_TIMEOUT_S = 10


class PgServerError(LocalGPTError):
    """The PostgreSQL server could not be reached, or refused what the index needs."""

    http_status = 502


def is_postgres_url(url: str) -> bool:
    return url.strip().lower().startswith(("postgresql://", "postgres://"))


def quote_ident(name: str) -> str:
    """A schema or table name as SQL, quoted (it may hold any character but NUL)."""
    if not name or "\0" in name:
        raise ValueError(f"not a usable SQL name: {name!r}")
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class PgAddress:
    url: str  # what psycopg connects to (the `schema` option taken out)
    schema: str
    password: str = field(default="", repr=False, compare=False)  # from --index-password-file

    @property
    def connect_options(self) -> dict[str, str]:
        """What psycopg.connect takes beside the URL: the password file's password, if one was given."""
        return {"password": self.password} if self.password else {}

    @property
    def shown(self) -> str:
        """The address without its password, for messages and `doctor`."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        query = dict(parse_qsl(parts.query))
        if not host and query.get("host"):
            host = query["host"]  # a Unix socket folder
        port = f":{parts.port}" if parts.port else ""
        user = f"{parts.username}@" if parts.username else ""
        return f"postgresql://{user}{host}{port}{parts.path} (schema {self.schema})"


def read_password_file(path: str) -> str:
    """The password a file holds (its first line), refusing a file that other users may read."""
    file = Path(path).expanduser()
    try:
        mode = file.stat().st_mode
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise PgServerError(
            f"Cannot read the password file {file} ({exc.strerror}). Fix --index-password-file."
        ) from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PgServerError(
            f"The password file {file} can be read by other users (mode {stat.S_IMODE(mode):o}): run chmod 600 {file}."
        )
    password = (text.splitlines() or [""])[0].strip()
    if not password:
        raise PgServerError(f"The password file {file} is empty. Write the password on its first line.")
    return password


def parse_index_url(url: str, password_file: str = "") -> PgAddress:
    """postgresql://user:password@host:port/database[?schema=NAME&...other libpq options]; the
    password from `password_file` when one is given (it wins over one in the URL)."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("postgresql", "postgres"):
        shown = f"{parts.scheme}://…" if parts.scheme else "an address without a scheme"  # never the password
        raise PgServerError(f"--index-url must start with postgresql:// (got {shown}).")
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), DEFAULT_SCHEMA) or DEFAULT_SCHEMA
    rest = urlencode([(k, v) for k, v in query if k != "schema"])
    password = read_password_file(password_file) if password_file else ""
    return PgAddress(urlunsplit(("postgresql", parts.netloc, parts.path, rest, "")), schema, password)


class PgDatabase:
    """The pool of one index's database; `schema` is where its tables live."""

    def __init__(self, address: PgAddress, pool_size: int = POOL_SIZE):
        from pgvector.psycopg import register_vector
        from psycopg_pool import ConnectionPool

        # The pool logs each failed reconnect; the error that reaches the user says it once.
        logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
        self.address = address
        self.schema = address.schema
        self.prefix = quote_ident(address.schema) + "."  # table names are written {prefix}chunks
        self._prepare()

        def configure(conn) -> None:
            register_vector(conn)

        self._pool = ConnectionPool(
            address.url,
            min_size=1,
            max_size=pool_size,
            configure=configure,
            # A connection is checked as it leaves the pool: after the server restarted, the next
            # request gets a new connection instead of the dead one's error.
            check=ConnectionPool.check_connection,
            open=False,
            timeout=30.0,
            kwargs={"connect_timeout": CONNECT_TIMEOUT_S, **address.connect_options},
            name="localgpt-index",
        )
        try:
            self._pool.open(wait=True, timeout=30.0)
        except Exception as exc:  # psycopg_pool raises its own PoolTimeout for a server that never answers
            raise self.unreachable(exc) from exc

    def unreachable(self, exc: BaseException) -> PgServerError:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return PgServerError(
            f"Cannot reach the PostgreSQL server at {self.address.shown}: {first}. "
            "Check that it is running and that --index-url (LOCALGPT_INDEX_URL) is right."
        )

    def _prepare(self) -> None:
        import psycopg

        try:
            with psycopg.connect(
                self.address.url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True, **self.address.connect_options
            ) as conn:
                has = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone()
                if not has:
                    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(self.schema)}")
        except psycopg.errors.InsufficientPrivilege as exc:
            raise PgServerError(
                f"The PostgreSQL server at {self.address.shown} lacks the pgvector extension or the schema, and "
                f"this user may not create them ({str(exc).strip().splitlines()[0]}). Ask its administrator to run "
                f"CREATE EXTENSION vector; and CREATE SCHEMA {quote_ident(self.schema)}; in that database."
            ) from exc
        except psycopg.OperationalError as exc:
            raise self.unreachable(exc) from exc

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A pooled connection; its work commits when the block ends without an error."""
        import psycopg

        try:
            with self._pool.connection() as conn:
                yield conn
        except psycopg.OperationalError as exc:
            raise self.unreachable(exc) from exc

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A pooled connection inside one transaction: all of it commits, or none."""
        with self.connection() as conn, conn.transaction():
            yield conn

    def close(self) -> None:
        self._pool.close()
