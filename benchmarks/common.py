"""What the benchmarks share: the repository's path, the sample index, free ports, percentiles and
real servers on loopback (Chroma's `chroma run` and llama-cpp-python's OpenAI-compatible server),
which tests/servers.py starts for the tests too.

A script in benchmarks/ runs as `python benchmarks/NAME.py`, so `import common` finds this file;
`common.on_path()` then lets it import the project's packages.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "source_documents"
VENV_BIN = Path(sys.executable).parent
SERVER_ENV = {"ANONYMIZED_TELEMETRY": "False", "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1"}


def on_path() -> Path:
    """Put the repository first on sys.path (for a script run from benchmarks/); its path."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    return REPO


def sample_index(db: Path | None = None) -> Path:
    """`db` as it is, or (None) the sample documents ingested into a new temporary index."""
    if db is not None:
        return db
    return ingest_samples(Path(tempfile.mkdtemp(prefix="localgpt-bench-")) / "db")


def ingest_samples(db: Path) -> Path:
    """The sample documents ingested into `db` (an existing index is brought up to date); `db`."""
    on_path()
    from core.settings import load_settings
    from ingest.pipeline import run_ingest

    run_ingest(load_settings({"db": db, "source_dir": SAMPLES}))
    return db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile, q in 0..100 (evaluation/metrics.py's, the one the reports use)."""
    on_path()
    from evaluation.metrics import percentile as linear

    return linear(values, q)


def answers(port: int, path: str) -> bool:
    """Whether http://127.0.0.1:PORT/PATH answers 200 now."""
    import httpx

    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def _nothing(port: int) -> None:
    pass


@dataclass
class Server:
    """A server process on loopback, started in its own session, ready once `health` answers 200.
    `allow`/`disallow` hear its port as it starts and closes (the tests' socket guard)."""

    args: list[str]
    port: int
    health: str
    log: Path
    allow: Callable[[int], None] = field(default=_nothing, repr=False)
    disallow: Callable[[int], None] = field(default=_nothing, repr=False)
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> "Server":
        self.allow(self.port)
        self.process = subprocess.Popen(
            self.args,
            stdout=open(self.log, "ab"),
            stderr=subprocess.STDOUT,
            env={**os.environ, **SERVER_ENV},
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            if answers(self.port, self.health):
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
        self.disallow(self.port)


def chroma_server(data_dir: Path, port: int | None = None, log: Path | None = None, **hooks) -> Server:
    """Chroma's own server (`chroma run`) keeping its data in `data_dir`."""
    port = port or free_port()
    args = [str(VENV_BIN / "chroma"), "run", "--path", str(data_dir), "--host", "127.0.0.1", "--port", str(port)]
    return Server(args, port, "/api/v2/heartbeat", log or data_dir.parent / f"chroma-{port}.log", **hooks)


def llama_server(
    log_dir: Path, n_ctx: int = 2048, threads: int = 2, api_key_file: Path | None = None, **hooks
) -> Server:
    """`localgpt model-server` (llama-cpp-python's server, the CPU variants of a portable llama.cpp
    build loaded first) on the bundled GGUF."""
    port = free_port()
    args = [
        sys.executable,
        str(REPO / "localgpt.py"),
        "model-server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n-ctx",
        str(n_ctx),
        "--threads",
        str(threads),
    ]
    health = "/v1/models"
    if api_key_file is not None:
        args += ["--api-key-file", str(api_key_file)]
        health = "/docs"  # open to all; it answers once the model has loaded, as every route does
    return Server(args, port, health, log_dir / f"llama-{port}.log", **hooks)
