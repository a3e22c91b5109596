"""Showing names from the disk safely: a newline or control character in a file name is
escaped (\\n, \\t, \\x1b), so it cannot break a listing or move the terminal's cursor."""

from __future__ import annotations

import unicodedata

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def shown(name: str) -> str:
    """`name` with control, format and separator characters escaped (backslashes doubled when any is)."""
    if all(_printable(ch) for ch in name):
        return name
    out = []
    for ch in name:
        if ch == "\\":
            out.append("\\\\")
        elif _printable(ch):
            out.append(ch)
        else:
            out.append(_NAMED.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"))
    return "".join(out)


def _printable(ch: str) -> bool:
    return unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp", "Cs")


def plural(count: int, word: str, many: str | None = None) -> str:
    """ "1 page", "2 pages", "0 pages"; `many` for a word whose plural is not word + "s" ("1 query", "2 queries")."""
    return f"{count} {word if count == 1 else (many or word + 's')}"
