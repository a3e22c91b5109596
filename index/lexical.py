"""BM25 over the catalog's SQLite FTS5 table.

The full-text index (`chunks_fts`, porter + unicode61) lives in the catalog and is kept in
step with the `chunks` table by triggers, in the same transaction as every file change, so
lexical search sees exactly the chunks the vector store holds. Scoring is FTS5's built-in
bm25(); this module only turns a question into a safe FTS5 query and reads the ranking.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from core.filters import Filter
from core.stopwords import STOPWORDS
from core.words import tokens as word_tokens
from index.sql_filter import to_sql

# unicode61 keeps letters, digits and private-use characters together and splits on
# everything else (underscore included): the same rule here, so a code like "ERR-4031"
# or "14.2" becomes the phrase "err 4031" / "14 2" and matches only that sequence.

# Words that carry no meaning of their own in a question (core/stopwords.py) are kept out of the
# query because FTS5 scores every chunk that matches any term: "the" would touch nearly all of them.


# Most rows one query scores with bm25(). FTS5 scores every row that matches any term,
# and a word found in a large share of a big index ("function" in a programming manual)
# would make each question score tens of thousands of rows. Past this budget the rarest
# terms decide which rows are candidates and the common ones only add to their scores
# (Lucene's "common terms" query); below it, search is plain BM25 over every term.
ROW_BUDGET = 10_000


@dataclass(frozen=True)
class LexicalMatch:
    id: str
    score: float  # BM25 (FTS5's bm25(), sign flipped): higher is better
    text: str
    meta: str  # the catalog's JSON metadata


def query_words(question: str) -> list[list[str]]:
    """The question's searchable words, each as its tokens (a code like "ERR-4031" is two, to be
    matched as a phrase), in order, without repeats. Stopwords are left out unless nothing else is left."""
    words: list[list[str]] = []
    fallback: list[list[str]] = []
    for word in question.split():
        tokens = word_tokens(word)
        if not tokens or tokens in words or tokens in fallback:
            continue
        if len(tokens) == 1 and tokens[0] in STOPWORDS:
            fallback.append(tokens)
        else:
            words.append(tokens)
    return words or fallback


def query_terms(question: str) -> list[str]:
    """FTS5 terms for free text: each a double-quoted string, codes kept as exact phrases.

    Quoting means no user input is read as FTS5 syntax (AND, NOT, NEAR, column filters,
    parentheses, stray quotes).
    """
    return ['"' + " ".join(tokens) + '"' for tokens in query_words(question)]


def fts_query(question: str) -> str:
    """The plain FTS5 MATCH expression for a question: its terms ORed. Empty if nothing is searchable."""
    return " OR ".join(query_terms(question))


def _row_count(conn: sqlite3.Connection, term: str, cap: int) -> int:
    """Rows containing `term`, counted up to `cap` (cheap: no scoring)."""
    sql = "SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)"
    return conn.execute(sql, (term, cap)).fetchone()[0]


def split_common(conn: sqlite3.Connection, terms: list[str], budget: int | None = None) -> tuple[list[str], list[str]]:
    """(rare, common): the rarest terms whose rows fit the budget (at least one), and the rest."""
    budget = ROW_BUDGET if budget is None else budget
    counts = {t: _row_count(conn, t, budget + 1) for t in terms}
    if sum(counts.values()) <= budget:
        return terms, []
    rare: list[str] = []
    total = 0
    for term in sorted(terms, key=lambda t: counts[t]):
        if rare and total + counts[term] > budget:
            break
        rare.append(term)
        total += counts[term]
    return rare, [t for t in terms if t not in rare]


def bm25_search(conn: sqlite3.Connection, question: str, k: int, flt: Filter | None = None) -> list[LexicalMatch]:
    """The k chunks that best match `question` by BM25, best first; only those passing `flt`."""
    terms = query_terms(question)
    if not terms or k <= 0:
        return []
    where = to_sql(flt) if flt is not None else None
    rare, common = split_common(conn, terms)
    any_rare = " OR ".join(rare)
    filter_sql, filter_params = (
        (f"JOIN chunks AS c ON c.rowid = s.rowid WHERE {where.sql}", list(where.params)) if where else ("", [])
    )
    if not common:
        sql = (
            "SELECT s.rowid, -s.rank AS score FROM "
            "(SELECT rowid, rank FROM chunks_fts WHERE chunks_fts MATCH ?) AS s "
            f"{filter_sql} ORDER BY s.rank LIMIT ?"
        )
        params = [any_rare, *filter_params, k]
    else:
        # bm25() sums one part per query phrase. Rows must hold a rare term; scoring
        # "(rare) AND (rare OR common)" counts the rare parts twice, so the rare-only score
        # is taken off again: what is left is BM25 over all terms, for those rows.
        both = f"({any_rare}) AND ({' OR '.join(rare + common)})"
        # MATERIALIZED: each FTS query runs once; joined row by row, FTS5 would seek per rowid.
        sql = (
            "WITH r AS MATERIALIZED (SELECT rowid, rank FROM chunks_fts WHERE chunks_fts MATCH ?), "
            "s AS MATERIALIZED (SELECT rowid, rank FROM chunks_fts WHERE chunks_fts MATCH ?) "
            "SELECT s.rowid, r.rank - s.rank AS score FROM s JOIN r ON r.rowid = s.rowid "
            f"{filter_sql} ORDER BY score DESC LIMIT ?"
        )
        params = [any_rare, both, *filter_params, k]
    ranked = conn.execute(sql, params).fetchall()
    if not ranked:
        return []
    marks = ",".join("?" * len(ranked))
    rows = {
        r[0]: r[1:]
        for r in conn.execute(
            f"SELECT rowid, id, text, meta FROM chunks WHERE rowid IN ({marks})", [r[0] for r in ranked]
        )
    }
    return [
        LexicalMatch(rows[rowid][0], float(score), rows[rowid][1], rows[rowid][2])
        for rowid, score in ranked
        if rowid in rows
    ]
