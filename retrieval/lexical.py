"""BM25 over the catalog's SQLite FTS5 table.

The full-text index (`chunks_fts`, porter + unicode61) lives in the catalog and is kept in
step with the `chunks` table by triggers, in the same transaction as every file change, so
lexical search sees exactly the chunks the vector store holds. Scoring is FTS5's built-in
bm25(); this module only turns a question into a safe FTS5 query and reads the ranking.
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from retrieval.filters import SqlFilter

# unicode61 keeps letters, digits and private-use characters together and splits on
# everything else (underscore included): the same rule here, so a code like "ERR-4031"
# or "14.2" becomes the phrase "err 4031" / "14 2" and matches only that sequence.
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)

# Words that carry no meaning of their own in a question. Kept out of the query because
# FTS5 scores every chunk that matches any term: "the" would touch nearly all of them.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
    nor not of off on once only or other our ours ourselves out over own same she should so some such than that
    the their theirs them themselves then there these they this those through to too under until up very was we
    were what when where which while who whom why will with would you your yours yourself yourselves""".split()
)


@dataclass(frozen=True)
class LexicalMatch:
    id: str
    score: float  # -bm25(): higher is better
    text: str
    meta: str  # the catalog's JSON metadata


def fts_query(question: str) -> str:
    """An FTS5 MATCH expression for free text: terms ORed, codes kept as exact phrases.

    Every term is a double-quoted FTS5 string, so no user input is read as FTS5 syntax
    (AND, NOT, NEAR, column filters, parentheses, stray quotes). Empty if nothing is searchable.
    """
    terms: list[str] = []
    fallback: list[str] = []
    for word in question.split():
        tokens = [t.lower() for t in _TOKEN.findall(word)]
        if not tokens:
            continue
        term = '"' + " ".join(tokens) + '"'
        if term in terms or term in fallback:
            continue
        if len(tokens) == 1 and tokens[0] in STOPWORDS:
            fallback.append(term)
        else:
            terms.append(term)
    return " OR ".join(terms or fallback)


def bm25_search(conn: sqlite3.Connection, question: str, k: int, where: SqlFilter | None = None) -> list[LexicalMatch]:
    """The k chunks that best match `question` by BM25, best first."""
    query = fts_query(question)
    if not query or k <= 0:
        return []
    if where is None:
        sql = (
            "SELECT c.id, -f.rank, c.text, c.meta FROM "
            "(SELECT rowid, rank FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?) AS f "
            "JOIN chunks AS c ON c.rowid = f.rowid ORDER BY f.rank"
        )
        params: list = [query, k]
    else:
        sql = (
            "SELECT c.id, -chunks_fts.rank, c.text, c.meta FROM chunks_fts "
            "JOIN chunks AS c ON c.rowid = chunks_fts.rowid "
            f"WHERE chunks_fts MATCH ? AND {where.sql} ORDER BY chunks_fts.rank LIMIT ?"
        )
        params = [query, *where.params, k]
    return [LexicalMatch(cid, float(score), text, meta) for cid, score, text, meta in conn.execute(sql, params)]
