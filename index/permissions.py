"""The index holds private text: its folder is 0700 and its files 0600, whatever the umask."""
from __future__ import annotations

import os
from pathlib import Path


def make_private(db: Path) -> None:
    """Create `db` if needed, owner-only, and make everything the process creates from now owner-only."""
    os.umask(0o077)
    Path(db).mkdir(parents=True, exist_ok=True)
    os.chmod(db, 0o700)
