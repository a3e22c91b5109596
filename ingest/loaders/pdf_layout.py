"""What a PDF's pages carry besides their text: running headers and footers, page numbers, and
pages that only list other pages (a table of contents, an index).

- `strip_running_lines(pages)`: the first and last lines of a page that recur on other pages
  (digits aside: "122 gnuplot 5.4 Sampling" and "124 gnuplot 5.4 Sampling" are one running
  header), and a first or last line that is only a page number ("12", "- 12 -", "Page 3 of 40"),
  are removed.
  A document of fewer than MIN_PAGES pages is left as it is: too few pages to tell.
- `is_listing(text)`: most lines end in a page number or dot leaders: a table of contents or an
  index page. Its chunks are marked (`listing`), so that evidence selection can weigh them down.
"""

from __future__ import annotations

import re

MIN_PAGES = 4
EDGE_LINES = 3  # lines at the top and at the bottom of a page that may be running lines
MIN_REPEATS = 3  # a line recurring on this many pages (at a page edge) is a running line
LISTING_SHARE = 0.5  # this share of a page's lines ending in a page number: a listing

_PAGE_NUMBER = re.compile(
    r"^\W{0,3}(?:page\s+)?(?:\d{1,4}|[ivxlc]{1,6})(?:\s*(?:of|/)\s*\d{1,4})?\W{0,3}$", re.IGNORECASE
)
_ENDS_IN_PAGE = re.compile(r"(?:\.{2,}|\s)\s*\d{1,4}(?:[,–-]\s*\d{1,4})*\s*$")


def _key(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split()).lower())


def _edges(lines: list[str]) -> list[int]:
    """Indexes of the first and last EDGE_LINES non-empty lines."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return sorted(set(filled[:EDGE_LINES] + filled[-EDGE_LINES:]))


def _running_keys(split: list[list[str]]) -> set[str]:
    """Keys of edge lines that recur on MIN_REPEATS pages or more with at most one number changing
    (the page number): "122 gnuplot 5.4 Sampling" / "124 gnuplot 5.4 Sampling". A line whose
    several numbers change ("Section 5: setting 5 controls valve 5") is content, not a header."""
    seen: dict[str, list[tuple[str, ...]]] = {}
    for lines in split:
        for i in _edges(lines):
            line = lines[i].strip()
            if len(line) >= 3:
                key = _key(line)
                numbers = tuple(re.findall(r"\d+", line))
                if numbers not in seen.setdefault(key, []) or not numbers:
                    seen[key].append(numbers)
    running = set()
    for key, variants in seen.items():
        pages = sum(1 for lines in split if any(_key(lines[i]) == key for i in _edges(lines)))
        if pages < MIN_REPEATS:
            continue
        changing = sum(1 for column in zip(*variants) if len(set(column)) > 1) if variants and variants[0] else 0
        if changing <= 1:
            running.add(key)
    return running


def strip_running_lines(pages: list[str]) -> list[str]:
    """The pages without their running headers, footers and page-number lines."""
    split = [page.split("\n") for page in pages]
    drop_numbers = len(pages) >= 2
    running = _running_keys(split) if len(pages) >= MIN_PAGES else set()
    out = []
    for lines in split:
        drop = set()
        edges = _edges(lines)
        for i in edges:
            line = lines[i].strip()
            if drop_numbers and i in (edges[0], edges[-1]) and _PAGE_NUMBER.match(line):
                drop.add(i)
            elif len(line) >= 3 and _key(line) in running:
                drop.add(i)
        if len(drop) >= len([line for line in lines if line.strip()]):
            drop = {i for i in drop if _PAGE_NUMBER.match(lines[i].strip())}  # a page that is all header: keep it
        out.append("\n".join(line for i, line in enumerate(lines) if i not in drop).strip())
    return out


def is_listing(text: str) -> bool:
    """Most of the page's lines end in a page number or dot leaders (a table of contents, an index)."""
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) < 8:
        return False
    ending = sum(1 for line in lines if _ENDS_IN_PAGE.search(line))
    return ending >= LISTING_SHARE * len(lines)


def _normal(text: str) -> str:
    return " ".join(text.split()).lower()


def split_at_headings(text: str, before: str, starts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A page cut where the bookmarks that begin on it begin: (text, heading path) pieces in order.

    `before` is the heading path in force when the page starts; `starts` are the (title, path) of the
    bookmarks that begin on this page, in order. A title not found as the start of a line leaves the
    page whole under the last path that begins on it (the page's heading, as before)."""
    if not starts:
        return [(text, before)]
    lines = text.split("\n")
    cuts: list[tuple[int, str]] = []
    at = 0
    for title, path in starts:
        wanted = _normal(title)
        found = next(
            (
                i
                for i in range(at, len(lines))
                if wanted and _normal(lines[i]).startswith(wanted[: max(12, len(wanted))])
            ),
            None,
        )
        if found is None:
            return [(text, starts[-1][1])]
        cuts.append((found, path))
        at = found
    pieces: list[tuple[str, str]] = []
    heading, start = before, 0
    for line_no, path in cuts:
        piece = "\n".join(lines[start:line_no]).strip()
        if piece:
            pieces.append((piece, heading))
        heading, start = path, line_no
    tail = "\n".join(lines[start:]).strip()
    if tail:
        pieces.append((tail, heading))
    return pieces or [(text, starts[-1][1])]
