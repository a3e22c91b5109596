"""`localgpt serve` for a team, against a real server on loopback: two users in two groups, each
group granted one folder, each folder holding a planted string of its own. The index is real
(ingested with the bundled embedder: dense and BM25 both run); the model is a script, since no
answer here needs its words (--answer-style quote answers from the evidence itself)."""

from __future__ import annotations

import json
import shutil
import stat

import httpx
import pytest

from conftest import SAMPLES
from live_server import live_server

pytestmark = pytest.mark.slow

HR_CODE, ENG_CODE = "ZEBRA7731", "OKAPI4420"  # each only in its folder's files
HR_TEXT = f"The payroll code for the quarter is {HR_CODE}. Salaries are paid on the last Friday of the month.\n"
ENG_TEXT = f"The deploy password for the cluster is {ENG_CODE}. Releases ship every second Tuesday.\n"
PAYROLL = "What is the payroll code for the quarter?"
DEPLOY = "What is the deploy password for the cluster?"
PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-22"}


def ingest(folder, db):
    from core.settings import load_settings
    from ingest.pipeline import run_ingest

    report = run_ingest(load_settings({"db": db, "source_dir": folder}, environ={}))
    assert report.exit_code == 0, report.failed


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("team")
    hr, eng = base / "hr", base / "eng"
    hr.mkdir()
    eng.mkdir()
    (hr / "payroll.txt").write_text(HR_TEXT)
    shutil.copy(SAMPLES / "lease_agreement.pdf", hr / "hr_lease.pdf")
    (eng / "deploy.txt").write_text(ENG_TEXT)
    shutil.copy(SAMPLES / "lease_agreement.pdf", eng / "okapi_lease.pdf")
    db, eng_only = base / "db", base / "eng-only-db"
    ingest(eng, db)  # eng first: its sources carry no label, as in the index of eng alone
    ingest(hr, db)
    ingest(eng, eng_only)
    return {"base": base, "hr": hr, "eng": eng, "db": db, "eng_only": eng_only}


def make_engine(db):
    from core.settings import load_settings
    from fakes import FakeLLM
    from server.engine import Engine

    engine = Engine(load_settings({"db": db, "answer_style": "quote"}, environ={"LOCALGPT_THREADS": "2"}))
    llm = FakeLLM()
    engine.llm = lambda: llm  # a script: rewrites of follow-ups come back empty (the fallback is searched)
    return engine


@pytest.fixture(scope="module")
def team(folders):
    from accounts import manage
    from accounts.audit import AuditLog
    from accounts.ratelimit import LoginLimiter
    from server.app import build_app
    from server.auth import Team

    engine = make_engine(folders["db"])
    store = engine.accounts()
    roots = engine.roots()
    manage.add_user(store, "alice", PASSWORDS["alice"], ["hr", "admin"])
    manage.add_user(store, "bob", PASSWORDS["bob"], ["eng"])
    manage.grant(store, roots, "hr", "hr")  # by its label
    manage.grant(store, roots, "eng", str(folders["eng"]))  # by its path
    audit = folders["base"] / "audit.jsonl"
    made = Team(store, session_s=3600, limiter=LoginLimiter(3, 60), audit=AuditLog(audit))
    with live_server(build_app(engine, None, None, made)) as live:
        yield {"url": live.url, "engine": engine, "store": store, "team": made, "audit": audit, **folders}
    engine.close()


def login(url: str, user: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=120)
    done = client.post("/api/login", json={"user": user, "password": PASSWORDS[user]})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["user"] == user and "csrf_token" in body
    client.headers["x-csrf-token"] = body["csrf_token"]
    set_cookie = done.headers.get_list("set-cookie")
    assert any(c.startswith("localgpt_session=") and "HttpOnly" in c and "SameSite=strict" in c for c in set_cookie)
    return client


def everything(response: httpx.Response) -> str:
    """What a client receives: the status line's headers and the whole body (an event stream too)."""
    return json.dumps(dict(response.headers)) + response.text


@pytest.fixture(scope="module")
def clients(team):
    made = {user: login(team["url"], user) for user in PASSWORDS}
    yield made
    for client in made.values():
        client.close()


