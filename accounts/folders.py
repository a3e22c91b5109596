"""A folder of the index, named as a user names it: its path as ingested (any spelling of it) or
its label (the start of its files' sources in `localgpt documents`)."""

from __future__ import annotations

import os
from typing import Sequence

from accounts.errors import AccountError
from index.catalog import Root


def resolve_folder(roots: Sequence[Root], name: str) -> Root:
    """The folder `name` means: a label, or a path (resolved, as ingest records it)."""
    text = name.strip().rstrip("/") or name.strip()
    for root in roots:
        if root.label and root.label == text:
            return root
    real = os.path.realpath(os.path.expanduser(text))
    for root in roots:
        if root.path in (text, real):
            return root
    held = ", ".join(f"{r.path} ({r.label})" if r.label else r.path for r in roots) or "none yet"
    raise AccountError(
        f"The index holds no folder {name!r}. Give a folder's path as it was ingested, or its label "
        f"(`localgpt documents` shows both). Folders: {held}."
    )


def label_of(roots: Sequence[Root], path: str) -> str:
    """What a grant's folder is shown as: its path, with its label."""
    for root in roots:
        if root.path == path:
            return f"{path} ({root.label})" if root.label else path
    return f"{path} (no longer in the index)"
