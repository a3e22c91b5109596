"""`serve --watch`: the watcher runs beside the server as a child process of its own (`localgpt
watch` with the server's settings), which the server reads as it reads any ingest's writes
(index/freshness.py). Its own process keeps Chroma's writer out of the server's and lets the
server's requests and the watcher's embedding run on separate cores. It stops with the server,
even a killed one (Linux: PR_SET_PDEATHSIG, `end_with`)."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path

from core.settings import EMBEDDING, INDEX, INGEST, WATCH, env_var, names_of
from core.settings import Settings

CLI = Path(__file__).resolve().parent.parent / "localgpt.py"
PASSED = tuple(n for n in names_of(INDEX, EMBEDDING, INGEST, WATCH) if n != "source_dir")


def _as_env(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def end_with(parent: int) -> None:
    """In the child: SIGTERM (a clean stop) when the process `parent` ends, even by SIGKILL (Linux:
    PR_SET_PDEATHSIG, asked here rather than before exec, which is unsafe in a threaded server)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # it ended before the request was made
        os.kill(os.getpid(), signal.SIGTERM)


def spawn_watcher(settings: Settings, stderr=None) -> subprocess.Popen:
    """`localgpt watch` of every folder the index holds, with these settings; its lines go to
    `stderr` (None: the server's)."""
    env = dict(os.environ)
    env.update({env_var(name): _as_env(getattr(settings, name)) for name in PASSED})
    return subprocess.Popen(
        [sys.executable, str(CLI), "watch", "--end-with", str(os.getpid())],
        env=env,
        stdin=subprocess.DEVNULL,
        stderr=stderr,
    )


def stop_watcher(process: subprocess.Popen, timeout: float = 20.0) -> None:
    """SIGTERM (the watcher finishes its batch), then SIGKILL if it does not end in `timeout`."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
