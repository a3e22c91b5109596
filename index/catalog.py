"""The index's own record, in SQLite: which files built it, their chunks, what model built it,
a journal of files being written (so a killed ingest is repaired on the next run), and the
chunks the lexical index (index/lexical_tantivy.py) has not taken in yet. An index from before
Tantivy keeps its full-text index here (FTS5) until its next ingest builds the new one.

SQLite commits are atomic, so the catalog is never half-written.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from core.filters import Filter
from core.words import tokens as word_tokens
from core.index_text import head_of
from core.types import Chunk
from index.accounts_sqlite import create_tables as create_account_tables
from index.accounts_sqlite import sqlite_accounts
from index.accounts_store import AccountStore
from index.passing_sets import PassingSets
from index.sql_filter import matching_sources, passing_ids, to_sql

# Which lexical index an index uses (info key): Tantivy beside the catalog, or (indexes made
# before it, until their next ingest) FTS5 inside it.
LEXICAL_KEY = "lexical_index"
TANTIVY, FTS5 = "tantivy", "fts5"

# Chunk ids added or deleted since the lexical index last took them in: written by triggers in
# the same transaction as the change, so none is ever missed (cleared by `Index` after a sync).
LEXICAL_CHANGES = (
    "CREATE TABLE IF NOT EXISTS lexical_changes (id TEXT PRIMARY KEY)",
    "CREATE TRIGGER IF NOT EXISTS chunks_changed_ai AFTER INSERT ON chunks BEGIN "
    "INSERT OR IGNORE INTO lexical_changes(id) VALUES (new.id); END",
    "CREATE TRIGGER IF NOT EXISTS chunks_changed_ad AFTER DELETE ON chunks BEGIN "
    "INSERT OR IGNORE INTO lexical_changes(id) VALUES (old.id); END",
)

# The old full-text index (FTS5): each chunk's head (title > heading path, core/index_text.py) and its text,
# kept in step with `chunks` by triggers. BM25 sums over both columns.
FTS = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5("
    "head, text, content='chunks', content_rowid='rowid', tokenize='porter unicode61')",
    "CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN "
    "INSERT INTO chunks_fts(rowid, head, text) VALUES (new.rowid, new.head, new.text); END",
    "CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN "
    "INSERT INTO chunks_fts(chunks_fts, rowid, head, text) VALUES ('delete', old.rowid, old.head, old.text); END",
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    source TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    chunk_count INTEGER NOT NULL,
    ingested_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    chunk_index INTEGER NOT NULL,
    text TEXT NOT NULL,
    meta TEXT NOT NULL,
    head TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS chunks_by_position ON chunks(source, chunk_index);
CREATE TABLE IF NOT EXISTS pending (source TEXT PRIMARY KEY, started_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS roots (
    path TEXT PRIMARY KEY,
    label TEXT NOT NULL UNIQUE,
    added_at REAL NOT NULL,
    last_ingest REAL
);
CREATE TABLE IF NOT EXISTS failures (
    source TEXT PRIMARY KEY,
    root TEXT NOT NULL,
    reason TEXT NOT NULL,
    size INTEGER,
    mtime_ns INTEGER,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    acknowledged INTEGER NOT NULL DEFAULT 0
);
"""
# Columns added after the first release, with their definitions: added to an older catalog on open.
ADDED_COLUMNS = {"files": {"root": "TEXT"}}


@dataclass(frozen=True)
class FileRecord:
    source: str
    content_hash: str
    size: int
    mtime_ns: int
    chunk_count: int = 0
    ingested_at: float = 0.0
    root: str | None = None  # the folder it was ingested from (None: an index from before folders were recorded)


@dataclass(frozen=True)
class Root:
    """A folder ingested into the index; its files' sources start with `label/` (none for label "")."""

    path: str
    label: str
    added_at: float
    last_ingest: float | None = None

    def source_of(self, relative: str) -> str:
        return f"{self.label}/{relative}" if self.label else relative


