"""BM25 through Tantivy (a Lucene-like engine in Rust, its official Python bindings): top-k with
block-max WAND over compressed postings, so a search costs what k and the question's terms cost,
not what the collection does. FTS5 scores every row matching any term (index/lexical.py).

    db/lexical-v1/     the Tantivy index: one document per chunk (its id, its head and text as
                       one field, its source, page and metadata), no text stored (the catalog
                       holds it)

The catalog stays the truth. Triggers on `chunks` write each changed chunk id to the catalog's
`lexical_changes` table in the same transaction as the change (catalog.py); `sync` applies them
here (delete the id, add the chunk again if the catalog still has it), commits Tantivy, and only
then clears them. Applying a change twice gives the same index, so a kill at any moment, then
the next write-open's `sync`, ends where a clean run does.

Tokens: Tantivy's simple tokenizer splits on what is not a letter or digit of any script (as
FTS5's unicode61 and core/words.py do), then lower case, ASCII folding and the English stemmer.
Question words are run through the same analyzer, so heads and exact codes match as before.

Head and text are one field, as FTS5 scored them: one document frequency per term over the
whole chunk. Two fields (Tantivy's own idf for heads, where a term is rare) gave BM25 recall@5
0.795 against FTS5's 0.822 on the real dev set; one field gave 0.822 (docs/retrieval.md).
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from core.filters import Condition, Filter
from index.crashpoints import crashpoint
from index.lexical import query_words

if TYPE_CHECKING:
    from index.catalog import Catalog

log = logging.getLogger(__name__)

# The folder names the schema's version: an index of another version is not opened but built
# again beside it by the next write-open (`Index.settle_lexical`: its folder is missing).
SCHEMA_VERSION = "1"
LEXICAL_DIR = f"lexical-v{SCHEMA_VERSION}"
ANALYZER = "words"
WRITER_HEAP = 64_000_000  # bytes: Tantivy flushes a segment when its buffer fills
PROGRESS_EVERY_S = 5.0  # a progress line this often while the index is built whole
BUILD_BATCH = 20_000  # chunks read from the catalog at a time when the index is built whole


def _tantivy():
    import tantivy  # imported on first use: a reader of an FTS5 index never needs it

    return tantivy


def word_analyzer():
    """Tantivy's analyzer of head and text (also the PostgreSQL index's, index/pg_catalog.py: the same tokens)."""
    t = _tantivy()
    return (
        t.TextAnalyzerBuilder(t.Tokenizer.simple())
        .filter(t.Filter.lowercase())
        .filter(t.Filter.ascii_fold())
        .filter(t.Filter.stemmer("english"))
        .build()
    )


def _schema():
    t = _tantivy()
    builder = t.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("words", tokenizer_name=ANALYZER, index_option="position")  # head and text
    builder.add_text_field("source", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("page", indexed=True, fast=True)
    builder.add_json_field("meta", tokenizer_name="raw", index_option="basic")
    return builder.build()


class TantivyLexical:
    """The lexical index of one --db folder. Readers search; the one writer (holding the ingest
    lock) calls `sync` after catalog writes and `close` at the end."""

    def __init__(self, folder: Path, write: bool = False):
        """`write`: this process holds the ingest lock, and keeps Tantivy's writer (and its lock)
        open between syncs; without it, a write opens the writer and lets it go again."""
        self.folder = Path(folder)
        self._keep_writer = write
        self.wrote = False  # this process has written: its reads sync first
        self._index = None
        self._writer = None
        self._analyzer = None
        self._schema = None
        self._synced_at = 0.0

    def for_thread(self) -> "TantivyLexical":
        """A reader of the same folder for another thread."""
        return TantivyLexical(self.folder)

    # -- opening ---------------------------------------------------------------
    def exists(self) -> bool:
        return (self.folder / "meta.json").exists()

    def _open(self, create: bool = False):
        """The index, opened on first use; None while none was committed (unless `create`)."""
        if self._index is None:
            if not self.exists():
                if not create:
                    return None  # nothing committed yet: no chunk is searchable
                self.folder.mkdir(parents=True, exist_ok=True)
            self._schema = _schema()
            self._index = _tantivy().Index(self._schema, path=str(self.folder), reuse=True)
            self._index.register_tokenizer(ANALYZER, self._words_analyzer())
        return self._index

    def _words_analyzer(self):
        if self._analyzer is None:
            self._analyzer = word_analyzer()
        return self._analyzer

    def _get_writer(self):
        if self._writer is None:
            self._writer = self._open(create=True).writer(heap_size=WRITER_HEAP, num_threads=1)
        return self._writer

    def _release_writer(self) -> None:
        """Finish the writer's background merges and let its lock go."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.wait_merging_threads()

    def refresh(self) -> None:
        """See what the writer committed since the last look (another process included)."""
        if self._index is not None:
            try:
                self._index.reload()
            except (ValueError, OSError):  # the folder was rebuilt (or is being): open it afresh
                self._index = None

    # -- reads -------------------------------------------------------------------
    def analyzed(self, word_tokens: Sequence[str]) -> list[str]:
        """A question word's tokens (core/words.py) as the index holds them: lower case, folded, stemmed."""
        analyzer = self._words_analyzer()
        return [token for part in word_tokens for token in analyzer.analyze(part)]

    def search(
        self, question: str, k: int, flt: Filter | None, sources: Sequence[str] | None
    ) -> list[tuple[str, float]]:
        """(chunk id, BM25) of the k best chunks, best first. `sources`: the exact sources the
        filter's path conditions allow (resolved by the catalog), None when it has none."""
        index = self._open()
        if index is None or k <= 0:
            return []
        terms = self._term_queries(question)
        if not terms:
            return []
        t = _tantivy()
        query = t.Query.boolean_query([(t.Occur.Should, q) for q in terms])
        restrictions = _filter_queries(self._schema, flt, sources)
        if restrictions is None:
            return []  # the filter allows no file
        if restrictions:
            query = t.Query.boolean_query(
                [(t.Occur.Must, query), *((t.Occur.Must, t.Query.const_score_query(r, 0.0)) for r in restrictions)]
            )
        try:
            return self._top(index, query, k)
        except (ValueError, OSError):
            # Another process's merge removed the segment files of the commit this reader had
            # loaded, or a rebuild replaced the folder: open the newest commit, search once more.
            self._index = None
            index = self._open()
            return self._top(index, query, k) if index is not None else []

    @staticmethod
    def _top(index, query, k: int) -> list[tuple[str, float]]:
        searcher = index.searcher()
        hits = searcher.search(query, limit=k, count=False).hits
        return [(searcher.doc(address)["id"][0], float(score)) for score, address in hits]

    def _term_queries(self, question: str) -> list:
        """One query per word, flat: a disjunction of term queries is what Tantivy runs with
        block-max WAND. A word that splits into several tokens (a code: "ERR-4031") is a phrase."""
        t = _tantivy()
        out = []
        for word in query_words(question):
            analyzed = self.analyzed(word)
            if len(analyzed) == 1:
                out.append(t.Query.term_query(self._schema, "words", analyzed[0]))
            elif analyzed:
                out.append(t.Query.phrase_query(self._schema, "words", analyzed))
        return out

    def doc_count(self, word_tokens: Sequence[str]) -> int:
        """Chunks whose text or head holds this word (its tokens in a row)."""
        index = self._open()
        if index is None:
            return 0
        analyzed = self.analyzed(word_tokens)
        if not analyzed:
            return 0
        searcher = index.searcher()
        if len(analyzed) == 1:
            return searcher.doc_freq("words", analyzed[0])
        phrase = _tantivy().Query.phrase_query(self._schema, "words", analyzed)
        return searcher.search(phrase, limit=1, count=True).count

    def count(self) -> int:
        index = self._open()
        return 0 if index is None else index.searcher().num_docs

    def ids(self) -> list[str]:
        """Every chunk id in the index (for checks: tests, `doctor`)."""
        index = self._open()
        if index is None:
            return []
        t = _tantivy()
        searcher = index.searcher()
        hits = searcher.search(t.Query.all_query(), limit=max(searcher.num_docs, 1), count=False).hits
        return [searcher.doc(address)["id"][0] for _, address in hits]

    # -- writes (ingest lock held) ------------------------------------------------------
    def sync(self, catalog: "Catalog", every_s: float = 0.0) -> int:
        """Take in the catalog's pending changes (`Catalog.lexical_changes`): each id deleted, and
        added again if the catalog still holds it; committed, then cleared in the catalog. With
        `every_s`, at most that often (an ingest calls it after each write). Returns how many."""
        if every_s and time.monotonic() - self._synced_at < every_s:
            return 0
        ids = catalog.lexical_changes()
        self._synced_at = time.monotonic()
        if not ids:
            return 0
        writer = self._get_writer()
        for chunk_id in ids:
            writer.delete_documents_by_term("id", chunk_id)
        for row in catalog.lexical_rows(ids):
            writer.add_document(self._document(*row))
        crashpoint("lexical")
        writer.commit()
        crashpoint("lexical-committed")
        catalog.clear_lexical_changes(ids)
        self._committed()
        return len(ids)

    def rebuild(self, catalog: "Catalog", switch: bool = True) -> None:
        """Build the whole index again from the catalog's chunks, then commit once: an index from
        before Tantivy, or one found damaged. With `switch`, the catalog then uses it alone
        (`Catalog.use_tantivy`: FTS5 dropped, pending changes cleared)."""
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)
        writer = self._get_writer()
        total = catalog.chunk_count()
        started = said = time.monotonic()
        done = 0
        for batch in catalog.all_lexical_rows(BUILD_BATCH):
            for row in batch:
                writer.add_document(self._document(*row))
            done += len(batch)
            if time.monotonic() - said >= PROGRESS_EVERY_S:
                said = time.monotonic()
                log.warning("lexical index: %d/%d chunks (%.0f s)", done, total, said - started)
        crashpoint("lexical-build")
        writer.commit()
        if switch:
            catalog.use_tantivy()
        self._committed()

    def _committed(self) -> None:
        self.wrote = True
        if not self._keep_writer:
            self._release_writer()
        self._index.reload()

    def _document(self, chunk_id: str, source: str, text: str, meta_json: str, head: str):
        t = _tantivy()
        meta = json.loads(meta_json)
        fields = {"id": chunk_id, "words": f"{head}\n{text}" if head else text, "source": source}
        page = meta.get("page")
        if isinstance(page, int) and not isinstance(page, bool):
            fields["page"] = page
        doc = t.Document(**fields)
        doc.add_json("meta", {k: v for k, v in meta.items() if isinstance(v, (str, int, float, bool))})
        return doc

    def close(self) -> None:
        """Finish the writer's background merges and let the index go."""
        self._release_writer()
        self._index = None


