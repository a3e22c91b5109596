"""A test hook that kills the process with SIGKILL at a named point of an ingest.

`LOCALGPT_TEST_KILL_AT=STAGE[:N]` makes the N-th (default first) passage through
`crashpoint(STAGE)` kill the process on the spot, exactly as `kill -9` would, so the
crash tests can hit every step of the write order deterministically. Unset (always,
for users), `crashpoint` is a dictionary lookup. Stages, in the order of one write:

    parsed        a file's chunks came back from a parse worker
    embedded      a batch of chunks was embedded
    pending       files journalled, nothing written yet
    vectors       their vectors are in Chroma, the catalog not yet switched
    catalog       the catalog switched to the new chunks, stale vectors not yet deleted
    removed       a deleted file's rows left the catalog, its vectors not yet deleted
    move-vectors  a moved file's vectors are in the store under its new ids, the catalog not yet switched
    move-catalog  the catalog holds the moved file under its new name, its old ids not yet deleted
    lexical       changed chunks given to Tantivy's writer, not committed there
    lexical-committed  Tantivy committed them, the catalog's list of changes not yet cleared
    lexical-build      an index from before Tantivy: its whole lexical index written, not committed
"""

from __future__ import annotations

import os
import signal

ENV = "LOCALGPT_TEST_KILL_AT"

_seen: dict[str, int] = {}


def crashpoint(stage: str) -> None:
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    name, _, nth = wanted.partition(":")
    if name != stage:
        return
    _seen[stage] = _seen.get(stage, 0) + 1
    if _seen[stage] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
