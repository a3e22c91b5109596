"""The accounts' records and the readable-folders filter keep one contract in both catalogs: SQLite
(a folder index) and PostgreSQL (a team's database index, a real server from tests/servers.py),
and an index from before accounts (PostgreSQL schema 2) is upgraded in place."""

from __future__ import annotations

import time
import uuid

import pytest

from core.filters import parse_where, within_folders
from core.types import Chunk
from index.accounts_store import KeyRow, SessionRow
from index.catalog import Catalog, FileRecord

HR, ENG = "/srv/docs/hr", "/srv/docs/eng"


def fill(catalog) -> dict[str, Chunk]:
    """Two folders of two files each, two chunks a file."""
    catalog.add_root(HR, "")
    catalog.add_root(ENG, "eng")
    chunks: dict[str, Chunk] = {}
    files = []
    for root, sources in ((HR, ["pay.txt", "leave/rules.txt"]), (ENG, ["eng/build.txt", "eng/deploy/run.txt"])):
        for source in sources:
            made = [Chunk.make(f"{source} part {n}", source, n, {"page": n + 1}) for n in range(2)]
            chunks.update({c.id: c for c in made})
            files.append((FileRecord(source, "h" + source, 1, 1, root=root), made))
    catalog.replace_files(files)
    return chunks


class AccountStoreContract:
    """A catalog's account store and its folder filter: `catalog` is a fixture of an empty catalog."""

    def test_users_groups_and_grants(self, catalog):
        store = catalog.accounts()
        assert not store.has_users()
        store.add_user("alice", "hash-a", ["hr", "admin"])
        store.add_user("bob", "hash-b", ["eng"])
        assert store.has_users()
        assert [u.name for u in store.users()] == ["alice", "bob"]
        assert store.user("alice").password_hash == "hash-a" and store.user("carol") is None
        assert store.groups_of("alice") == ["admin", "hr"]
        assert store.grant("hr", HR) and not store.grant("hr", HR)
        store.grant("eng", ENG)
        assert store.folders_of("alice") == {HR} and store.folders_of("bob") == {ENG}
        store.add_to_group("bob", "hr")
        assert store.folders_of("bob") == {HR, ENG}
        assert store.remove_from_group("bob", "hr") and not store.remove_from_group("bob", "hr")
        assert store.folders_of("bob") == {ENG}
        store.add_to_group("bob", "hr")
        assert store.revoke("hr", HR) and not store.revoke("hr", HR)
        assert store.folders_of("alice") == set() and store.grants() == [("eng", ENG)]
        assert store.set_password("alice", "hash-new") and store.user("alice").password_hash == "hash-new"
        assert not store.set_password("carol", "x")

    def test_keys_and_sessions_by_hash_and_gone_with_their_user(self, catalog):
        store = catalog.accounts()
        store.add_user("alice", "hash-a")
        now = time.time()
        store.add_key(KeyRow("k1", "digest-1", "alice", "search", now))
        assert store.key_by_hash("digest-1").scope == "search" and store.key_by_hash("digest-2") is None
        assert [k.id for k in store.keys("alice")] == ["k1"]
        assert not store.revoke_key("k1", "bob") and store.revoke_key("k1", "alice")
        assert store.key_by_hash("digest-1") is None
        store.add_key(KeyRow("k2", "digest-2", "alice", "ask", now))
        store.add_session(SessionRow("s1", "alice", now, now + 60))
        store.add_session(SessionRow("old", "alice", now - 120, now - 60))
        store.add_session(SessionRow("s2", "alice", now, now + 60))  # adding one clears the expired ones
        assert store.session("s1").user == "alice" and store.session("old") is None
        store.end_session("s1")
        assert store.session("s1") is None
        assert store.remove_user("alice") and not store.remove_user("alice")
        assert store.key_by_hash("digest-2") is None and store.session("s2") is None
        assert store.keys() == []

    def test_the_folder_filter_passes_only_the_readable_folders_files(self, catalog):
        chunks = fill(catalog)
        ids = list(chunks)
        only_hr = within_folders(None, {HR})
        assert catalog.passing(ids, only_hr) == {i for i, c in chunks.items() if not c.source.startswith("eng/")}
        assert catalog.matching_sources(only_hr) == ["leave/rules.txt", "pay.txt"]
        assert catalog.passing(ids, within_folders(None, set())) == set()
        assert catalog.matching_sources(within_folders(None, [])) == []
        both = within_folders(parse_where(["source=eng/deploy", "page=2"]), {HR, ENG})
        assert {chunks[i].source for i in catalog.passing(ids, both)} == {"eng/deploy/run.txt"}
        assert catalog.matching_sources(both) == ["eng/deploy/run.txt"]
        assert catalog.passing(ids, within_folders(parse_where("source=eng/*"), {HR})) == set()
        share = catalog.share_passing(only_hr)
        assert share == pytest.approx(0.5)


