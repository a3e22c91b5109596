"""The catalog of a team index in PostgreSQL: what `Catalog` (index/catalog.py) keeps in SQLite
(files, chunks with their text and metadata, folders, failures, the write journal, what built the
index), with the same methods, in one schema of one database (index/pg_connect.py).

Its lexical index lives in the same tables: each chunk's terms (head and text through the analyzer
of the local index, index/lexical_tantivy.py: the same tokens) with their frequencies, in `terms`
(keyed by chunk and term, with a covering index by term), written in the same transaction as the
chunk; BM25 is computed from them (`lexical`). So a reader on
any host sees a chunk, its terms and its text together, as soon as the write commits: nothing to
sync, nothing to reopen. Cascading deletes take a chunk's terms with it.

BM25 is Lucene's and Tantivy's: idf = ln(1 + (N - df + 0.5) / (df + 0.5)), k1 = 1.2, b = 0.75,
lengths in tokens, top-k pruned by the rarest terms (`lexical`). A question word of several tokens ("ERR-4031") counts its tokens as separate
terms (Tantivy matches them as a phrase).
"""

from __future__ import annotations

import logging
import math
import random
import time
from typing import Iterable, Sequence

from core.errors import IndexMismatchError
from core.filters import Filter
from core.index_text import head_of, index_text
from core.types import Chunk
from index.accounts_pg import pg_accounts
from index.accounts_store import TABLES as ACCOUNT_TABLES
from index.accounts_store import AccountStore
from index.catalog import Failure, FileRecord, Root
from index.lexical import query_words
from index.pg_connect import PgDatabase
from index.pg_filter import pg_where

log = logging.getLogger(__name__)

POSTGRES = "postgres"  # the lexical engine an index on PostgreSQL names (`lexical_engine`)
SCHEMA_VERSION = 3  # info key pg_schema: the layout of these tables (SCHEMA is the newest one)
# How a schema of each older version becomes the next, in place, in one transaction each.
MIGRATIONS = {
    1: (  # 1 -> 2: terms keyed by (chunk, term), with a covering index by term (pruned BM25 reads both ways)
        "ALTER TABLE {p}terms DROP CONSTRAINT IF EXISTS terms_pkey",
        "ALTER TABLE {p}terms ADD PRIMARY KEY (chunk, term)",
        "DROP INDEX IF EXISTS {p}terms_by_chunk",
        "CREATE INDEX IF NOT EXISTS terms_by_term ON {p}terms (term) INCLUDE (chunk, tf)",
    ),
    2: ACCOUNT_TABLES,  # 2 -> 3: users, groups, grants, API keys and sessions (index/accounts_store.py)
}
K1, B = 1.2, 0.75
ROW_BUDGET = 10_000  # postings the rarest terms may bring as candidates (as index/lexical.py)

SCHEMA = """
CREATE TABLE IF NOT EXISTS {p}info (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS {p}files (
    source text PRIMARY KEY,
    content_hash text NOT NULL,
    size bigint NOT NULL,
    mtime_ns bigint NOT NULL,
    chunk_count integer NOT NULL,
    ingested_at double precision NOT NULL,
    root text
);
CREATE TABLE IF NOT EXISTS {p}chunks (
    rowid bigserial PRIMARY KEY,
    id text NOT NULL UNIQUE,
    source text NOT NULL,
    chunk_index integer NOT NULL,
    text text NOT NULL,
    meta jsonb NOT NULL,
    head text NOT NULL DEFAULT '',
    words integer NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_by_position ON {p}chunks (source, chunk_index);
CREATE TABLE IF NOT EXISTS {p}terms (
    term text NOT NULL,
    chunk bigint NOT NULL REFERENCES {p}chunks (rowid) ON DELETE CASCADE,
    tf integer NOT NULL,
    PRIMARY KEY (chunk, term)
);
CREATE INDEX IF NOT EXISTS terms_by_term ON {p}terms (term) INCLUDE (chunk, tf);
CREATE TABLE IF NOT EXISTS {p}lexical_stats (one boolean PRIMARY KEY DEFAULT true CHECK (one), chunks bigint NOT NULL, words bigint NOT NULL);
INSERT INTO {p}lexical_stats (one, chunks, words) VALUES (true, 0, 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS {p}pending (source text PRIMARY KEY, started_at double precision NOT NULL);
CREATE TABLE IF NOT EXISTS {p}claims (source text PRIMARY KEY, owner text NOT NULL, claimed_at double precision NOT NULL);
CREATE TABLE IF NOT EXISTS {p}roots (
    path text PRIMARY KEY,
    label text NOT NULL UNIQUE,
    added_at double precision NOT NULL,
    last_ingest double precision
);
CREATE TABLE IF NOT EXISTS {p}failures (
    source text PRIMARY KEY,
    root text NOT NULL,
    reason text NOT NULL,
    size bigint,
    mtime_ns bigint,
    first_seen double precision NOT NULL,
    last_seen double precision NOT NULL,
    acknowledged boolean NOT NULL DEFAULT false
);
"""