@pytest.mark.parametrize(
    "user, own, other, own_q, other_q",
    [
        ("alice", HR_CODE, ENG_CODE, PAYROLL, DEPLOY),
        ("bob", ENG_CODE, HR_CODE, DEPLOY, PAYROLL),
    ],
)
def test_each_user_reads_only_their_folder_on_every_route(clients, user, own, other, own_q, other_q):
    client = clients[user]
    both = f"{PAYROLL} {DEPLOY}"
    seen = []
    searched = client.post("/api/search", json={"query": both, "k": 10})
    assert searched.status_code == 200 and own in searched.text
    seen.append(searched)
    for question in (own_q, other_q, both):
        seen.append(client.post("/api/ask", json={"query": question}))
        streamed = client.post("/api/ask", json={"query": question, "stream": True})
        assert "event: answer" in streamed.text
        seen.append(streamed)
        for stream in (False, True):
            seen.append(
                client.post(
                    "/v1/chat/completions",
                    json={"model": "localgpt", "stream": stream, "messages": [{"role": "user", "content": question}]},
                )
            )
    answered = client.post("/api/ask", json={"query": own_q}).json()
    assert not answered["refused"] and own in answered["answer"]
    history = [{"question": own_q, "answer": answered["answer"]}]
    for follow_up in (f"And {other_q[0].lower()}{other_q[1:]}", "And what about the other folder's password and code?"):
        seen.append(client.post("/api/ask", json={"query": follow_up, "history": history}))
        seen.append(client.post("/api/ask", json={"query": follow_up, "history": history, "stream": True}))
        messages = [
            {"role": "user", "content": own_q},
            {"role": "assistant", "content": answered["answer"]},
            {"role": "user", "content": follow_up},
        ]
        seen.append(client.post("/v1/chat/completions", json={"model": "localgpt", "messages": messages}))
    documents = client.get("/api/documents")
    assert documents.status_code == 200
    names = {d["source"] for d in documents.json()}
    seen.append(documents)
    seen.append(client.get("/api/documents", params={"q": "okapi"}))
    seen.append(client.get("/api/documents", params={"q": "lease"}))
    for response in seen:
        assert response.status_code == 200, response.text
        text = everything(response)
        assert other not in text, (response.request.url, text[:2000])
    if user == "alice":
        assert names == {"hr/payroll.txt", "hr/hr_lease.pdf"}
    else:
        assert names == {"deploy.txt", "okapi_lease.pdf"}


def test_a_page_or_passage_of_another_folder_is_not_there(team, clients):
    alice, bob = clients["alice"], clients["bob"]
    assert alice.get("/api/page", params={"source": "hr/hr_lease.pdf", "page": 1}).status_code == 200
    theirs = alice.get("/api/page", params={"source": "okapi_lease.pdf", "page": 1})
    nowhere = alice.get("/api/page", params={"source": "no_such.pdf", "page": 1})
    assert theirs.status_code == nowhere.status_code == 404
    assert theirs.json()["error"] == nowhere.json()["error"].replace("no_such.pdf", "okapi_lease.pdf")
    catalog = team["engine"].retriever().index.catalog
    eng_chunk = next(c.id for c in catalog.chunks_of("deploy.txt"))
    hr_chunk = next(c.id for c in catalog.chunks_of("hr/payroll.txt"))
    assert bob.get("/api/passage", params={"id": eng_chunk}).json()["source"] == "deploy.txt"
    refused = bob.get("/api/passage", params={"id": hr_chunk})
    assert refused.status_code == 404 and HR_CODE not in everything(refused)


def test_a_question_only_a_forbidden_folder_answers_is_refused_as_if_nothing_did(team, clients, folders):
    """bob, asking what only hr's folder answers, gets what an index without that folder gives him."""
    record = clients["bob"].post("/api/ask", json={"query": PAYROLL}).json()
    assert record["refused"]
    alone = make_engine(folders["eng_only"])
    try:
        from generation.record import answer_record

        eng_root = str(folders["eng"].resolve())
        expected = answer_record(alone.ask(PAYROLL, folders=frozenset({eng_root})))
    finally:
        alone.close()

    def seen(r):
        return (r["answer"], r["refused"], r["refused_by"], [(h["source"], h["text"]) for h in r["closest"]])

    assert seen(record) == seen(expected)