def _filter_queries(schema, flt: Filter | None, sources: Sequence[str] | None) -> list | None:
    """A filter as Tantivy queries that must all match; None when it can match nothing."""
    if flt is None:
        return []
    t = _tantivy()
    out = []
    if flt.path_conditions:
        if not sources:
            return None
        out.append(t.Query.term_set_query(schema, "source", list(sources)))
    for cond in flt.conditions:
        if cond.by_file:  # resolved into `sources` above
            continue
        alternatives = [q for q in (_value_query(schema, cond, v) for v in cond.values) if q is not None]
        if not alternatives:
            return None
        out.append(
            alternatives[0]
            if len(alternatives) == 1
            else t.Query.boolean_query([(t.Occur.Should, q) for q in alternatives])
        )
    return out


def _value_query(schema, cond: Condition, value):
    t = _tantivy()
    if cond.key == "page":
        if isinstance(value, tuple):
            return t.Query.range_query(schema, "page", t.FieldType.Integer, value[0], value[1])
        if isinstance(value, int) and not isinstance(value, bool):
            return t.Query.term_query(schema, "page", value)
        return None  # a page is a whole number: nothing else matches
    if isinstance(value, tuple):  # a range on another key: only pages are ranges in the catalog too
        return None
    return t.Query.term_query(schema, f"meta.{cond.key}", value)
