"""PostgreSQL with pgvector as the vector store: one table per index, an HNSW index on cosine distance.

The first piece of the team index on PostgreSQL (issue 27, docs/scale.md): it offers the same
methods as Chroma (index/vector_store.py) and passes the same contract (tests/store_contract.py).

- **One table**, `<schema>.vectors (id, source, meta jsonb, embedding vector(D))`, made on the first
  write, when the vectors' dimension is known; the HNSW index uses `vector_cosine_ops`, so a score
  is `1 - distance`, the cosine. Several indexes share one server, each in its own schema.
- **Filters run inside the query** (index/pg_filter.py), with pgvector's iterative index scan
  (`hnsw.iterative_scan = strict_order`, pgvector 0.8), so a selective filter still gets k rows
  whenever k pass, in distance order.
- **Search depth.** `hnsw.ef_search` is set per query to at least `SEARCH_DEPTH` (as for Chroma,
  index/chroma_search_depth.py: a shallow search misses the nearest chunk).
- **Always current.** Every read sees every commit (`refresh` has nothing to do), and each write is
  one transaction.
- **Connections** come from the index's pool (index/pg_connect.py); pgvector's psycopg adapter
  sends numpy arrays as vectors.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator, Sequence

import numpy as np

from core.filters import Filter
from index.pg_connect import PgDatabase
from index.pg_filter import pg_where
from index.vector_store import VectorMatch

log = logging.getLogger(__name__)

TABLE = "vectors"
SEARCH_DEPTH = 500  # hnsw.ef_search: candidates the graph search keeps (pgvector's default is 40)
SCAN_TUPLES = 100_000  # hnsw.max_scan_tuples: how far an iterative scan may go for a filtered query
BUILD_MEMORY = "1GB"  # maintenance_work_mem while the HNSW graph is built: in memory up to ~1M vectors of 384


class PgVectorStore:
    def __init__(self, db: PgDatabase):
        self.db = db
        self.schema = db.schema
        self._table = f"{db.prefix}{TABLE}"
        self._created = False  # the table and its indexes exist (made by this process or found)
        self._deferred = False  # a bulk load is under way: the HNSW graph is built at its end

    def _connection(self):
        return self.db.connection()

    def close(self) -> None:
        """The pool is the database's (`PgDatabase.close`)."""

    def _exists(self, conn) -> bool:
        if self._created:
            return True
        return conn.execute("SELECT to_regclass(%s)", (self._table,)).fetchone()[0] is not None

    def _create(self, conn, dimensions: int) -> None:
        if self._created:
            return
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self._table} (id text PRIMARY KEY, source text NOT NULL, "
            f"meta jsonb NOT NULL, embedding vector({int(dimensions)}) NOT NULL)"
        )
        conn.execute(f"CREATE INDEX IF NOT EXISTS vectors_source ON {self._table} (source)")
        if not self._deferred:
            self._create_search_index(conn)
        self._created = True

    def _create_search_index(self, conn) -> None:
        conn.execute(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
        conn.execute(
            f"CREATE INDEX IF NOT EXISTS vectors_hnsw ON {self._table} USING hnsw (embedding vector_cosine_ops)"
        )

    @contextmanager
    def deferred_search_index(self) -> Iterator[None]:
        """Load many vectors into an empty store without its HNSW graph, then build the graph once
        (several times faster than growing it row by row: `localgpt index copy`). A store that holds
        vectors already keeps its graph. Killed part-way, the next write builds it."""
        with self._connection() as conn:
            empty = not self._exists(conn) or not conn.execute(f"SELECT 1 FROM {self._table} LIMIT 1").fetchone()
            if empty and self._exists(conn):
                conn.execute(f"DROP INDEX IF EXISTS {self.db.prefix}vectors_hnsw")
        self._deferred, self._created = empty, False
        try:
            yield
        finally:
            self._deferred, self._created = False, False
            with self._connection() as conn, conn.transaction():
                if self._exists(conn):
                    self._create_search_index(conn)

    # -- writes ---------------------------------------------------------------------
    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict]) -> None:
        if not len(ids):
            return
        from psycopg.types.json import Jsonb

        vectors = np.asarray(vectors, dtype=np.float32)
        with self._connection() as conn, conn.transaction():
            self._create(conn, vectors.shape[1])
            with conn.cursor() as cur:
                # Binary COPY into a scratch table, then one upsert: a write of thousands of vectors
                # costs one statement, not one per row.
                cur.execute(f"CREATE TEMP TABLE incoming (LIKE {self._table} INCLUDING DEFAULTS) ON COMMIT DROP")
                with cur.copy("COPY incoming (id, source, meta, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
                    copy.set_types(["text", "text", "jsonb", "vector"])
                    for n, (cid, meta) in enumerate(zip(ids, metadatas)):
                        copy.write_row((cid, str(meta.get("source", "")), Jsonb(dict(meta)), vectors[n]))
                cur.execute(
                    f"INSERT INTO {self._table} (id, source, meta, embedding) "
                    "SELECT DISTINCT ON (id) id, source, meta, embedding FROM incoming "
                    "ON CONFLICT (id) DO UPDATE SET source = EXCLUDED.source, meta = EXCLUDED.meta, "
                    "embedding = EXCLUDED.embedding"
                )

    def delete_ids(self, ids: Sequence[str]) -> None:
        self._delete("id", ids)

    def delete_sources(self, sources: Sequence[str]) -> None:
        self._delete("source", sources)

    def _delete(self, column: str, values: Sequence[str]) -> None:
        if not len(values):
            return
        with self._connection() as conn, conn.transaction():
            if self._exists(conn):
                conn.execute(f"DELETE FROM {self._table} WHERE {column} = ANY(%s)", (list(values),))

    # -- reads ----------------------------------------------------------------------
    def query(self, vector: np.ndarray, k: int, where: Filter | None = None) -> list[VectorMatch]:
        if k <= 0:
            return []
        predicate = pg_where(where)
        clause, params = (f"WHERE {predicate.sql}", predicate.params) if predicate else ("", ())
        query = np.asarray(vector, dtype=np.float32)
        with self._connection() as conn, conn.transaction():
            if not self._exists(conn):
                return []
            conn.execute(f"SET LOCAL hnsw.ef_search = {max(SEARCH_DEPTH, min(int(k), 1000))}")
            conn.execute("SET LOCAL hnsw.iterative_scan = strict_order")
            conn.execute(f"SET LOCAL hnsw.max_scan_tuples = {SCAN_TUPLES}")
            rows = conn.execute(
                f"SELECT id, 1 - (embedding <=> %s) FROM {self._table} {clause} ORDER BY embedding <=> %s LIMIT %s",
                (query, *params, query, int(k)),
            ).fetchall()
        return [VectorMatch(cid, float(score)) for cid, score in rows]

    def ids(self) -> set[str]:
        return self._select_ids("", ())

    def ids_of_sources(self, sources: Sequence[str]) -> set[str]:
        return self._select_ids("WHERE source = ANY(%s)", (list(sources),)) if len(sources) else set()

    def _select_ids(self, clause: str, params: tuple) -> set[str]:
        with self._connection() as conn:
            if not self._exists(conn):
                return set()
            return {row[0] for row in conn.execute(f"SELECT id FROM {self._table} {clause}", params)}

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not len(ids):
            return {}
        with self._connection() as conn:
            if not self._exists(conn):
                return {}
            rows = conn.execute(f"SELECT id, embedding FROM {self._table} WHERE id = ANY(%s)", (list(ids),))
            return {
                cid: np.asarray(vec.to_numpy() if hasattr(vec, "to_numpy") else vec, dtype=np.float32)
                for cid, vec in rows
            }

    def count(self) -> int:
        with self._connection() as conn:
            if not self._exists(conn):
                return 0
            return int(conn.execute(f"SELECT count(*) FROM {self._table}").fetchone()[0])

    def refresh(self, force: bool = False) -> bool:
        return False  # every read sees every commit
