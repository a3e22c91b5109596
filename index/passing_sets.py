"""The chunks that pass a filter, held in memory while the catalog stays unchanged, so that the
check of a filtered vector search's candidates (index/vector_query.py) is a set lookup instead of
a query.

A user who may read 1 folder of 10 at 100k chunks: the vector search asks for ~780 neighbours to
keep 50, and the catalog checking 780 ids against the folder condition took 5-8 ms of a ~30 ms
hybrid search (benchmarks/permissions.py); the lookup takes 0.2 ms. The ids of a filter are read
at its second check against the same catalog version, so a one-off `--where` never pays for the
read (~20 ms for 10k passing chunks of 100k), and a catalog that changes between every search
(an ingest committing) is checked by query as before. The version is SQLite's `data_version`
(another connection committed) with this connection's own change count, so a set is never used
after any write: it can be out of date by nothing, and a chunk a user may not read never passes.
"""

from __future__ import annotations

from typing import Callable, Hashable

from core.filters import Filter

# Most ids kept for one filter (about 110 bytes each: 11 MB): a wider filter is checked by query.
PASSING_IDS_MAX = 100_000
# Most filters kept at once (several users' folders); the oldest go first.
FILTERS_MAX = 8


class PassingSets:
    """The ids passing each recently checked filter, for one catalog version."""

    def __init__(self, limit: int = PASSING_IDS_MAX, filters: int = FILTERS_MAX):
        self.limit = limit
        self.filters = filters
        self._version: Hashable = None
        self._sets: dict[Filter, frozenset[str] | None] = {}  # None: more than `limit` pass
        self._asked: set[Filter] = set()

    def get(
        self, version: Hashable, flt: Filter, read: Callable[[int], frozenset[str] | None]
    ) -> frozenset[str] | None:
        """The ids passing `flt` at `version`, or None: check by query this time. `read(limit)` gives
        them, or None when more than `limit` pass; it is called at the second ask of a version."""
        if version != self._version:
            self._version = version
            self._sets.clear()
            self._asked.clear()
        if flt in self._sets:
            return self._sets[flt]
        if flt not in self._asked:
            self._asked.add(flt)
            return None
        while len(self._sets) >= self.filters:
            self._sets.pop(next(iter(self._sets)))
        found = self._sets[flt] = read(self.limit)
        return found