def _bm25_term(terms: str, words: str) -> str:
    """SQL for one term's BM25 weight in one chunk: `terms`.idf, t.tf, the chunk's length `words`,
    and the mean length as the next parameter."""
    return f"{terms}.idf * t.tf * {K1 + 1} / (t.tf + {K1} * (1 - {B} + {B} * {words} / %s))"


class PgCatalog:
    def __init__(self, db: PgDatabase, setup: bool = True, owner: str = ""):
        """`owner`: this writer's name among the ingests that share the index (its file claims)."""
        self.db = db
        self.owner = owner
        self.path = db.address.shown  # what messages call the index
        self.p = db.prefix
        self._words = None  # the analyzer, made on first use
        self.rows_written = 0  # chunks this process wrote or deleted (pg_index.py analyzes after many)
        if setup:
            self._set_up()
        else:
            self._check_version(self.schema_version())

    def schema_version(self) -> int:
        row = self._one("SELECT value FROM {p}info WHERE key = 'pg_schema'")
        return int(row[0]) if row else SCHEMA_VERSION

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise IndexMismatchError(
                f"The index at {self.path} was written by a newer localgpt (schema {version}; this one knows "
                f"{SCHEMA_VERSION}). Upgrade localgpt on this host."
            )

    def _set_up(self) -> None:
        """Create the tables of a new index, or bring an older index's up to date, in place (under a
        lock: two writers starting at once do it once)."""
        with self.db.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"localgpt-schema:{self.db.schema}",))
            had = conn.execute("SELECT to_regclass(%s)", (f"{self.p}info",)).fetchone()[0] is not None
            row = conn.execute(f"SELECT value FROM {self.p}info WHERE key = 'pg_schema'").fetchone() if had else None
            version = int(row[0]) if row else SCHEMA_VERSION
            self._check_version(version)
            for older in range(version, SCHEMA_VERSION):
                log.warning("upgrading the index at %s from schema %d to %d", self.path, older, older + 1)
                for statement in MIGRATIONS[older]:
                    conn.execute(statement.format(p=self.p))
            for statement in SCHEMA.format(p=self.p).split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            for statement in ACCOUNT_TABLES:
                conn.execute(statement.format(p=self.p))
            conn.execute(
                f"INSERT INTO {self.p}info (key, value) VALUES ('pg_schema', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (str(SCHEMA_VERSION),),
            )

    def accounts(self) -> AccountStore:
        """Who may use this index when it is served (index/accounts_store.py), in this database."""
        return pg_accounts(self.db)

    def for_thread(self) -> "PgCatalog":
        """The catalog for another thread: this one (its pool hands each thread its own connection)."""
        return self

    def close(self) -> None:
        """The pool is the database's (`PgDatabase.close`)."""

    def _all(self, sql: str, params: Sequence = (), write: bool = False) -> list[tuple]:
        if write:
            with self.db.transaction() as conn:
                return conn.execute(sql.format(p=self.p), params).fetchall()
        with self.db.connection() as conn:
            return conn.execute(sql.format(p=self.p), params).fetchall()

    def _one(self, sql: str, params: Sequence = ()):
        rows = self._all(sql, params)
        return rows[0] if rows else None

    def _run(self, sql: str, params: Sequence = ()) -> int:
        with self.db.transaction() as conn:
            return conn.execute(sql.format(p=self.p), params).rowcount

    # -- index info ---------------------------------------------------------
    def lexical_engine(self) -> str:
        return POSTGRES

    def info(self) -> dict[str, str]:
        return dict(self._all("SELECT key, value FROM {p}info"))

    def set_info(self, values: dict[str, object]) -> None:
        with self.db.transaction() as conn, conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {self.p}info (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                [(k, str(v)) for k, v in values.items()],
            )

    # -- files --------------------------------------------------------------
    def files(self, root: str | None = None) -> dict[str, FileRecord]:
        sql = "SELECT source, content_hash, size, mtime_ns, chunk_count, ingested_at, root FROM {p}files"
        rows = self._all(sql + " WHERE root = %s", (root,)) if root is not None else self._all(sql)
        return {row[0]: FileRecord(*row) for row in rows}

    def pages_of_files(self) -> dict[str, int]:
        return dict(
            self._all(
                "SELECT source, count(DISTINCT meta -> 'page') FROM {p}chunks WHERE meta ? 'page' "
                "AND meta -> 'page' <> 'null'::jsonb GROUP BY source"
            )
        )

    # -- folders ------------------------------------------------------------
    def roots(self) -> list[Root]:
        return [
            Root(*row)
            for row in self._all("SELECT path, label, added_at, last_ingest FROM {p}roots ORDER BY added_at, path")
        ]

    def add_root(self, path: str, label: str) -> Root:
        """Record a folder; one that another ingest recorded a moment ago is returned as it recorded it."""
        self._run(
            "INSERT INTO {p}roots (path, label, added_at) VALUES (%s, %s, %s) ON CONFLICT (path) DO NOTHING",
            (path, label, time.time()),
        )
        return Root(*self._one("SELECT path, label, added_at, last_ingest FROM {p}roots WHERE path = %s", (path,)))

    def adopt_files(self, root: str) -> int:
        return self._run("UPDATE {p}files SET root = %s WHERE root IS NULL", (root,))

    def set_root_ingested(self, path: str) -> None:
        self._run("UPDATE {p}roots SET last_ingest = %s WHERE path = %s", (time.time(), path))

    def remove_root(self, path: str) -> None:
        with self.db.transaction() as conn:
            conn.execute(f"DELETE FROM {self.p}roots WHERE path = %s", (path,))
            conn.execute(f"DELETE FROM {self.p}failures WHERE root = %s", (path,))

    # -- failures -------------------------------------------------------------
    def failures(self, root: str | None = None) -> dict[str, Failure]:
        sql = "SELECT source, root, reason, size, mtime_ns, first_seen, last_seen, acknowledged FROM {p}failures"
        rows = self._all(sql + " WHERE root = %s", (root,)) if root is not None else self._all(sql)
        return {row[0]: Failure(*row[:7], bool(row[7])) for row in rows}

    def set_failures(self, root: str, failures: list[Failure]) -> None:
        with self.db.transaction() as conn, conn.cursor() as cur:
            cur.execute(f"DELETE FROM {self.p}failures WHERE root = %s", (root,))
            self._record_failures(cur, root, failures)

    def settle_failures(self, root: str, failures: list[Failure], drop: Iterable[str]) -> None:
        """One ingest's word on the failures of `root`: the sources in `drop` (files it read, or
        found gone) lose their failure, `failures` are recorded; every other row stays as it is,
        so two ingests sharing the folder never write over each other's."""
        gone = sorted({*drop, *(f.source for f in failures)})
        with self.db.transaction() as conn, conn.cursor() as cur:
            cur.execute(f"DELETE FROM {self.p}failures WHERE root = %s AND source = ANY(%s)", (root, gone))
            self._record_failures(cur, root, failures)

    def _record_failures(self, cur, root: str, failures: list[Failure]) -> None:
        cur.executemany(
            f"INSERT INTO {self.p}failures (source, root, reason, size, mtime_ns, first_seen, last_seen, acknowledged) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (source) DO UPDATE SET root = EXCLUDED.root, "
            "reason = EXCLUDED.reason, size = EXCLUDED.size, mtime_ns = EXCLUDED.mtime_ns, "
            "first_seen = EXCLUDED.first_seen, last_seen = EXCLUDED.last_seen, acknowledged = EXCLUDED.acknowledged",
            [
                (f.source, root, f.reason, f.size, f.mtime_ns, f.first_seen, f.last_seen, f.acknowledged)
                for f in failures
            ],
        )

    def acknowledge_failures(self, sources: Iterable[str] | None = None) -> list[str]:
        with self.db.transaction() as conn:
            if sources is None:
                rows = conn.execute(
                    f"UPDATE {self.p}failures SET acknowledged = true WHERE NOT acknowledged RETURNING source"
                ).fetchall()
            else:
                rows = conn.execute(
                    f"UPDATE {self.p}failures SET acknowledged = true WHERE source = ANY(%s) RETURNING source",
                    (list(sources),),
                ).fetchall()
        return sorted(r[0] for r in rows)

    def forget_failures(self, sources: Iterable[str]) -> None:
        self._run("DELETE FROM {p}failures WHERE source = ANY(%s)", (list(sources),))

    def file_count(self) -> int:
        return int(self._one("SELECT count(*) FROM {p}files")[0])

    def chunk_count(self) -> int:
        return int(self._one("SELECT count(*) FROM {p}chunks")[0])

    def has_files_under(self, name: str) -> bool:
        return (
            self._one("SELECT 1 FROM {p}files WHERE source = %s OR starts_with(source, %s) LIMIT 1", (name, name + "/"))
            is not None
        )

    # -- journal --------------------------------------------------------------
    def mark_pending(self, sources: Iterable[str]) -> None:
        now = time.time()
        with self.db.transaction() as conn, conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {self.p}pending (source, started_at) VALUES (%s, %s) "
                "ON CONFLICT (source) DO UPDATE SET started_at = EXCLUDED.started_at",
                [(s, now) for s in sources],
            )

    def clear_pending(self, sources: Iterable[str]) -> None:
        self._run("DELETE FROM {p}pending WHERE source = ANY(%s)", (list(sources),))

    def pending(self) -> list[str]:
        return [row[0] for row in self._all("SELECT source FROM {p}pending ORDER BY source")]

    # -- claims: which of several ingests reads which file -----------------------------
    def claim(self, sources: Sequence[str]) -> list[str]:
        """Those of `sources` this writer may read: claimed now, or already its own. A file another
        ingest claimed is left to it; claims last until the last writer closes (index/pg_index.py)."""
        if not sources:
            return []
        rows = self._all(
            "INSERT INTO {p}claims (source, owner, claimed_at) SELECT s, %s, %s FROM unnest(%s::text[]) AS s "
            "ON CONFLICT (source) DO UPDATE SET claimed_at = EXCLUDED.claimed_at WHERE {p}claims.owner = EXCLUDED.owner "
            "RETURNING source",
            (self.owner, time.time(), list(sources)),
            write=True,
        )
        mine = {row[0] for row in rows}
        return [s for s in sources if s in mine]

    def clear_claims(self) -> None:
        """Forget every claim: called by a writer that knows it is the only one (the others died)."""
        self._run("DELETE FROM {p}claims")

    # -- writes -------------------------------------------------------------
    def _terms(self, text: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for token in self._analyze(text):
            counts[token] = counts.get(token, 0) + 1
        return counts

    def _delete_chunks(self, cur, sources: list[str]) -> None:
        """Delete the chunks of `sources` (their terms go with them) and take them out of the statistics."""
        cur.execute(
            f"WITH gone AS (DELETE FROM {self.p}chunks WHERE source = ANY(%s) RETURNING words) "
            f"UPDATE {self.p}lexical_stats SET chunks = chunks - (SELECT count(*) FROM gone), "
            "words = words - (SELECT coalesce(sum(words), 0) FROM gone)",
            (sources,),
        )

    def replace_files(self, files: Sequence[tuple[FileRecord, Sequence[Chunk]]]) -> None:
        """In one transaction: each file's old chunks (and terms) go, its new ones and its record come."""
        with self.db.transaction() as conn, conn.cursor() as cur:
            self._replace(cur, files)

    def move_files(self, moves: Sequence[tuple[str, FileRecord, Sequence[Chunk]]]) -> None:
        """In one transaction: each (old source, new record, its chunks) gives the old source's
        chunks and record up for the new ones (a file renamed or moved: the same content)."""
        with self.db.transaction() as conn, conn.cursor() as cur:
            old = [source for source, _, _ in moves]
            self._delete_chunks(cur, old)
            cur.execute(f"DELETE FROM {self.p}files WHERE source = ANY(%s)", (old,))
            self._replace(cur, [(record, chunks) for _, record, chunks in moves])

    def _replace(self, cur, files: Sequence[tuple[FileRecord, Sequence[Chunk]]]) -> None:
        now = time.time()
        from psycopg.types.json import Jsonb

        rows, total_words = [], 0
        for _, chunks in files:
            for c in chunks:
                meta = c.metadata()
                head = head_of(c.source, meta)
                terms = self._terms(index_text(head, c.text))
                words = sum(terms.values())
                total_words += words
                rows.append((c, meta, head, words, terms))
        self._delete_chunks(cur, [record.source for record, _ in files])
        ids = []
        if rows:
            ids = [
                r[0]
                for r in cur.execute(
                    f"SELECT nextval(pg_get_serial_sequence('{self.p}chunks', 'rowid')) FROM generate_series(1, %s)",
                    (len(rows),),
                ).fetchall()
            ]
        with cur.copy(
            f"COPY {self.p}chunks (rowid, id, source, chunk_index, text, meta, head, words) FROM STDIN"
        ) as copy:
            for rowid, (c, meta, head, words, _) in zip(ids, rows):
                copy.write_row((rowid, c.id, c.source, c.chunk_index, c.text, Jsonb(meta), head, words))
        with cur.copy(f"COPY {self.p}terms (term, chunk, tf) FROM STDIN") as copy:
            for rowid, (_, _, _, _, terms) in zip(ids, rows):
                for term, tf in terms.items():
                    copy.write_row((term, rowid, tf))
        cur.execute(
            f"UPDATE {self.p}lexical_stats SET chunks = chunks + %s, words = words + %s", (len(rows), total_words)
        )
        self.rows_written += len(rows)
        cur.executemany(
            f"INSERT INTO {self.p}files (source, content_hash, size, mtime_ns, chunk_count, ingested_at, root) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (source) DO UPDATE SET "
            "content_hash = EXCLUDED.content_hash, size = EXCLUDED.size, mtime_ns = EXCLUDED.mtime_ns, "
            "chunk_count = EXCLUDED.chunk_count, ingested_at = EXCLUDED.ingested_at, root = EXCLUDED.root",
            [(r.source, r.content_hash, r.size, r.mtime_ns, len(chunks), now, r.root) for r, chunks in files],
        )

    def replace_file(self, record: FileRecord, chunks: list[Chunk]) -> None:
        self.replace_files([(record, chunks)])

    def touch_file(self, record: FileRecord) -> None:
        self._run(
            "UPDATE {p}files SET size = %s, mtime_ns = %s WHERE source = %s",
            (record.size, record.mtime_ns, record.source),
        )

    def remove_files(self, sources: Iterable[str], journal: bool = False) -> None:
        sources = list(sources)
        now = time.time()
        with self.db.transaction() as conn, conn.cursor() as cur:
            self._delete_chunks(cur, sources)
            cur.execute(f"DELETE FROM {self.p}files WHERE source = ANY(%s)", (sources,))
            if journal:
                cur.executemany(
                    f"INSERT INTO {self.p}pending (source, started_at) VALUES (%s, %s) "
                    "ON CONFLICT (source) DO UPDATE SET started_at = EXCLUDED.started_at",
                    [(s, now) for s in sources],
                )

    def analyze(self) -> None:
        """Refresh the planner's statistics of the big tables (after a bulk write; autovacuum does it
        later by itself)."""
        with self.db.connection() as conn:
            conn.autocommit = True
            for table in ("chunks", "terms", "vectors"):
                if conn.execute("SELECT to_regclass(%s)", (f"{self.p}{table}",)).fetchone()[0]:
                    conn.execute(f"ANALYZE {self.p}{table}")
            conn.autocommit = False
        self.rows_written = 0

    # -- the lexical index: the chunks' own terms ---------------------------------
    def _analyze(self, text: str) -> list[str]:
        """`text` as the index's terms (the local Tantivy index's analyzer, made on first use)."""
        if self._words is None:
            from index.lexical_tantivy import word_analyzer

            self._words = word_analyzer()
        return self._words.analyze(text)

    def lexical_changes(self) -> list[str]:
        return []  # terms are written with their chunks: nothing is ever pending

    def clear_lexical_changes(self, ids: Sequence[str]) -> None:
        return None

    def question_terms(self, question: str) -> list[list[str]]:
        """The question's words (index/lexical.py), each as the index's terms."""
        out = []
        for tokens in query_words(question):
            terms = [t for part in tokens for t in self._analyze(part)]
            if terms and terms not in out:
                out.append(terms)
        return out

    def lexical(self, question: str, k: int, flt: Filter | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25) of the k chunks that best match `question`, best first, passing `flt` (in the query).

        The rarest terms choose the candidates, as far as ROW_BUDGET postings go; the common ones only
        add to their scores, read for those candidates alone (index probes on (term, chunk)). A common
        term's idf is near zero, so the order holds (index/lexical.py prunes FTS5 the same way). When
        the filter leaves fewer than k candidates, every term chooses."""
        terms = sorted({t for word in self.question_terms(question) for t in word})
        if not terms or k <= 0:
            return []
        with self.db.connection() as conn:
            n, avg = conn.execute(
                f"SELECT chunks::float8, greatest(words, 1)::float8 / greatest(chunks, 1) FROM {self.p}lexical_stats"
            ).fetchone()
            df = dict(
                conn.execute(f"SELECT term, count(*) FROM {self.p}terms WHERE term = ANY(%s) GROUP BY term", (terms,))
            )
            present = sorted((t for t in terms if df.get(t)), key=lambda t: (df[t], t))
            if not present:
                return []
            idf = {t: math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5)) for t in present}
            rare, total = [], 0
            for term in present:
                if rare and total + df[term] > ROW_BUDGET:
                    break
                rare.append(term)
                total += df[term]
            found = self._score(conn, rare, present, idf, avg, k, flt)
            if len(found) < k and len(rare) < len(present):
                found = self._score(conn, present, present, idf, avg, k, flt)
        return found

    def _score(self, conn, choosing, terms, idf, avg, k, flt) -> list[tuple[str, float]]:
        """The k best of the chunks that hold a `choosing` term, by BM25 over all `terms`, in one
        statement on the server. The choosing terms give each candidate a partial score; the other
        (common) terms can add at most their idf × (k1 + 1) each, so only candidates within that
        bound of the k-th partial score are probed for them (MaxScore: the top k stays exact).
        Probed by (chunk, term), one candidate at a time: the cost grows with the candidates
        (ROW_BUDGET at most) and not with the common terms' postings, which grow with the index."""
        common = [t for t in terms if t not in choosing]
        bonus = sum(idf[t] for t in common) * (K1 + 1)
        predicate = pg_where(flt, alias="c.", paths=True, files=f"{self.p}files")
        clause, params = (f"AND {predicate.sql}", predicate.params) if predicate else ("", ())
        partial_weight, common_weight = _bm25_term("ch", "c.words"), _bm25_term("cm", "pr.words")
        rows = conn.execute(
            f"""
            WITH choosing(term, idf) AS (SELECT * FROM unnest(%s::text[], %s::float8[])),
            common(term, idf) AS (SELECT * FROM unnest(%s::text[], %s::float8[])),
            partial AS (
                SELECT t.chunk, c.words, sum({partial_weight}) AS score
                FROM {self.p}terms AS t
                JOIN choosing AS ch ON ch.term = t.term
                JOIN {self.p}chunks AS c ON c.rowid = t.chunk
                WHERE true {clause}
                GROUP BY t.chunk, c.words
            ),
            kth AS (SELECT coalesce((SELECT score FROM partial ORDER BY score DESC OFFSET %s LIMIT 1), 0) AS score),
            probed AS (
                SELECT pr.chunk, pr.score + coalesce((
                    SELECT sum({common_weight})
                    FROM {self.p}terms AS t JOIN common AS cm ON cm.term = t.term
                    WHERE t.chunk = pr.chunk
                ), 0) AS score
                FROM partial AS pr, kth
                WHERE pr.score >= kth.score - %s
            )
            SELECT c.id, p.score FROM probed AS p JOIN {self.p}chunks AS c ON c.rowid = p.chunk
            ORDER BY p.score DESC, c.id LIMIT %s
            """,
            (
                choosing,
                [idf[t] for t in choosing],
                common,
                [idf[t] for t in common],
                avg,
                *params,
                k - 1,
                avg,
                bonus,
                k,
            ),
        ).fetchall()
        return [(cid, float(score)) for cid, score in rows]

    def word_counts(self, words: Iterable[str]) -> dict[str, int]:
        """For each word, how many chunks hold all its terms."""
        from core.words import tokens as word_tokens

        counts = {}
        for word in words:
            terms = sorted({t for part in word_tokens(word) for t in self._analyze(part)})
            counts[word] = (
                int(
                    self._one(
                        "SELECT count(*) FROM (SELECT chunk FROM {p}terms WHERE term = ANY(%s) GROUP BY chunk "
                        "HAVING count(*) = %s) AS held",
                        (terms, len(terms)),
                    )[0]
                )
                if terms
                else 0
            )
        return counts

    # -- metadata keys (index/metadata_keys.py) --------------------------------------
    def has_meta_key(self, key: str) -> bool:
        return self._one("SELECT 1 FROM {p}chunks WHERE meta ? %s LIMIT 1", (key,)) is not None

    def meta_keys(self, sample: int = 5000) -> list[str]:
        rows = self._all(
            "SELECT DISTINCT jsonb_object_keys(meta) FROM (SELECT meta FROM {p}chunks LIMIT %s) AS c", (sample,)
        )
        return sorted(r[0] for r in rows)

    # -- reads --------------------------------------------------------------
    def chunk_ids(self) -> set[str]:
        return {row[0] for row in self._all("SELECT id FROM {p}chunks")}

    def chunks_of(self, source: str) -> list[Chunk]:
        """The chunks of `source`, in their order."""
        rows = self._all("SELECT id, text, meta FROM {p}chunks WHERE source = %s ORDER BY chunk_index", (source,))
        return [Chunk.from_metadata(cid, text, meta) for cid, text, meta in rows]

    def chunk_ids_of(self, sources: Iterable[str]) -> set[str]:
        return {row[0] for row in self._all("SELECT id FROM {p}chunks WHERE source = ANY(%s)", (list(sources),))}

    def sources_of(self, ids: Iterable[str]) -> set[str]:
        return {row[0] for row in self._all("SELECT DISTINCT source FROM {p}chunks WHERE id = ANY(%s)", (list(ids),))}

    def has_ids(self, ids: Iterable[str]) -> set[str]:
        return {row[0] for row in self._all("SELECT id FROM {p}chunks WHERE id = ANY(%s)", (list(ids),))}

    def get_chunks(self, ids: list[str]) -> dict[str, Chunk]:
        return {cid: Chunk.from_metadata(cid, text, meta) for cid, (text, meta) in self.texts_and_meta(ids).items()}

    def texts_and_meta(self, ids: list[str]) -> dict[str, tuple[str, dict]]:
        rows = self._all("SELECT id, text, meta FROM {p}chunks WHERE id = ANY(%s)", (list(ids),))
        return {cid: (text, meta) for cid, text, meta in rows}

    def neighbours(self, source: str, low: int, high: int) -> dict[int, str]:
        return dict(
            self._all(
                "SELECT chunk_index, text FROM {p}chunks WHERE source = %s AND chunk_index BETWEEN %s AND %s",
                (source, low, high),
            )
        )

    def passing(self, ids: Iterable[str], flt: Filter) -> set[str]:
        where = pg_where(flt, alias="c.", paths=True, files="{p}files")
        sql = "SELECT c.id FROM {p}chunks AS c WHERE c.id = ANY(%s)" + (f" AND {where.sql}" if where else "")
        return {row[0] for row in self._all(sql, (list(ids), *(where.params if where else ())))}

    def passing_now(self, flt: Filter) -> frozenset[str] | None:
        """None: this catalog holds no ids in memory (another host may write at any time); ask `passing`."""
        return None

    def share_passing(self, flt: Filter, sample: int = 500) -> float | None:
        top = self._one("SELECT max(rowid) FROM {p}chunks")[0]
        if not top:
            return None
        rowids = sorted(random.Random(top).sample(range(1, top + 1), min(sample, top)))
        where = pg_where(flt, alias="c.", paths=True, files="{p}files")
        test = where.sql if where else "true"
        seen, passed = self._one(
            "SELECT count(*), count(*) FILTER (WHERE " + test + ") FROM {p}chunks AS c WHERE c.rowid = ANY(%s)",
            (*(where.params if where else ()), rowids),
        )
        return passed / seen if seen else None

    def matching_sources(self, flt: Filter) -> list[str] | None:
        conditions = flt.path_conditions
        if not conditions:
            return None
        only_paths = Filter(conditions)
        where = pg_where(only_paths, alias="c.", paths=True)
        return [
            row[0]
            for row in self._all(
                f"SELECT c.source FROM {{p}}files AS c WHERE {where.sql} ORDER BY c.source", where.params
            )
        ]


class PgLexical:
    """What `Index` asks of its lexical index (as of `TantivyLexical`), for an index on PostgreSQL:
    the catalog's own BM25. Nothing to sync or rebuild: the terms commit with their chunks."""

    wrote = False

    def __init__(self, catalog: PgCatalog):
        self.catalog = catalog

    def for_thread(self) -> "PgLexical":
        return self

    def search(
        self, question: str, k: int, flt: Filter | None, sources: Sequence[str] | None
    ) -> list[tuple[str, float]]:
        return self.catalog.lexical(question, k, flt)

    def doc_count(self, word_tokens: Sequence[str]) -> int:
        return self.catalog.word_counts([" ".join(word_tokens)]).get(" ".join(word_tokens), 0)

    def count(self) -> int:
        return self.catalog.chunk_count()

    def sync(self, catalog, every_s: float = 0.0) -> int:
        return 0

    def rebuild(self, catalog, switch: bool = True) -> None:
        return None

    def refresh(self) -> None:
        return None

    def close(self) -> None:
        return None
