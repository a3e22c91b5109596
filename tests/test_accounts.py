"""Accounts without a server: passwords, keys, sessions and CSRF tokens, the login limit, the audit
log, and the CLI (users, grant, revoke, keys) on a catalog made by hand (no model needed)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from accounts.audit import AuditLog
from accounts.errors import AccountError, TooManyAttempts
from accounts.folders import resolve_folder
from accounts.keys import new_key
from accounts.passwords import check_new_password, hash_password, password_matches
from accounts.ratelimit import LoginLimiter
from accounts.sessions import csrf_ok, csrf_token, live, new_session
from accounts.tokens import digest
from core.filters import parse_where, within_folders
from index.catalog import Catalog, Root
from localgpt import cli


def test_a_password_is_stored_hashed_and_checked():
    stored = hash_password("correct horse battery", rounds=4)
    assert "correct horse" not in stored and stored.startswith("$2")
    assert password_matches("correct horse battery", stored)
    assert not password_matches("correct horse batterY", stored)
    assert not password_matches("correct horse battery", None)  # no such user: never true
    assert not password_matches("anything", "not a hash")
    long = "x" * 100
    assert not password_matches("x" * 99, hash_password(long, rounds=4))  # every byte counts, not only 72
    with pytest.raises(AccountError, match="at least 8"):
        check_new_password("short")


def test_a_key_is_shown_once_and_kept_as_its_hash():
    key, row = new_key("alice", "search")
    assert key.startswith(f"lgk_{row.id}_") and len(key) > 40
    assert row.key_hash == digest(key) and key not in repr(row)
    with pytest.raises(AccountError, match="search .* or ask"):
        new_key("alice", "admin")


def test_a_session_expires_and_its_csrf_token_is_bound_to_it():
    session_id, row = new_session("alice", 60, now=1000.0)
    assert row.id_hash == digest(session_id) and row.expires_at == 1060.0
    assert live(row, now=1059.0) and not live(row, now=1060.0) and not live(None)
    token = csrf_token(session_id)
    other, _ = new_session("alice", 60)
    assert csrf_ok(session_id, token) and not csrf_ok(other, token) and not csrf_ok(session_id, "")


def test_logins_are_limited_per_user_and_per_address():
    now = [0.0]
    limiter = LoginLimiter(max_failures=3, window_s=60, clock=lambda: now[0])
    for _ in range(3):
        limiter.check("alice", "10.0.0.1")
        limiter.failed("alice", "10.0.0.1")
    with pytest.raises(TooManyAttempts) as refused:
        limiter.check("alice", "10.0.0.9")  # the same user from elsewhere
    assert refused.value.retry_after == 60 and refused.value.http_status == 429
    with pytest.raises(TooManyAttempts):
        limiter.check("bob", "10.0.0.1")  # another user from the same address
    limiter.check("bob", "10.0.0.2")
    now[0] = 61.0
    limiter.check("alice", "10.0.0.1")  # the minute has passed


def test_the_audit_log_is_owner_only_and_rotated(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl", max_bytes=300, keep=2)
    old = os.umask(0o022)
    try:
        for n in range(12):
            log.write({"user": "alice", "action": "search", "query": f"question {n}"})
    finally:
        os.umask(old)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"]
    for name in files:
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    last = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()][-1]
    assert last["query"] == "question 11" and last["user"] == "alice" and "time" in last


def test_a_folder_is_named_by_its_path_or_its_label(tmp_path):
    roots = [Root(str(tmp_path / "hr"), "", 0.0), Root(str(tmp_path / "eng"), "eng", 0.0)]
    assert resolve_folder(roots, "eng").path == str(tmp_path / "eng")
    assert resolve_folder(roots, str(tmp_path / "hr") + "/").label == ""
    with pytest.raises(AccountError, match="holds no folder 'sales'.*eng"):
        resolve_folder(roots, "sales")


def test_the_folder_condition_is_no_metadata_key_and_matches_only_its_folders():
    flt = within_folders(parse_where("page=1"), {"/a"})
    assert flt.matches({"page": 1, "folder": "/a"}) and not flt.matches({"page": 1, "folder": "/b"})
    assert not within_folders(None, []).matches({"folder": "/a"})
    assert [c.key for c in flt.path_conditions] == ["folder"]
    assert flt.with_exact_sources(["x.txt"]).conditions[0].values == ("x.txt",)


# --- the CLI -------------------------------------------------------------------------------------
@pytest.fixture()
def db(tmp_path) -> Path:
    """An index with two folders and nothing in them (the account commands read only the catalog)."""
    db = tmp_path / "db"
    db.mkdir()
    catalog = Catalog(db / "catalog.sqlite")
    catalog.add_root(str(tmp_path / "hr"), "")
    catalog.add_root(str(tmp_path / "eng"), "eng")
    catalog.close()
    return db


def run(*args, stdin: str | None = None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=stdin)


def test_users_are_added_from_stdin_or_a_file_and_never_stored_in_clear(db, tmp_path):
    added = run("users", "add", "alice", "--group", "hr", "--db", db, stdin="alice-password\n")
    assert added.exit_code == 0, added.output
    assert added.output == "Added alice in hr.\n"
    (tmp_path / "bob.pw").write_text("bob-password\n")
    assert (
        run("users", "add", "bob", "--group", "eng", "--password-file", tmp_path / "bob.pw", "--db", db).exit_code == 0
    )
    again = run("users", "add", "alice", "--db", db, stdin="another-password\n")
    assert again.exit_code == 1 and "There is a user 'alice' already" in again.output
    short = run("users", "add", "carol", "--db", db, stdin="short\n")
    assert short.exit_code == 1 and "too short" in short.output
    assert b"alice-password" not in (db / "catalog.sqlite").read_bytes()
    listed = json.loads(run("users", "list", "--json", "--db", db).output)
    assert [(u["name"], u["groups"]) for u in listed] == [("alice", ["hr"]), ("bob", ["eng"])]


def test_grant_and_revoke_by_path_or_label(db, tmp_path):
    run("users", "add", "alice", "--group", "hr", "--db", db, stdin="alice-password\n")
    granted = run("grant", "hr", tmp_path / "hr", "--db", db)
    assert granted.exit_code == 0 and granted.output == f"hr may read {tmp_path / 'hr'}.\n"
    assert run("grant", "hr", "eng", "--db", db).exit_code == 0
    listed = json.loads(run("users", "list", "--json", "--db", db).output)
    assert listed[0]["folders"] == sorted([str(tmp_path / "hr"), str(tmp_path / "eng")])
    assert run("grant", "--list", "--db", db).output == f"hr: {tmp_path / 'eng'} (eng)\nhr: {tmp_path / 'hr'}\n"
    assert run("revoke", "hr", "eng", "--db", db).output == f"hr may no longer read {tmp_path / 'eng'}.\n"
    missing = run("grant", "hr", "sales", "--db", db)
    assert missing.exit_code == 1 and "holds no folder 'sales'" in missing.output
    nothing = run("revoke", "hr", "eng", "--db", db)
    assert nothing.exit_code == 1 and "nothing to revoke" in nothing.output


def test_a_key_is_printed_once_listed_by_id_and_revoked(db):
    run("users", "add", "alice", "--db", db, stdin="alice-password\n")
    made = CliRunner().invoke(cli, ["keys", "create", "alice", "--scope", "search", "--db", str(db)])
    assert made.exit_code == 0, made.output
    key = made.stdout.strip()
    assert key.startswith("lgk_")
    key_id = key.split("_")[1]
    listed = run("keys", "list", "--db", db).output
    assert key_id in listed and key not in listed and "search" in listed
    assert key.encode() not in (db / "catalog.sqlite").read_bytes()
    assert run("keys", "revoke", key_id, "--db", db).exit_code == 0
    assert run("keys", "list", "--db", db).output == "No keys.\n"
    nobody = run("keys", "create", "zed", "--scope", "ask", "--db", db)
    assert nobody.exit_code == 1 and "No user 'zed'" in nobody.output


def test_passwd_and_remove(db):
    run("users", "add", "alice", "--db", db, stdin="alice-password\n")
    assert run("users", "passwd", "alice", "--db", db, stdin="new-password-1\n").exit_code == 0
    catalog = Catalog(db / "catalog.sqlite")
    assert password_matches("new-password-1", catalog.accounts().user("alice").password_hash)
    catalog.close()
    assert run("users", "remove", "alice", "--db", db).exit_code == 0
    gone = run("users", "remove", "alice", "--db", db)
    assert gone.exit_code == 1 and "No user 'alice'" in gone.output


def test_account_commands_need_an_index(tmp_path):
    done = run("users", "list", "--db", tmp_path / "none")
    assert done.exit_code == 1 and "No index at" in done.output and "Ingest a folder first" in done.output


# --- serve's choice between one person and users -------------------------------------------------
class _Store:
    def __init__(self, users: bool):
        self.users = users

    def has_users(self) -> bool:
        return self.users


def _settings(tmp_path, **values):
    from core.settings import load_settings

    return load_settings({"db": tmp_path / "db", **values}, environ={})


def test_an_index_without_users_serves_one_person_as_before(tmp_path):
    from server.run import team_for

    assert team_for(_settings(tmp_path), _Store(False)) is None


def test_with_users_serve_has_a_team_and_an_owner_only_audit_log(tmp_path):
    from accounts.audit import AuditLog, NoAudit
    from server.run import team_for

    team = team_for(_settings(tmp_path, session_hours=2.0), _Store(True))
    assert team.session_s == 7200 and isinstance(team.audit, AuditLog)
    assert team.audit.path == tmp_path / "db" / "audit.jsonl"
    assert stat.S_IMODE((tmp_path / "db").stat().st_mode) == 0o700
    assert isinstance(team_for(_settings(tmp_path, audit=False), _Store(True)).audit, NoAudit)


@pytest.mark.parametrize(
    "values, users, message",
    [
        ({"trusted_user_header": "X-Forwarded-User"}, True, "needs --trusted-proxy"),
        ({"trusted_proxy": "127.0.0.1"}, True, "needs --trusted-user-header"),
        ({"trusted_user_header": "X-Forwarded-User", "trusted_proxy": "127.0.0.1"}, False, "the index has none"),
        ({"trusted_user_header": "X-Forwarded-User", "trusted_proxy": "proxy.local"}, True, "not an IP address"),
    ],
)
def test_a_trusted_header_is_refused_unless_set_up_whole(tmp_path, values, users, message):
    from server.run import ServeError, team_for

    with pytest.raises(ServeError, match=message):
        team_for(_settings(tmp_path, **values), _Store(users))


# --- who a request is (server/auth.py), without a server ----------------------------------------
@pytest.fixture()
def team_store(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    store = catalog.accounts()
    store.add_user("bob", hash_password("bob-password-1", rounds=4), ["eng"])
    store.grant("eng", "/srv/eng")
    yield store
    catalog.close()


def test_the_proxy_header_and_forwarded_address_are_believed_from_the_proxy_only(team_store):
    from accounts.errors import LoginRefused, NotAllowed
    from server.auth import Team

    team = Team(team_store, trusted_header="x-forwarded-user", trusted_proxies=frozenset({"10.0.0.5"}))
    named = {"x-forwarded-user": "bob", "x-forwarded-for": "192.168.1.9, 10.1.1.1"}
    caller = team.caller(named, "10.0.0.5", "", "")
    assert (caller.user, caller.via, caller.folders) == ("bob", "header", frozenset({"/srv/eng"}))
    with pytest.raises(NotAllowed, match="only from the trusted proxy"):
        team.caller(named, "10.0.0.6", "", "")
    with pytest.raises(NotAllowed, match="no user here"):
        team.caller({"x-forwarded-user": "mallory"}, "10.0.0.5", "", "")
    with pytest.raises(LoginRefused, match="Log in first"):
        team.caller({}, "10.0.0.5", "", "")
    assert team.address("10.0.0.5", named) == "10.1.1.1"  # the hop the proxy itself saw
    assert team.address("10.0.0.6", named) == "10.0.0.6"  # anyone else says what they like, unheard


def test_a_login_makes_a_session_the_next_request_is_known_by(team_store):
    from accounts.errors import LoginRefused
    from server.auth import Team

    team = Team(team_store, session_s=60)
    session_id, caller, expires_at = team.login("bob", "bob-password-1", "10.0.0.9")
    assert caller.user == "bob" and caller.via == "session" and expires_at > 0
    assert session_id not in repr(team_store.session(digest(session_id)))
    again = team.caller({}, "10.0.0.9", "", session_id)
    assert again.user == "bob" and again.session_id == session_id
    with pytest.raises(LoginRefused, match="Wrong user name or password"):
        team.login("bob", "not-the-password", "10.0.0.9")
    with pytest.raises(LoginRefused, match="Wrong user name or password"):
        team.login("nobody", "bob-password-1", "10.0.0.9")
    team.logout(session_id)
    with pytest.raises(LoginRefused, match="expired or ended"):
        team.caller({}, "10.0.0.9", "", session_id)
    with pytest.raises(LoginRefused, match="not valid"):
        team.caller({}, "10.0.0.9", "lgk_0_nothing", "")


def test_a_users_groups_change_without_touching_their_keys(db):
    run("users", "add", "alice", "--group", "hr", "--db", db, stdin="alice-password\n")
    run("keys", "create", "alice", "--scope", "ask", "--db", db)
    changed = run("users", "groups", "alice", "--add", "eng", "--remove", "hr", "--db", db)
    assert changed.exit_code == 0 and changed.output == "alice: eng\n"
    assert run("users", "groups", "alice", "--db", db).output == "alice: eng\n"
    wrong = run("users", "groups", "alice", "--remove", "sales", "--db", db)
    assert wrong.exit_code == 1 and "not in the group 'sales'" in wrong.output and "eng" in wrong.output
    assert "alice" in run("keys", "list", "--db", db).output


def test_a_user_who_may_read_every_folder_searches_without_a_filter_and_one_who_may_not_with_it():
    from types import SimpleNamespace

    from core.filters import within_folders
    from retrieval.options import SearchRequest
    from retrieval.retriever import Retriever

    roots = [SimpleNamespace(path="/srv/hr"), SimpleNamespace(path="/srv/eng")]
    retriever = Retriever.__new__(Retriever)
    retriever.index = SimpleNamespace(catalog=SimpleNamespace(roots=lambda: roots))
    everything = retriever.scoped(SearchRequest("q", folders=frozenset({"/srv/hr", "/srv/eng", "/srv/old"})))
    assert everything.folders is None
    some = retriever.scoped(SearchRequest("q", folders=frozenset({"/srv/hr"})))
    assert some.folders == frozenset({"/srv/hr"})
    assert retriever.scoped(SearchRequest("q", folders=frozenset())).folders == frozenset()  # reads nothing
    assert within_folders(None, some.folders).conditions[0].values == ("/srv/hr",)