def test_a_store_asked_to_filter_gets_the_readable_folders_as_exact_sources(tmp_path):
    """When too few of the nearest pass, the vector store filters itself: the folder condition reaches
    it as the exact sources of those folders (a store matches exact values only)."""
    import numpy as np

    from fakes import InMemoryStore
    from index.vector_query import nearest_passing, query_filtered

    catalog = Catalog(tmp_path / "catalog.sqlite")
    chunks = fill(catalog)
    store = InMemoryStore()
    ids = list(chunks)
    vectors = np.eye(len(ids), dtype=np.float32)
    store.upsert(ids, vectors, [chunks[i].metadata() for i in ids])
    query = vectors[0] + 0.1  # nearest to an hr chunk
    found = query_filtered(store, catalog, query, 3, within_folders(None, {ENG}))
    assert len(found) == 3 and {chunks[m.id].source for m in found} <= {"eng/build.txt", "eng/deploy/run.txt"}
    assert query_filtered(store, catalog, query, 3, within_folders(None, set())) == []
    near = nearest_passing(store, catalog, query, 2, within_folders(None, {HR}), share=0.5)
    assert [chunks[m.id].source for m in near][:1] == [chunks[ids[0]].source]
    catalog.close()


class TestSqliteAccounts(AccountStoreContract):
    @pytest.fixture()
    def catalog(self, tmp_path):
        catalog = Catalog(tmp_path / "catalog.sqlite")
        yield catalog
        catalog.close()


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory):
    from servers import postgres_server

    return postgres_server(tmp_path_factory.mktemp("postgres") / "data").get_uri()


def _pg_catalog(url: str, schema: str):
    from index.pg_catalog import PgCatalog
    from index.pg_connect import PgAddress, PgDatabase

    return PgCatalog(PgDatabase(PgAddress(url, schema)), setup=True)


@pytest.mark.slow
class TestPostgresAccounts(AccountStoreContract):
    @pytest.fixture()
    def catalog(self, postgres_url):
        catalog = _pg_catalog(postgres_url, f"accounts_{uuid.uuid4().hex[:12]}")
        yield catalog
        catalog.db.close()

    def test_bm25_applies_the_folder_filter_in_its_query(self, catalog):
        chunks = fill(catalog)
        found = catalog.lexical("part", 10, within_folders(None, {ENG}))
        assert found and {chunks[i].source for i, _ in found} == {"eng/build.txt", "eng/deploy/run.txt"}
        assert catalog.lexical("part", 10, within_folders(None, set())) == []

    def test_an_index_of_schema_2_gets_the_account_tables_in_place(self, postgres_url):
        import psycopg

        schema = f"old_{uuid.uuid4().hex[:8]}"
        catalog = _pg_catalog(postgres_url, schema)
        fill(catalog)
        catalog.db.close()
        with psycopg.connect(postgres_url, autocommit=True) as conn:  # back to schema 2: no accounts
            for table in ("users", "memberships", "grants", "api_keys", "sessions"):
                conn.execute(f"DROP TABLE {schema}.{table}")
            conn.execute(f"UPDATE {schema}.info SET value = '2' WHERE key = 'pg_schema'")
        from index.pg_catalog import PgCatalog
        from index.pg_connect import PgAddress, PgDatabase

        reader = PgCatalog(PgDatabase(PgAddress(postgres_url, schema)), setup=False)
        assert not reader.accounts().has_users()  # a reader of the old schema: no users, no error
        reader.db.close()
        upgraded = _pg_catalog(postgres_url, schema)
        assert upgraded.schema_version() == 3
        upgraded.accounts().add_user("alice", "hash-a", ["hr"])
        assert upgraded.accounts().groups_of("alice") == ["hr"] and upgraded.chunk_count() == 8
        upgraded.db.close()
