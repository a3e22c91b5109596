"""Real servers on loopback for tests: Chroma's own (`chroma run`) and llama-cpp-python's
OpenAI-compatible one, each on a free port, registered with the socket guard (conftest.py) so
that connections to it, and only to it, are let through."""

from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from conftest import ALLOWED_PORTS, REPO

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int, path: str) -> bool:
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Server:
    args: list[str]
    port: int
    health: str
    log: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> "Server":
        ALLOWED_PORTS.add(self.port)
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1"}
        self.process = subprocess.Popen(
            self.args, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            if _answers(self.port, self.health):
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not answer {self.health} in {timeout} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    def close(self) -> None:
        self.stop()
        ALLOWED_PORTS.discard(self.port)


def chroma_server(data_dir: Path, port: int | None = None) -> Server:
    port = port or free_port()
    args = [str(VENV_BIN / "chroma"), "run", "--path", str(data_dir), "--host", "127.0.0.1", "--port", str(port)]
    return Server(args, port, "/api/v2/heartbeat", data_dir.parent / f"chroma-{port}.log")


def llama_server(log_dir: Path, n_ctx: int = 2048) -> Server:
    """llama-cpp-python's server on the bundled GGUF (tests/llama_server_main.py loads the CPU
    variants of a portable llama.cpp build first, as the product does)."""
    from generation.backends.bundled import bundled_llm_path

    port = free_port()
    args = [
        sys.executable,
        str(REPO / "tests" / "llama_server_main.py"),
        "--model",
        str(bundled_llm_path()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        "2",
    ]
    return Server(args, port, "/v1/models", log_dir / f"llama-{port}.log")


class _Failing(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self._fail()

    def do_POST(self):
        self._fail()

    def _fail(self):
        body = b'{"error": {"message": "model crashed"}}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def failing_server() -> tuple[http.server.HTTPServer, int]:
    """An HTTP server on loopback that answers every request with 500 (a model server that crashed)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Failing)
    port = server.server_address[1]
    ALLOWED_PORTS.add(port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, port
