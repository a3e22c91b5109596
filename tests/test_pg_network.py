"""The database index reached as a team reaches it: over TCP, TLS with the server's certificate
checked (`sslmode=verify-full&sslrootcert=…` in the URL), a password from `--index-password-file`.

What a user sees: ingest, search and ask work; every connection they open goes to the database's
address and port and nowhere else (recorded with strace, as the processes run); a wrong password
or a certificate from another authority is one error line that never shows the password."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, SAMPLES

pytestmark = pytest.mark.slow

QUESTION = "How much notice does the tenant need to give to end the lease?"
CONNECT = re.compile(r"connect\(\d+, \{sa_family=(AF_INET6?), sin6?_port=htons\((\d+)\), (.*?)\}")


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    from servers import tls_postgres_server

    server = tls_postgres_server(tmp_path_factory.mktemp("tls-postgres"))
    yield server
    server.stop()


def traced(log, *args: str) -> subprocess.CompletedProcess:
    """The CLI with every connect() it and its children make written to `log` (strace), on the
    machine's own network: the database is on TCP loopback."""
    command = ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect", "-e", "signal=none", "-o", str(log)]
    return subprocess.run(
        [*command, sys.executable, str(REPO / "localgpt.py"), *args], capture_output=True, text=True, timeout=600
    )


def inet_connections(log) -> list[tuple[str, int, str]]:
    return [(family, int(port), where) for family, port, where in CONNECT.findall(log.read_text())]


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is needed (.ci/run installs it)")
def test_ingest_search_and_ask_over_tls_with_a_password_file_reach_only_the_database(database, tmp_path):
    folder = tmp_path / "docs"
    shutil.copytree(SAMPLES, folder)
    url = database.url("traced")
    index = ["--index-url", url, "--index-password-file", str(database.password_file)]
    password = database.password_file.read_text().strip()
    logs = [tmp_path / f"{name}.strace" for name in ("ingest", "search", "ask")]

    ingested = traced(logs[0], "ingest", "--source-dir", str(folder), *index, "--quiet")
    assert ingested.returncode == 0, ingested.stderr[-3000:]
    assert "4 new" in ingested.stdout
    hits = traced(logs[1], "search", *index, "--json", QUESTION)
    assert hits.returncode == 0, hits.stderr[-3000:]
    assert json.loads(hits.stdout)[0]["source"].endswith("lease_agreement.pdf")
    asked = traced(logs[2], "ask", *index, "--json", QUESTION)
    assert asked.returncode == 0, asked.stderr[-3000:]
    record = json.loads(asked.stdout)
    assert record["sources"] and record["sources"][0]["source"].endswith("lease_agreement.pdf")

    for log in logs:
        connections = inet_connections(log)
        assert connections, f"{log.name}: no connection to the database was recorded"
        assert {(port, where) for _, port, where in connections} == {
            (database.port, 'sin_addr=inet_addr("127.0.0.1")')
        }, connections
    for done in (ingested, hits, asked):
        assert password not in done.stdout + done.stderr


def test_a_wrong_password_is_one_error_line_that_does_not_show_it(database, tmp_path):
    wrong = tmp_path / "wrong-password"
    wrong.write_text("not-the-password-4711\n")
    wrong.chmod(0o600)
    done = subprocess.run(
        [sys.executable, str(REPO / "localgpt.py"), "search", "--index-url", database.url("traced"),
         "--index-password-file", str(wrong), "rent"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "password authentication failed" in done.stderr
    assert f"127.0.0.1:{database.port}/team" in done.stderr
    assert "not-the-password-4711" not in done.stderr + done.stdout


def test_a_server_certificate_from_another_authority_is_refused(database, tmp_path):
    from servers import make_certificates

    other_ca, _, _ = make_certificates(tmp_path / "other", "some other CA")
    done = subprocess.run(
        [sys.executable, str(REPO / "localgpt.py"), "ingest", "--source-dir", str(SAMPLES),
         "--index-url", database.url("refused", ca=other_ca),
         "--index-password-file", str(database.password_file)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "certificate verify failed" in done.stderr
    assert database.password_file.read_text().strip() not in done.stderr
