"""What the user does not want indexed: a `.localgptignore` file in the folder (gitignore syntax,
read with `pathspec`) and `--exclude GLOB` patterns (the same syntax). Excluded files are not
read and are not failures; one already in the index leaves it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pathspec

from core.errors import SourceError

IGNORE_FILE = ".localgptignore"


@dataclass(frozen=True)
class Exclusions:
    spec: pathspec.PathSpec | None = None

    def excludes(self, relative: str) -> bool:
        """Whether the path relative to the folder (forward slashes) is excluded."""
        return bool(self.spec and self.spec.match_file(relative))


def load_exclusions(folder: Path, patterns: Sequence[str] = ()) -> Exclusions:
    lines: list[str] = []
    ignore = Path(folder) / IGNORE_FILE
    if ignore.is_file():
        try:
            lines += ignore.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(f"Cannot read {ignore}: {exc}. Fix or delete the file.") from None
    lines += [p for p in patterns if p.strip()]
    if not lines:
        return Exclusions()
    try:
        return Exclusions(pathspec.GitIgnoreSpec.from_lines(lines))
    except (ValueError, TypeError) as exc:  # pathspec raises GitWildMatchPatternError (a ValueError)
        raise SourceError(f"A bad exclusion pattern (in {ignore} or --exclude): {exc}") from None
