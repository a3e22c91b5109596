"""Nothing leaves the machine: the whole ingest-and-ask flow runs with the network blocked."""

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import NETWORK_ATTEMPTS, SAMPLES, localgpt_cmd
from localgpt import cli


def test_the_network_really_is_blocked():
    before = len(NETWORK_ATTEMPTS)
    with pytest.raises(OSError):
        socket.create_connection(("pypi.org", 443), timeout=1)
    assert len(NETWORK_ATTEMPTS) == before + 1
    del NETWORK_ATTEMPTS[before:]  # this attempt was the test's own


@pytest.mark.slow
def test_ingest_then_ask_in_one_flow_with_sockets_blocked(tmp_path):
    before = len(NETWORK_ATTEMPTS)
    runner = CliRunner()
    db = tmp_path / "db"
    result = runner.invoke(cli, ["ingest", "--source-dir", str(SAMPLES), "--db", str(db), "--quiet"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["ask", "--db", str(db), "--json", "What is the monthly rent?"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["passages"], "retrieval found nothing"
    assert NETWORK_ATTEMPTS[before:] == []


def test_offline_switches_are_set_by_the_code_not_the_shell(monkeypatch):
    from core.offline import OFFLINE_ENV, enforce_offline

    for key in OFFLINE_ENV:
        monkeypatch.delenv(key, raising=False)
    enforce_offline()
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["DO_NOT_TRACK"] == "1"
    assert os.environ["ANONYMIZED_TELEMETRY"] == "False"


@pytest.mark.slow
def test_cli_in_a_process_with_no_network_at_all(tmp_path):
    db = tmp_path / "db"
    done = subprocess.run(
        localgpt_cmd("ingest", "--source-dir", str(SAMPLES), "--db", str(db), "--quiet"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        localgpt_cmd("ask", "--db", str(db), "--json", "What is the monthly rent?"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["passages"]


SILENT_RUNTIMES = """
import sys, time
sys.path.insert(0, {repo!r})
from core.settings import load_settings
from embeddings.embedder import load_embedder
for backend in ("openvino", "onnx"):
    embedder = load_embedder(load_settings({{"embedding_backend": backend}}, environ={{}}))
    embedder.embed(["a passage about leases"])
    assert embedder.backend == backend, embedder.backend
print("openvino_telemetry" in sys.modules and sys.modules["openvino_telemetry"] is not None)
time.sleep({linger})  # ONNX Runtime's telemetry client looked up its server ~9 s after import
"""


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace to see connects made below Python")
def test_embedding_runtimes_reach_for_no_network_even_below_python(tmp_path):
    """ONNX Runtime (C++ 1DS client) and OpenVINO (a thread sending a usage event on import) phone home
    unless switched off; the C++ one never passes through Python's socket module, so only a system-call
    trace shows it. Both runtimes load and embed, then the process lingers past the telemetry timers."""
    from conftest import REPO

    trace = tmp_path / "trace.log"
    code = SILENT_RUNTIMES.format(repo=str(REPO), linger=12)
    done = subprocess.run(
        [
            "strace",
            "-f",
            "--seccomp-bpf",
            "-e",
            "trace=connect,sendto,sendmsg",
            "-o",
            str(trace),
            sys.executable,
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if not k.startswith("LOCALGPT_")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "False", "OpenVINO's telemetry package was imported"
    attempts = [line for line in trace.read_text(errors="replace").splitlines() if "AF_INET" in line]
    assert attempts == [], attempts


@pytest.mark.slow
def test_serve_reaches_no_network_only_its_own_loopback_port(sample_db):
    """The server in this process: answering over HTTP opens no socket but the test's own loopback one."""
    import httpx

    from conftest import LOOPBACK_PORTS
    from core.settings import load_settings
    from live_server import live_server
    from server.app import build_app
    from server.engine import Engine

    before = len(NETWORK_ATTEMPTS)
    engine = Engine(load_settings({"db": sample_db, "max_tokens": 32}, environ={"LOCALGPT_THREADS": "2"}))
    engine.load()
    try:
        with live_server(build_app(engine)) as live, httpx.Client(base_url=live.url, timeout=300) as http:
            assert live.port in LOOPBACK_PORTS
            assert http.post("/api/ask", json={"query": "What is the monthly rent?"}).json()["passages"]
            assert http.post("/api/search", json={"query": "kettle"}).status_code == 200
    finally:
        engine.close()
    assert NETWORK_ATTEMPTS[before:] == []
    with pytest.raises(OSError):  # any other port stays blocked
        socket.create_connection(("127.0.0.1", live.port + 1), timeout=1)
    del NETWORK_ATTEMPTS[before:]  # that attempt was the test's own
