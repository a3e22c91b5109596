"""A `--where` key no passage has is refused with the keys the index does have: otherwise
the search silently finds nothing (`Index.check_keys`, called when a search request is validated)."""

from __future__ import annotations

import re
from typing import Iterable

from core.errors import SearchOptionError
from index.catalog import Catalog

# Keys every chunk has.
ALWAYS = {"source", "chunk_index", "content_hash"}
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # others are malformed: the filter's parser says so


def has_key(catalog: Catalog, key: str) -> bool:
    return catalog.has_meta_key(key)


def keys_in_use(catalog: Catalog, sample: int = 5000) -> list[str]:
    return catalog.meta_keys(sample)


def check_keys(catalog: Catalog, keys: Iterable[str]) -> None:
    """Raise a SearchOptionError naming those `keys` no chunk has (an empty index misses none)."""
    missing = sorted(k for k in set(keys) if _KEY.match(k) and k not in ALWAYS and not has_key(catalog, k))
    if missing and catalog.chunk_count():
        raise SearchOptionError(
            f"No passage in the index has the key {', '.join(missing)} (--where). "
            f"Keys in this index: {', '.join(keys_in_use(catalog))}."
        )