@dataclass(frozen=True)
class Failure:
    """A file that could not be read, the last time its folder was ingested."""

    source: str
    root: str
    reason: str
    size: int | None
    mtime_ns: int | None
    first_seen: float
    last_seen: float
    acknowledged: bool = False


class Catalog:
    def __init__(self, path: Path, setup: bool = True):
        """`setup`: create or migrate the schema; another connection to a catalog open already skips it."""
        self.path = Path(path)
        # check_same_thread off: ingest writes from one writer thread, never two threads at once
        self._db = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None, check_same_thread=False)
        self._passing_sets = PassingSets()
        if not setup:
            return
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        create_account_tables(self._db)  # an index from before accounts gets them here
        for statement in LEXICAL_CHANGES:
            self._db.execute(statement)
        self._choose_lexical()
        self._migrate()
        self._add_columns()
        if self.lexical_engine() == FTS5:
            for statement in FTS:
                self._db.execute(statement)

    def _choose_lexical(self) -> None:
        """A new catalog uses Tantivy; one that already has chunks or FTS5 keeps FTS5 until the
        next ingest builds Tantivy's index (`Index.settle_lexical`)."""
        if LEXICAL_KEY in self.info():
            return
        has_fts = self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'chunks_fts'").fetchone()
        old = has_fts or self._db.execute("SELECT 1 FROM chunks LIMIT 1").fetchone()
        with self._transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO info(key, value) VALUES (?, ?)", (LEXICAL_KEY, FTS5 if old else TANTIVY)
            )

    def lexical_engine(self) -> str:
        row = self._db.execute("SELECT value FROM info WHERE key = ?", (LEXICAL_KEY,)).fetchone()
        return row[0] if row else FTS5

    def _migrate(self) -> None:
        """Bring a catalog written before chunk heads existed up to date, once: the `head` column
        (filled from each chunk's metadata) and, for FTS5, a full-text index over heads and texts."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(chunks)")}
        fts = {row[1] for row in self._db.execute("PRAGMA table_info(chunks_fts)")}
        if "head" in columns and (not fts or "head" in fts):
            return
        with self._transaction():
            if "head" not in columns:
                self._db.execute("ALTER TABLE chunks ADD COLUMN head TEXT NOT NULL DEFAULT ''")
                rows = self._db.execute("SELECT rowid, source, meta FROM chunks").fetchall()
                self._db.executemany(
                    "UPDATE chunks SET head = ? WHERE rowid = ?",
                    [(head_of(src, json.loads(meta)), rowid) for rowid, src, meta in rows],
                )
            self._db.execute("DROP TRIGGER IF EXISTS chunks_ai")
            self._db.execute("DROP TRIGGER IF EXISTS chunks_ad")
            self._db.execute("DROP TABLE IF EXISTS chunks_fts")
            self._db.execute("DROP INDEX IF EXISTS chunks_by_source")
            if self.lexical_engine() == FTS5:
                for statement in FTS:
                    self._db.execute(statement)
                self._db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild')")

    def close(self) -> None:
        self._db.close()

    def accounts(self) -> AccountStore:
        """Who may use this index when it is served (index/accounts_store.py), in this catalog."""
        return sqlite_accounts(self.path)

    def for_thread(self) -> "Catalog":
        """A connection of its own for another thread (SQLite connections stay in their thread)."""
        return Catalog(self.path, setup=False)

    def _add_columns(self) -> None:
        """The migration of a catalog written before a column existed (additive only)."""
        for table, columns in ADDED_COLUMNS.items():
            have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for name, definition in columns.items():
                if name not in have:
                    try:
                        self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")
                    except sqlite3.OperationalError as exc:  # another process added it a moment ago
                        if "duplicate column" not in str(exc):
                            raise

    # -- index info ---------------------------------------------------------
    def info(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT key, value FROM info"))

    def set_info(self, values: dict[str, object]) -> None:
        with self._transaction():
            self._db.executemany(
                "INSERT INTO info(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                [(k, str(v)) for k, v in values.items()],
            )

    # -- files --------------------------------------------------------------
    def files(self, root: str | None = None) -> dict[str, FileRecord]:
        """The files in the index; with `root`, only those ingested from that folder."""
        sql = "SELECT source, content_hash, size, mtime_ns, chunk_count, ingested_at, root FROM files"
        rows = self._db.execute(sql + " WHERE root = ?", (root,)) if root is not None else self._db.execute(sql)
        return {row[0]: FileRecord(*row) for row in rows}

    def pages_of_files(self) -> dict[str, int]:
        """source -> how many distinct pages its chunks cite (files without pages are absent)."""
        rows = self._db.execute(
            "SELECT source, count(DISTINCT json_extract(meta, '$.page')) FROM chunks "
            "WHERE json_extract(meta, '$.page') IS NOT NULL GROUP BY source"
        )
        return dict(rows)

    # -- folders ------------------------------------------------------------
    def roots(self) -> list[Root]:
        rows = self._db.execute("SELECT path, label, added_at, last_ingest FROM roots ORDER BY added_at, path")
        return [Root(*row) for row in rows]

    def add_root(self, path: str, label: str) -> Root:
        """Record a folder; files the catalog holds without a folder (an older index) become its own."""
        now = time.time()
        with self._transaction():
            self._db.execute("INSERT INTO roots(path, label, added_at) VALUES (?, ?, ?)", (path, label, now))
        return Root(path, label, now)

    def adopt_files(self, root: str) -> int:
        """Files recorded before folders were (root NULL) are from `root`: returns how many."""
        with self._transaction():
            return self._db.execute("UPDATE files SET root = ? WHERE root IS NULL", (root,)).rowcount

    def set_root_ingested(self, path: str) -> None:
        with self._transaction():
            self._db.execute("UPDATE roots SET last_ingest = ? WHERE path = ?", (time.time(), path))

    def remove_root(self, path: str) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM roots WHERE path = ?", (path,))
            self._db.execute("DELETE FROM failures WHERE root = ?", (path,))

    # -- failures: files that could not be read ---------------------------------
    def failures(self, root: str | None = None) -> dict[str, Failure]:
        sql = "SELECT source, root, reason, size, mtime_ns, first_seen, last_seen, acknowledged FROM failures"
        rows = self._db.execute(sql + " WHERE root = ?", (root,)) if root is not None else self._db.execute(sql)
        return {row[0]: Failure(*row[:7], bool(row[7])) for row in rows}

    def set_failures(self, root: str, failures: list[Failure]) -> None:
        """The failures of the last ingest of `root`, replacing that folder's earlier ones."""
        with self._transaction():
            self._db.execute("DELETE FROM failures WHERE root = ?", (root,))
            self._record_failures(root, failures)

    def settle_failures(self, root: str, failures: list[Failure], drop: Iterable[str]) -> None:
        """One ingest's word on the failures of `root`: the sources in `drop` (files it read, or
        found gone) lose their failure, `failures` are recorded; every other row stays as it is."""
        with self._transaction():
            self._db.executemany(
                "DELETE FROM failures WHERE root = ? AND source = ?",
                [(root, s) for s in sorted({*drop, *(f.source for f in failures)})],
            )
            self._record_failures(root, failures)

    def _record_failures(self, root: str, failures: list[Failure]) -> None:
        self._db.executemany(
            "INSERT OR REPLACE INTO failures(source, root, reason, size, mtime_ns, first_seen, last_seen, acknowledged) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (f.source, root, f.reason, f.size, f.mtime_ns, f.first_seen, f.last_seen, int(f.acknowledged))
                for f in failures
            ],
        )

    def acknowledge_failures(self, sources: Iterable[str] | None = None) -> list[str]:
        """Mark failures as known (all of them when `sources` is None): returns the sources marked."""
        with self._transaction():
            if sources is None:
                marked = [r[0] for r in self._db.execute("SELECT source FROM failures WHERE acknowledged = 0")]
                self._db.execute("UPDATE failures SET acknowledged = 1")
            else:
                marked = []
                for source in sources:
                    if self._db.execute("UPDATE failures SET acknowledged = 1 WHERE source = ?", (source,)).rowcount:
                        marked.append(source)
        return sorted(marked)

    def forget_failures(self, sources: Iterable[str]) -> None:
        with self._transaction():
            self._db.executemany("DELETE FROM failures WHERE source = ?", [(s,) for s in sources])

    def file_count(self) -> int:
        return self._db.execute("SELECT count(*) FROM files").fetchone()[0]

    def chunk_count(self) -> int:
        return self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def has_files_under(self, name: str) -> bool:
        """Whether a file is named `name`, or lies under a folder of that name."""
        row = self._db.execute(
            "SELECT 1 FROM files WHERE source = ? OR substr(source, 1, ?) = ? LIMIT 1",
            (name, len(name) + 1, name + "/"),
        ).fetchone()
        return row is not None

    # -- journal: sources whose vectors in the store may differ from the catalog -----
    def mark_pending(self, sources: Iterable[str]) -> None:
        now = time.time()
        with self._transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO pending(source, started_at) VALUES (?, ?)", [(s, now) for s in sources]
            )

    def clear_pending(self, sources: Iterable[str]) -> None:
        with self._transaction():
            self._db.executemany("DELETE FROM pending WHERE source = ?", [(s,) for s in sources])

    def claim(self, sources: Sequence[str]) -> list[str]:
        """The files this writer may read: all of them (a folder index has one writer at a time)."""
        return list(sources)

    def pending(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT source FROM pending ORDER BY source")]

    # -- writes -------------------------------------------------------------
    def replace_files(self, files: list[tuple[FileRecord, list[Chunk]]]) -> None:
        """In one transaction: each file's old chunks go, its new ones and its record come.

        The journal entries stay: the store may still hold the old vectors, until they are deleted.
        """
        with self._transaction():
            self._replace(files)

    def _replace(self, files: Sequence[tuple[FileRecord, Sequence[Chunk]]]) -> None:
        now = time.time()
        for record, chunks in files:
            self._db.execute("DELETE FROM chunks WHERE source = ?", (record.source,))
            self._db.executemany(
                "INSERT INTO chunks(id, source, chunk_index, text, meta, head) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        c.id,
                        c.source,
                        c.chunk_index,
                        c.text,
                        json.dumps(c.metadata(), ensure_ascii=False),
                        head_of(c.source, c.metadata()),
                    )
                    for c in chunks
                ],
            )
            self._db.execute(
                "INSERT OR REPLACE INTO files(source, content_hash, size, mtime_ns, chunk_count, ingested_at, root) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (record.source, record.content_hash, record.size, record.mtime_ns, len(chunks), now, record.root),
            )

    def move_files(self, moves: Sequence[tuple[str, FileRecord, Sequence[Chunk]]]) -> None:
        """In one transaction: each (old source, new record, its chunks) gives the old source's
        chunks and record up for the new ones (a file renamed or moved: the same content)."""
        with self._transaction():
            for old_source, _, _ in moves:
                self._db.execute("DELETE FROM chunks WHERE source = ?", (old_source,))
                self._db.execute("DELETE FROM files WHERE source = ?", (old_source,))
            self._replace([(record, chunks) for _, record, chunks in moves])

    def replace_file(self, record: FileRecord, chunks: list[Chunk]) -> None:
        self.replace_files([(record, chunks)])

    def touch_file(self, record: FileRecord) -> None:
        """Same content, new size/mtime (a copy, a touch): remember the new stat, keep the chunks."""
        with self._transaction():
            self._db.execute(
                "UPDATE files SET size = ?, mtime_ns = ? WHERE source = ?",
                (record.size, record.mtime_ns, record.source),
            )

    def remove_files(self, sources: Iterable[str], journal: bool = False) -> None:
        """Forget files (their chunks and records) in one transaction; with `journal`, journal them in the same one."""
        sources = list(sources)
        now = time.time()
        with self._transaction():
            for source in sources:
                self._db.execute("DELETE FROM chunks WHERE source = ?", (source,))
                self._db.execute("DELETE FROM files WHERE source = ?", (source,))
                if journal:
                    self._db.execute("INSERT OR REPLACE INTO pending(source, started_at) VALUES (?, ?)", (source, now))

    # -- the lexical index's feed -----------------------------------------------
    def lexical_changes(self) -> list[str]:
        """Chunk ids added or deleted since the lexical index last took them in."""
        return [row[0] for row in self._db.execute("SELECT id FROM lexical_changes")]

    def clear_lexical_changes(self, ids: Sequence[str]) -> None:
        with self._transaction():
            for start in range(0, len(ids), 500):
                part = list(ids[start : start + 500])
                self._db.execute(f"DELETE FROM lexical_changes WHERE id IN ({','.join('?' * len(part))})", part)

    def lexical_rows(self, ids: Sequence[str]) -> Iterator[tuple]:
        """(id, source, text, meta JSON, head) of those of `ids` the catalog holds."""
        return self._select_in("SELECT id, source, text, meta, head FROM chunks WHERE id IN ({})", ids)

    def all_lexical_rows(self, batch: int) -> Iterator[list[tuple]]:
        """Every chunk as `lexical_rows` gives it, `batch` at a time, in rowid order."""
        last = 0
        while True:
            rows = self._db.execute(
                "SELECT rowid, id, source, text, meta, head FROM chunks WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield [row[1:] for row in rows]

    def use_tantivy(self) -> None:
        """The lexical index now lives in Tantivy and holds every chunk: in one transaction, FTS5
        goes and the pending changes are cleared."""
        with self._transaction():
            self._db.execute("DROP TRIGGER IF EXISTS chunks_ai")
            self._db.execute("DROP TRIGGER IF EXISTS chunks_ad")
            self._db.execute("DROP TABLE IF EXISTS chunks_fts")
            self._db.execute("DELETE FROM lexical_changes")
            self._db.execute(
                "INSERT INTO info(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (LEXICAL_KEY, TANTIVY),
            )

    # -- reads --------------------------------------------------------------
    def chunk_ids(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT id FROM chunks")}

    def chunk_ids_of(self, sources: Iterable[str]) -> set[str]:
        return {row[0] for row in self._select_in("SELECT id FROM chunks WHERE source IN ({})", sources)}

    def chunks_of(self, source: str) -> list[Chunk]:
        """The chunks of `source`, in their order."""
        rows = self._db.execute("SELECT id, text, meta FROM chunks WHERE source = ? ORDER BY chunk_index", (source,))
        return [Chunk.from_metadata(cid, text, json.loads(meta)) for cid, text, meta in rows]

    def sources_of(self, ids: Iterable[str]) -> set[str]:
        return {row[0] for row in self._select_in("SELECT DISTINCT source FROM chunks WHERE id IN ({})", ids)}

    def has_ids(self, ids: Iterable[str]) -> set[str]:
        """Those of `ids` the catalog holds now: the chunks a reader may show (see index/__init__.py)."""
        return {row[0] for row in self._select_in("SELECT id FROM chunks WHERE id IN ({})", ids)}

    def word_counts(self, words: Iterable[str]) -> dict[str, int]:
        """For each word, how many chunks hold it (the full-text index's own tokenizer and stemmer)."""
        counts = {}
        for word in words:
            tokens = word_tokens(word)
            phrase = '"' + " ".join(tokens) + '"'
            counts[word] = (
                self._db.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?", (phrase,)).fetchone()[0]
                if tokens
                else 0
            )
        return counts

    def has_meta_key(self, key: str) -> bool:
        """Whether some chunk's metadata has `key` (index/metadata_keys.py)."""
        row = self._db.execute(
            "SELECT 1 FROM chunks WHERE json_extract(meta, ?) IS NOT NULL LIMIT 1", (f'$."{key}"',)
        ).fetchone()
        return row is not None

    def meta_keys(self, sample: int = 5000) -> list[str]:
        """The metadata keys of the first `sample` chunks, sorted."""
        rows = self._db.execute(
            "SELECT DISTINCT j.key FROM (SELECT meta FROM chunks LIMIT ?) AS c, json_each(c.meta) AS j", (sample,)
        )
        return sorted(r[0] for r in rows)

    def get_chunks(self, ids: list[str]) -> dict[str, Chunk]:
        return {cid: Chunk.from_metadata(cid, text, meta) for cid, (text, meta) in self.texts_and_meta(ids).items()}

    def texts_and_meta(self, ids: list[str]) -> dict[str, tuple[str, dict]]:
        """id -> (text, metadata) for those of `ids` the catalog holds."""
        rows = self._select_in("SELECT id, text, meta FROM chunks WHERE id IN ({})", ids)
        return {cid: (text, json.loads(meta)) for cid, text, meta in rows}

    def _select_in(self, sql: str, values: Iterable[str], params: Sequence = ()) -> Iterator[tuple]:
        """Rows of `sql` (one `IN ({})`, then `params`) for all `values`, asked 500 at a time (SQLite's
        variable limit)."""
        values = list(values)
        for start in range(0, len(values), 500):
            part = values[start : start + 500]
            yield from self._db.execute(sql.format(",".join("?" * len(part))), [*part, *params])

    def neighbours(self, source: str, low: int, high: int) -> dict[int, str]:
        """chunk_index -> text of the chunks of `source` numbered low..high."""
        rows = self._db.execute(
            "SELECT chunk_index, text FROM chunks WHERE source = ? AND chunk_index BETWEEN ? AND ?", (source, low, high)
        )
        return dict(rows)

    def passing(self, ids: Iterable[str], flt: Filter) -> set[str]:
        """Those of `ids` the catalog holds whose chunk passes `flt` (its SQL form, index/sql_filter.py)."""
        where = to_sql(flt)
        sql = f"SELECT c.id FROM chunks AS c WHERE c.id IN ({{}}) AND {where.sql}"
        return {row[0] for row in self._select_in(sql, ids, where.params)}

    def passing_now(self, flt: Filter) -> frozenset[str] | None:
        """The ids of every chunk passing `flt`, when they are held in memory for the catalog as it
        is now (index/passing_sets.py: from the second ask while nothing changes, if not too many);
        None: ask `passing`."""
        version = (self._db.execute("PRAGMA data_version").fetchone()[0], self._db.total_changes)
        return self._passing_sets.get(version, flt, lambda limit: passing_ids(self._db, flt, limit))

    def share_passing(self, flt: Filter, sample: int = 500) -> float | None:
        """About what share of the chunks passes `flt`, from a fixed sample of rows (None: no chunks)."""
        top = self._db.execute("SELECT max(rowid) FROM chunks").fetchone()[0]
        if not top:
            return None
        rowids = sorted(random.Random(top).sample(range(1, top + 1), min(sample, top)))
        where = to_sql(flt)
        marks = ",".join("?" * len(rowids))
        seen, passed = self._db.execute(
            f"SELECT count(*), coalesce(sum({where.sql}), 0) FROM chunks AS c WHERE c.rowid IN ({marks})",
            [*where.params, *rowids],
        ).fetchone()
        return passed / seen if seen else None

    def matching_sources(self, flt: Filter) -> list[str] | None:
        """The sources a filter's path conditions (globs, folders) allow, sorted; None when it has none."""
        return matching_sources(self._db, flt)

    def connection(self) -> sqlite3.Connection:
        """For the read-only queries of index/ modules (full-text search, metadata keys)."""
        return self._db

    def _transaction(self):
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        return False