def test_without_a_login_nothing_is_served(team):
    with httpx.Client(base_url=team["url"], timeout=60) as anonymous:
        for method, path in (
            ("POST", "/api/search"),
            ("POST", "/api/ask"),
            ("GET", "/api/documents"),
            ("GET", "/api/page?source=deploy.txt&page=1"),
            ("POST", "/v1/chat/completions"),
            ("GET", "/v1/models"),
            ("GET", "/api/health"),
        ):
            response = anonymous.request(method, path, json={"query": DEPLOY} if method == "POST" else None)
            assert response.status_code == 401, (path, response.text)
            assert "Log in first" in response.json()["error"]
        page = anonymous.get("/", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/"
        form = anonymous.get("/login")
        assert 'name="user"' in form.text and 'name="password"' in form.text


def test_the_login_form_sets_a_session(team):
    with httpx.Client(base_url=team["url"], timeout=60) as browser:
        done = browser.post("/login?next=/", data={"user": "bob", "password": PASSWORDS["bob"]}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/"
        assert browser.get("/").status_code == 200
        docs = browser.get("/api/documents").json()
        assert {d["source"] for d in docs} == {"deploy.txt", "okapi_lease.pdf"}
        wrong = browser.post("/login", data={"user": "bob", "password": "nope-nope-nope"})
        assert wrong.status_code == 401 and "Wrong user name or password." in wrong.text


def test_a_state_changing_request_of_a_session_needs_its_csrf_token(team):
    client = login(team["url"], "alice")
    try:
        token = client.headers.pop("x-csrf-token")
        refused = client.post("/api/search", json={"query": PAYROLL})
        assert refused.status_code == 403 and "CSRF" in refused.json()["error"]
        wrong = client.post("/api/search", json={"query": PAYROLL}, headers={"x-csrf-token": token[::-1]})
        assert wrong.status_code == 403
        assert client.post("/api/search", json={"query": PAYROLL}, headers={"x-csrf-token": token}).status_code == 200
        assert client.get("/api/documents").status_code == 200  # reading needs none
    finally:
        client.close()


def test_an_expired_or_ended_session_is_refused(team):
    from accounts.sessions import csrf_token, new_session

    session_id, row = new_session("bob", -1)  # expired a second ago
    team["store"].add_session(row)
    with httpx.Client(base_url=team["url"], timeout=60, cookies={"localgpt_session": session_id}) as client:
        refused = client.post("/api/search", json={"query": DEPLOY}, headers={"x-csrf-token": csrf_token(session_id)})
        assert refused.status_code == 401 and "expired" in refused.json()["error"]
    client = login(team["url"], "bob")
    try:
        assert client.post("/api/logout").status_code == 200
        cookie = client.cookies.get("localgpt_session")
        assert cookie is None
    finally:
        client.close()


def test_failed_logins_are_limited(team):
    team["team"].limiter._failures.clear()  # the other tests' failures came from this address too
    with httpx.Client(base_url=team["url"], timeout=60) as client:
        for _ in range(3):
            wrong = client.post("/api/login", json={"user": "carol-x", "password": "wrong-password"})
            assert wrong.status_code == 401 and wrong.json()["error"] == "Wrong user name or password."
        limited = client.post("/api/login", json={"user": "carol-x", "password": "wrong-password"})
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    team["team"].limiter._failures.clear()  # the address is this test process's: let the others log in


def test_keys_search_or_ask_by_scope_and_stop_when_revoked(team):
    from accounts import manage

    store = team["store"]
    search_key, search_row = manage.create_key(store, "bob", "search")
    ask_key, ask_row = manage.create_key(store, "bob", "ask")
    url = team["url"]
    with httpx.Client(base_url=url, timeout=120, headers={"authorization": f"Bearer {search_key}"}) as script:
        found = script.post("/api/search", json={"query": f"{PAYROLL} {DEPLOY}"})  # no CSRF token: a key needs none
        assert found.status_code == 200 and ENG_CODE in found.text and HR_CODE not in found.text
        for path, body in (
            ("/api/ask", {"query": DEPLOY}),
            ("/v1/chat/completions", {"messages": [{"role": "user", "content": DEPLOY}]}),
        ):
            refused = script.post(path, json=body)
            assert refused.status_code == 403 and "scope search" in refused.json()["error"]
        assert script.post("/api/keys", json={"scope": "ask"}).status_code == 403  # a key makes no keys
    with httpx.Client(base_url=url, timeout=120, headers={"authorization": f"Bearer {ask_key}"}) as script:
        answer = script.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": DEPLOY}]})
        assert answer.status_code == 200 and ENG_CODE in answer.text and HR_CODE not in answer.text
        manage.revoke_key(store, ask_row.id)
        revoked = script.post("/api/search", json={"query": DEPLOY})
        assert revoked.status_code == 401 and "not valid" in revoked.json()["error"]
    with httpx.Client(base_url=url, timeout=60, headers={"authorization": "Bearer lgk_00000000_made-up"}) as script:
        assert script.get("/api/documents").status_code == 401


def test_a_user_makes_and_revokes_their_own_keys(team):
    client = login(team["url"], "bob")
    try:
        made = client.post("/api/keys", json={"scope": "search"}).json()
        assert made["key"].startswith("lgk_") and made["shown_once"]
        listed = client.get("/api/keys").json()
        assert made["id"] in [k["id"] for k in listed] and made["key"] not in json.dumps(listed)
        assert client.delete(f"/api/keys/{made['id']}").status_code == 200
        with httpx.Client(base_url=team["url"], headers={"authorization": f"Bearer {made['key']}"}) as script:
            assert script.get("/api/documents").status_code == 401
    finally:
        client.close()


def test_a_revoked_grant_or_a_removed_user_takes_effect_at_the_next_request(team):
    from accounts import manage

    store, roots = team["store"], team["engine"].roots()
    client = login(team["url"], "bob")
    try:
        assert ENG_CODE in client.post("/api/search", json={"query": DEPLOY}).text
        manage.revoke(store, roots, "eng", str(team["eng"]))
        after = client.post("/api/search", json={"query": DEPLOY})
        assert after.status_code == 200 and after.json() == [] and client.get("/api/documents").json() == []
        manage.grant(store, roots, "eng", str(team["eng"]))
        assert ENG_CODE in client.post("/api/search", json={"query": DEPLOY}).text
        manage.add_user(store, "dave", "dave-password-1", ["eng"])
        dave = httpx.Client(base_url=team["url"], timeout=60)
        token = dave.post("/api/login", json={"user": "dave", "password": "dave-password-1"}).json()["csrf_token"]
        manage.remove_user(store, "dave")
        gone = dave.post("/api/search", json={"query": DEPLOY}, headers={"x-csrf-token": token})
        assert gone.status_code == 401
        dave.close()
    finally:
        client.close()


def test_only_admins_manage_users(team, clients):
    alice, bob = clients["alice"], clients["bob"]
    assert bob.get("/api/admin/users").status_code == 403
    assert bob.post("/api/admin/users", json={"name": "eve", "password": "eve-password-1"}).status_code == 403
    added = alice.post("/api/admin/users", json={"name": "erin", "password": "erin-password-1", "groups": ["eng"]})
    assert added.status_code == 201, added.text
    assert "erin" in [u["name"] for u in alice.get("/api/admin/users").json()]
    assert alice.post("/api/admin/grants", json={"group": "sales", "folder": "hr"}).status_code == 200
    assert {
        "group": "sales",
        "folder": str(team["hr"].resolve()),
        "shown": f"{team['hr'].resolve()} (hr)",
    } in alice.get("/api/admin/grants").json()
    assert alice.request("DELETE", "/api/admin/grants", json={"group": "sales", "folder": "hr"}).status_code == 200
    assert alice.delete("/api/admin/users/erin").status_code == 200


@pytest.mark.parametrize("proxy, status", [("10.9.9.9", 403), ("127.0.0.1", 200)])
def test_the_trusted_user_header_is_believed_only_from_the_proxy(team, proxy, status):
    from server.app import build_app
    from server.auth import Team

    behind = Team(team["store"], trusted_header="x-forwarded-user", trusted_proxies=frozenset({proxy}))
    with live_server(build_app(team["engine"], None, None, behind)) as live:
        with httpx.Client(base_url=live.url, timeout=120, headers={"x-forwarded-user": "bob"}) as client:
            got = client.get("/api/documents")
            assert got.status_code == status, got.text
            if status == 403:
                assert "only from the trusted proxy" in got.json()["error"]
                # the header wins over any other credential: a session does not get it through
                session = login(live.url, "alice")
                session.headers["x-forwarded-user"] = "bob"
                assert session.get("/api/documents").status_code == 403
                session.close()
            else:
                assert {d["source"] for d in got.json()} == {"deploy.txt", "okapi_lease.pdf"}
                posted = client.post("/api/search", json={"query": DEPLOY}, headers={"sec-fetch-site": "cross-site"})
                assert posted.status_code == 403  # another site's page, through the user's proxy session
                ok = client.post("/api/search", json={"query": DEPLOY}, headers={"sec-fetch-site": "same-origin"})
                assert ok.status_code == 200 and ENG_CODE in ok.text and HR_CODE not in ok.text
                assert client.get("/api/documents", headers={"x-forwarded-user": "nobody"}).status_code == 403


def test_the_audit_log_says_who_asked_what_and_got_which_sources(team, clients):
    clients["bob"].post("/api/search", json={"query": DEPLOY})
    path = team["audit"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    events = [json.loads(line) for line in text.splitlines()]
    searches = [e for e in events if e["action"] == "search" and e["user"] == "bob"]
    assert searches and searches[-1]["query"] == DEPLOY and "deploy.txt" in searches[-1]["sources"]
    assert any(e["action"] == "ask" and e["user"] == "alice" for e in events)
    assert any(e["action"] == "refused" and e["status"] == 401 for e in events)
    assert any(e["action"] == "refused" and e["status"] == 403 and e["user"] == "alice" for e in events)  # CSRF
    assert any(e["action"] == "login" and e.get("status") == 401 for e in events)
    for secret in PASSWORDS.values():
        assert secret not in text
    assert "lgk_" not in text


def test_serve_with_users_refuses_a_token_and_a_header_without_its_proxy(team):
    import subprocess

    from conftest import localgpt_cmd

    db = str(team["db"])
    for extra, message in (
        (["--token", "a-token-of-twenty-chars"], "--token is not used"),
        (["--trusted-user-header", "X-Forwarded-User"], "needs --trusted-proxy"),
    ):
        done = subprocess.run(
            localgpt_cmd("serve", "--db", db, "--port", "1", *extra), capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.fixture(scope="module")
def pg_url(folders, tmp_path_factory):
    """The team's index copied into PostgreSQL (a real server, tests/servers.py), its users added there."""
    from accounts import manage
    from index import open_index
    from index.copy import copy_index
    from index.opening import open_catalog
    from servers import postgres_server

    server = postgres_server(tmp_path_factory.mktemp("postgres") / "data")
    url = server.get_uri() + "&schema=team"
    with open_index(folders["db"]) as source, open_index(url, write=True, index_url=url) as dest:
        copy_index(source, dest)
    with open_catalog(folders["db"], url) as catalog:
        store, roots = catalog.accounts(), catalog.roots()
        manage.add_user(store, "bob", PASSWORDS["bob"], ["eng"])
        manage.grant(store, roots, "eng", str(folders["eng"]))
        manage.add_user(store, "alice", PASSWORDS["alice"], ["hr"])
        manage.grant(store, roots, "hr", "hr")
    return url


def test_two_app_hosts_on_one_database_index_share_users_sessions_and_grants(folders, pg_url):
    from core.settings import load_settings
    from fakes import FakeLLM
    from server.app import build_app
    from server.engine import Engine
    from server.run import team_for

    settings = load_settings(
        {"db": folders["db"], "index_url": pg_url, "answer_style": "quote", "audit": False}, environ={}
    )
    engines = [Engine(settings), Engine(settings)]
    for engine in engines:
        llm = FakeLLM()
        engine.llm = lambda llm=llm: llm
    try:
        apps = [build_app(engine, None, None, team_for(settings, engine.accounts())) for engine in engines]
        with live_server(apps[0]) as first, live_server(apps[1]) as second:
            bob = login(first.url, "bob")  # logged in on one host...
            cookie, token = bob.cookies.get("localgpt_session"), bob.headers["x-csrf-token"]
            bob.close()
            with httpx.Client(
                base_url=second.url, timeout=120, cookies={"localgpt_session": cookie}, headers={"x-csrf-token": token}
            ) as other_host:  # ...and served on the other
                found = other_host.post("/api/search", json={"query": f"{PAYROLL} {DEPLOY}", "k": 10})
                assert found.status_code == 200 and ENG_CODE in found.text and HR_CODE not in found.text
                for mode in ("dense", "bm25"):
                    only = other_host.post("/api/search", json={"query": PAYROLL, "mode": mode, "k": 10})
                    assert only.status_code == 200 and HR_CODE not in only.text
                refused = other_host.post("/api/ask", json={"query": PAYROLL})
                assert refused.json()["refused"] and HR_CODE not in everything(refused)
                assert {d["source"] for d in other_host.get("/api/documents").json()} == {
                    "deploy.txt",
                    "okapi_lease.pdf",
                }
                assert other_host.post("/api/logout").status_code == 200
            with httpx.Client(
                base_url=first.url, timeout=60, cookies={"localgpt_session": cookie}, headers={"x-csrf-token": token}
            ) as ended:
                assert ended.post("/api/search", json={"query": DEPLOY}).status_code == 401  # ended on both
    finally:
        for engine in engines:
            engine.close()
