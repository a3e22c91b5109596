"""The index: what is in it, what built it, how big it is, when it was last written, who can read it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from core.errors import LocalGPTError
from doctor.report import WARNING, Problem, human_bytes
from index import index_exists, open_index, precision_of
from index.permissions import exposed_paths
from watch.status import describe, read_status


def _size(db: Path) -> int:
    return sum(p.stat().st_size for p in db.rglob("*") if p.is_file() and not p.is_symlink())


def _when(value: str | None) -> str | None:
    try:
        return dt.datetime.fromtimestamp(float(value)).astimezone().isoformat(timespec="seconds") if value else None
    except ValueError:
        return value


def _lexical_facts(index) -> str:
    from index.catalog import TANTIVY

    if index.catalog.lexical_engine() != TANTIVY:
        return "FTS5 (an index from before Tantivy)"
    held, chunks = index.words.count(), index.catalog.chunk_count()
    pending = len(index.catalog.lexical_changes())
    if not index.words.exists() and chunks:
        return f"Tantivy, missing ({chunks} chunks to index)"
    if pending or held != chunks:
        return f"Tantivy, behind: {held} of {chunks} chunks, {pending} changes not taken in"
    return f"Tantivy, {held} chunks, in step"


def _what_built_it(index, info: dict[str, str]) -> dict[str, object]:
    """What any index says of itself: how much it holds, what built it, when."""
    return {
        "files": index.catalog.file_count(),
        "chunks": index.catalog.chunk_count(),
        "embedding_model": info.get("embedding_model"),
        "embedding_fingerprint": info.get("embedding_fingerprint"),
        "embedding_precision": precision_of(info),
        "chunk_tokens": info.get("chunk_tokens"),
        "created": _when(info.get("created_at")),
        "last_ingest": _when(info.get("last_ingest")),
    }


def database_index_facts(url: str, password_file: str = "") -> tuple[dict[str, object], list[Problem]]:
    """The index in a PostgreSQL database (`--index-url`): where, what it holds, what built it."""
    from index.pg_connect import parse_index_url

    try:
        shown = parse_index_url(url, password_file).shown
        facts: dict[str, object] = {"location": shown, "exists": index_exists("", url, password_file)}
    except LocalGPTError as exc:
        return {"location": "PostgreSQL (unreachable)"}, [Problem("index-unreachable", str(exc))]
    if not facts["exists"]:
        facts["note"] = "no index yet: `localgpt ingest --source-dir FOLDER --index-url URL` makes one"
        return facts, []
    try:
        index = open_index("", index_url=url, password_file=password_file)
    except LocalGPTError as exc:
        return facts, [Problem("index-unreachable", str(exc))]
    try:
        info = index.catalog.info()
        facts.update(
            **_what_built_it(index, info),
            vectors=index.vectors.count(),
            schema=info.get("pg_schema"),
            lexical_index="PostgreSQL: BM25 over each chunk's terms, written with the chunk",
            pending_writes=len(index.catalog.pending()),
        )
    finally:
        index.close()
    return facts, []


def index_facts(
    db: Path, fingerprint: str | None, embedding_name: str | None, index_url: str = "", password_file: str = ""
) -> tuple[dict[str, object], list[Problem]]:
    if index_url:
        facts, problems = database_index_facts(index_url, password_file)
        return facts, [*problems, *_embedder_problems(facts, fingerprint, embedding_name, "--index-url")]
    db = Path(db).expanduser()
    facts: dict[str, object] = {"path": str(db.absolute()), "exists": index_exists(db)}
    if not facts["exists"]:
        facts["note"] = f"no index yet: `localgpt ingest --source-dir FOLDER --db {db}` makes one"
        return facts, []
    problems: list[Problem] = []
    exposed = exposed_paths(db)
    facts["private"] = not exposed
    if exposed:
        shown = ", ".join(f"{path} ({oct(mode)[2:]})" for path, mode in exposed[:3])
        more = f" and {len(exposed) - 3} more" if len(exposed) > 3 else ""
        problems.append(
            Problem(
                "index-readable-by-others",
                f"Others can read or change the index, which holds your documents' text: {shown}{more}. "
                f"Run `chmod -R go-rwx {db}` (an ingest also fixes it).",
            )
        )
    try:
        index = open_index(db)
    except LocalGPTError as exc:
        return facts, [*problems, Problem("index-unreadable", str(exc))]
    except Exception as exc:  # noqa: BLE001 - a damaged store fails in many ways inside Chroma or SQLite
        return facts, [
            *problems,
            Problem("index-unreadable", f"The index at {db} cannot be opened ({exc}). Ingest into a new --db."),
        ]
    try:
        info = index.catalog.info()
        lexical = _lexical_facts(index)
        watcher = read_status(db)
        facts.update(
            **_what_built_it(index, info),
            size_on_disk=human_bytes(_size(db)),
            last_source_dir=info.get("source_dir"),
            vectors=(
                f"Chroma server {info.get('chroma_url')}, collection {info.get('chroma_collection')}"
                if info.get("vector_store") == "server"
                else "in the index folder"
            ),
            lexical_index=lexical,
            watcher=describe(watcher),
        )
        if watcher is not None and not watcher.running and watcher.state != "stopped":
            problems.append(
                Problem(
                    "watcher-killed",
                    f"The watcher of {db} (pid {watcher.pid}) ended without stopping: changes since are not in "
                    f"the index. Start it again (`localgpt watch --db {db}`, or serve --watch); it catches up.",
                    WARNING,
                )
            )
        if lexical.startswith("FTS5"):
            problems.append(
                Problem(
                    "index-lexical-old",
                    f"The index at {db} searches words with SQLite FTS5, slow past ~100k chunks. The next "
                    f"`localgpt ingest --db {db}` builds its Tantivy index once (docs/retrieval.md).",
                    WARNING,
                )
            )
        elif "behind" in lexical or "missing" in lexical:
            problems.append(
                Problem(
                    "index-lexical-behind",
                    f"The index at {db}: its lexical index is {lexical}. The next `localgpt ingest --db {db}` "
                    "brings it up to date (an interrupted ingest leaves it so).",
                    WARNING,
                )
            )
    finally:
        index.close()
    return facts, [*problems, *_embedder_problems(facts, fingerprint, embedding_name, f"--db {db}")]


def _embedder_problems(facts: dict, fingerprint: str | None, embedding_name: str | None, where: str) -> list[Problem]:
    recorded = facts.get("embedding_fingerprint")
    if recorded and fingerprint and recorded != fingerprint:
        return [
            Problem(
                "index-embedder-mismatch",
                f"The index ({where}) was built with the embedding model {facts['embedding_model']!r} "
                f"(fingerprint {recorded}); the one in use is {embedding_name!r} (fingerprint {fingerprint}). "
                "Pass the --embedding-model that built it, or ingest into a new index.",
            )
        ]
    return []
