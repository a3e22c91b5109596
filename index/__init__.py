"""The index on disk: vectors in a store (Chroma), and the catalog (SQLite) beside them.

    db/
      catalog.sqlite   files, chunks, full-text index, what built the index, the write journal
      chroma/          the vectors

`open_index` is the only way in. Writes go file by file in an order that a kill at
any moment cannot corrupt: the file is journalled, its vectors are replaced, then its
catalog rows are replaced and its journal entry cleared in one SQLite transaction.
A file left in the journal is wiped from both stores on the next write-open and so
ingested again.
"""
from index.store import Index, IndexInfo, index_exists, open_index

__all__ = ["Index", "IndexInfo", "index_exists", "open_index"]
