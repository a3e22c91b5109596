"""The watcher's status file, db/watch.json: whether a watcher keeps this index in sync, since
when, and when it last synced, for `localgpt doctor` and `/api/health`.

Written atomically (a temp file renamed over it) by the watcher after each batch; holds its
pid. A status whose pid is no longer alive is stale (the watcher was killed): not running.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.files import open_private

STATUS_FILE = "watch.json"
LOCK_FILE = ".watch.lock"


@dataclass
class WatchStatus:
    pid: int
    started_at: float
    folders: list[str]
    mode: str  # "filesystem events" or "polling every N s"
    state: str = "starting"  # starting (its first full pass), watching, syncing; stopped when it ended
    last_sync: float | None = None  # when the index last matched the folders
    last_batch: dict = field(default_factory=dict)  # the last batch's counts and seconds
    running: bool = True  # read back: whether the pid is alive

    def to_json(self) -> dict:
        return asdict(self)


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def write_status(db: Path, status: WatchStatus) -> None:
    path = Path(db) / STATUS_FILE
    tmp = path.with_name(f".{STATUS_FILE}.{os.getpid()}.tmp")
    data = {k: v for k, v in status.to_json().items() if k != "running"}
    with open_private(tmp) as handle:
        json.dump(data, handle)
    os.replace(tmp, path)


def read_status(db: Path) -> WatchStatus | None:
    """The last watcher's status (running False when its process is gone), None when no watcher
    ever ran here or its file cannot be read."""
    try:
        data = json.loads((Path(db) / STATUS_FILE).read_text(encoding="utf-8"))
        status = WatchStatus(**{k: v for k, v in data.items() if k in WatchStatus.__dataclass_fields__})
    except (OSError, ValueError, TypeError):
        return None
    status.running = status.state != "stopped" and pid_alive(int(status.pid))
    return status


def describe(status: WatchStatus | None, now: float | None = None) -> str:
    """One line for people: 'running (pid 123, filesystem events), last synced 4 s ago'."""
    if status is None:
        return "no watcher has run on this index (localgpt watch, or serve --watch)"
    now = time.time() if now is None else now
    synced = f"last synced {_ago(now - status.last_sync)}" if status.last_sync else "not synced yet"
    if not status.running:
        how = "stopped" if status.state == "stopped" else "was killed"
        return f"not running (the last one, pid {status.pid}, {how}); {synced}"
    return f"running (pid {status.pid}, {status.mode}, {status.state}), {synced}"


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"
