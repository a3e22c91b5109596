"""The audit log of a multi-user server: one JSON object a line, owner-only (0600), rotated by size.

Each line: time, user, how they came in (session, key, header, token), the action (search, ask,
page, documents, login, ...), the question asked, the sources returned, and, for a refusal, its
status. Never a password, a key or a session id. `--no-audit` turns it off for those who must
not keep questions.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from core.files import PRIVATE_FILE

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024  # a file this large is rotated: audit.jsonl -> audit.jsonl.1 -> ... .5
KEEP = 5


class AuditLog:
    def __init__(self, path: Path, max_bytes: int = MAX_BYTES, keep: int = KEEP):
        self.path, self.max_bytes, self.keep = Path(path), max_bytes, keep
        self._lock = threading.Lock()

    def write(self, event: dict[str, Any]) -> None:
        line = json.dumps({"time": round(time.time(), 3), **event}, ensure_ascii=False) + "\n"
        data = line.encode("utf-8")
        with self._lock:
            try:
                self._rotate_if_full(len(data))
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE)
                try:
                    os.fchmod(fd, PRIVATE_FILE)
                    os.write(fd, data)
                finally:
                    os.close(fd)
            except OSError as exc:  # the log must not take the server down; say so loudly
                log.error("the audit log %s could not be written: %s", self.path, exc)

    def _rotate_if_full(self, adding: int) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size + adding <= self.max_bytes:
            return
        for n in range(self.keep - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{n + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))


class NoAudit:
    """What the server uses without an audit log (one person, or --no-audit)."""

    def write(self, event: dict[str, Any]) -> None:
        pass
