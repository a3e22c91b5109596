"""The index on disk: vectors in a store (Chroma), and the catalog (SQLite) beside them.

    db/
      catalog.sqlite   files, chunks, what built the index, the write journal, the list of
                       changes the lexical index has not taken in yet
      chroma/          the vectors
      lexical-v1/      the lexical index (Tantivy, BM25): index/lexical_tantivy.py

`open_index` is the only way in (index/opening.py); with `--index-url` the whole index lives in a
PostgreSQL database instead (index/pg_index.py). The catalog is the truth; writes go in an order that a
kill at any moment cannot corrupt (`Index.write_files`): the files are journalled, their new
vectors are added, the catalog switches to the new chunks in one SQLite transaction, then
the old vectors are deleted and the journal cleared. So every chunk in the catalog has its
vector at every instant; vectors the catalog does not know exist only for journalled files,
and `Index.repair` deletes them on the next write-open (docs/ingest.md, "Kill it at any moment").
"""

from index.opening import configured_index_exists, index_exists, index_label, open_configured_index, open_index
from index.store import Index, IndexInfo, precision_of

__all__ = [
    "Index",
    "IndexInfo",
    "configured_index_exists",
    "index_exists",
    "index_label",
    "open_configured_index",
    "open_index",
    "precision_of",
]
