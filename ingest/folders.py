"""Which folders an index holds, and the name each one's files go by.

Several folders can be ingested into one index. Each is recorded (its real path) with a label:
the first folder's files keep their path relative to it as their source ("lease.pdf", as in
every index made before there were several); each later folder's sources start with its label,
the folder's own name made unique ("office/lease.pdf"). So a source names one file of one
folder, `--where source=office/*` selects a folder, and re-ingesting one folder touches only
the files recorded as its own (docs/ingest.md, "Several folders in one index").
"""

from __future__ import annotations

import logging
from pathlib import Path

from core.errors import SourceError
from index.catalog import Catalog, Root

log = logging.getLogger(__name__)


def _label_taken(catalog: Catalog, roots: list[Root], label: str) -> bool:
    if any(r.label == label for r in roots):
        return True
    # the files of a folder without a label must not look like this label's files
    return catalog.has_files_under(label)


def choose_label(name: str, roots: list[Root], catalog: Catalog) -> str:
    base = name.strip().replace("/", "_") or "folder"
    label, n = base, 1
    while _label_taken(catalog, roots, label):
        n += 1
        label = f"{base}-{n}"
    return label


def claim_folder(catalog: Catalog, folder: Path) -> Root:
    """The folder's record in the index, made on its first ingest (under the ingest lock)."""
    real = Path(folder).resolve()
    path = str(real)
    roots = catalog.roots()
    for root in roots:
        if root.path == path:
            return root
    for root in roots:
        held = Path(root.path)
        if held in real.parents:
            raise SourceError(
                f"{folder} is inside {root.path}, which this index already holds. Ingest {root.path} again "
                f"(exclude what you do not want with .localgptignore or --exclude), or use another --db."
            )
        if real in held.parents:
            raise SourceError(
                f"{folder} holds {root.path}, which this index already holds on its own. Remove that folder "
                f"first (localgpt remove {root.path}), or use another --db."
            )
    if not roots:
        legacy = catalog.info().get("source_dir")
        if catalog.file_count() and legacy and legacy != path:
            # An index from before folders were recorded, built from another folder: that folder keeps its files.
            log.info("recording %s as the folder of the %d files already in the index", legacy, catalog.file_count())
            roots = [catalog.add_root(legacy, "")]
            catalog.adopt_files(legacy)
        else:
            root = catalog.add_root(path, "")
            catalog.adopt_files(path)
            return root
    return catalog.add_root(path, choose_label(real.name, roots, catalog))
