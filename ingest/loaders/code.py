"""Source code: the text, tagged with its language so the chunker cuts at functions and classes."""

from __future__ import annotations

from pathlib import Path

from core.types import Section
from ingest.loaders.errors import LoadError
from ingest.loaders.text import read_text_file

# Extension -> langchain_text_splitters.Language value (None: no language rules; split as text).
CODE_LANGUAGES: dict[str, str | None] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "js",
    ".jsx": "js",
    ".mjs": "js",
    ".cjs": "js",
    ".ts": "ts",
    ".tsx": "ts",
    ".java": "java",
    ".go": "go",
    ".rs": "rust",
    ".c": "c",
    ".h": "c",
    ".cpp": "cpp",
    ".cc": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".cs": "csharp",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".swift": "swift",
    ".scala": "scala",
    ".rb": "ruby",
    ".php": "php",
    ".lua": "lua",
    ".pl": "perl",
    ".pm": "perl",
    ".hs": "haskell",
    ".ex": "elixir",
    ".exs": "elixir",
    ".ps1": "powershell",
    ".r": "r",
    ".sol": "sol",
    ".proto": "proto",
    ".tex": "latex",
    ".sh": None,
    ".bash": None,
    ".zsh": None,
    ".sql": None,
}


def read_code(path: Path) -> list[Section]:
    text = read_text_file(path)
    if not text.strip():
        raise LoadError("no text: the file holds only whitespace")
    language = CODE_LANGUAGES.get(path.suffix.lower())
    return [Section(text=text, meta={"language": language} if language else {})]
