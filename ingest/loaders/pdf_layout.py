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
    """Keys of edge lines that are running headers or footers:

    - recurring on MIN_REPEATS pages or more with at most one number changing ("122 gnuplot 5.4
      Sampling" / "124 gnuplot 5.4 Sampling"); a line whose several numbers change ("Section 5:
      setting 5 controls valve 5") is content;
    - or on two pages or more with one number that follows the page number ("Chapter 7: Reading
      data 34" on page 40 and "... 36" on page 42): a short chapter's own header.
    """
    seen: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
    for page, lines in enumerate(split):
        for i in _edges(lines):
            line = lines[i].strip()
            if len(line) >= 3:
                seen.setdefault(_key(line), []).append((page, tuple(re.findall(r"\d+", line))))
    running = set()
    for key, found in seen.items():
        pages = {page for page, _ in found}
        if len(pages) < 2:
            continue
        columns = list(zip(*(numbers for _, numbers in found)))
        changing = [c for c in columns if len(set(c)) > 1]
        if len(changing) > 1:
            continue
        if len(pages) >= MIN_REPEATS:
            running.add(key)
        elif changing and len({int(n) - page for n, (page, _) in zip(changing[0], found)}) == 1:
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


# A section number before a heading's title: "7.2 ", "A.1 ", "Chapter 7: ", "Appendix B ".
_NUMBERING = re.compile(r"^\s*(?:(?:chapter|appendix|section|part)\s+)?(?:[A-Z]|\d+)(?:\.\d+)*[.:]?\s+", re.IGNORECASE)


def _starts_section(line: str, title: str) -> bool:
    """The line is the heading `title` (normalised), with or without its section number."""
    line = _normal(line)
    return line.startswith(title) or _normal(_NUMBERING.sub("", line)).startswith(title)


def split_at_headings(text: str, before: str, starts: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A page cut where the bookmarks that begin on it begin: (text, heading path) pieces in order.

    `before` is the heading path in force when the page starts; `starts` are the (title, path) of the
    bookmarks that begin on this page, in order. A title not found as the start of a line is passed
    over; when none is found, the page stays whole under the last path that begins on it."""
    if not starts:
        return [(text, before)]
    lines = text.split("\n")
    cuts: list[tuple[int, str]] = []
    at = 0
    for title, path in starts:
        wanted = _normal(_NUMBERING.sub("", title))
        found = next((i for i in range(at, len(lines)) if wanted and _starts_section(lines[i], wanted)), None)
        if found is not None:
            cuts.append((found, path))
            at = found
    if not cuts:
        return [(text, starts[-1][1])]
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
    return pieces
