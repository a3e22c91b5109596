"""Validate the real-documents question sets against an ingested index.

    python benchmarks/realdocs/check.py --db DB            # check both files, print the table
    python benchmarks/realdocs/check.py --filter reworded   # print only the reworded questions (JSONL)
    python benchmarks/realdocs/check.py --collection policy # print only one collection's questions

DB is an index built with `localgpt ingest --source-dir DEST --db DB`, where DEST was
made by corpus.py. The check reads the index's catalog (DB/catalog.sqlite: every chunk's
source and text, exactly as the loaders and the splitter produced them) and, for each
answerable question:

- every field is there and well-formed (ids unique, `match` any/all, a known `type`);
- its expected strings, compared as `localgpt eval` compares them (case-insensitive,
  whitespace runs collapsed), are found per `match` inside single chunks of the named
  `source` (a string split across two chunks could never be scored as found). With
  "match": "any", an alternative may come from another file that states the same fact,
  as long as one string is in the named source and every string is somewhere;
- it prints in how many chunks of the whole index each expected string occurs: 1-3
  means that finding the string in the top k really means the right passage was found.

Every line should name its `collection` (a warning when it does not): for an answerable question the top folder of its
`source`; for an unanswerable one the collection a near-topic question is near to (a top
folder of the index), or "" for an off-topic one. Cross-collection validation groups by it.

Each unanswerable question may list `absent`: the words an answer would have to contain
(a name, a command, a figure). None of them may occur in any chunk of the index.

Exits 1 on any miss or malformed line, 0 otherwise. Pure standard library.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ANSWERABLE = HERE / "answerable.jsonl"
UNANSWERABLE = HERE / "unanswerable.jsonl"
TYPES = {"number", "name", "date", "code", "definition", "procedure", "yesno"}
MAX_EXPECTED = 80  # characters; longer strings are reported, not rejected
DISTINCTIVE = 3  # an expected string in more chunks than this is reported


def normalise(text: str) -> str:
    """As evaluation/metrics.py compares: lower case, whitespace runs collapsed."""
    return " ".join(text.split()).lower()


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows: list[tuple[str, str, int, int]] = field(default_factory=list)  # id, expected, in source, in index


def read_jsonl(path: Path, report: Report) -> list[dict]:
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        report.errors.append(f"{path}: cannot read it ({exc.strerror or exc}).")
        return items
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            report.errors.append(f"{path.name}, line {number}: not valid JSON ({exc}).")
            continue
        if not isinstance(obj, dict):
            report.errors.append(f"{path.name}, line {number}: not a JSON object.")
            continue
        obj["_line"] = number
        items.append(obj)
    return items


def _where(path: Path, obj: dict) -> str:
    return f"{path.name}, line {obj['_line']} ({obj.get('id', '?')})"


def check_answerable_fields(path: Path, items: list[dict], report: Report) -> None:
    seen = set()
    for obj in items:
        where = _where(path, obj)
        if obj.get("id") in seen:
            report.errors.append(f"{where}: duplicate id.")
        seen.add(obj.get("id"))
        for key, kind in (
            ("id", str),
            ("question", str),
            ("source", str),
            ("answer", str),
            ("reworded", bool),
            ("type", str),
        ):
            if not isinstance(obj.get(key), kind) or (kind is str and not obj[key].strip()):
                report.errors.append(f'{where}: "{key}" must be a non-empty {kind.__name__}.')
        expected = obj.get("expected")
        if (
            not isinstance(expected, list)
            or not expected
            or not all(isinstance(s, str) and s.strip() for s in expected)
        ):
            report.errors.append(f'{where}: "expected" must be a non-empty list of non-empty strings.')
            obj["expected"] = []
        if obj.get("match") not in ("any", "all"):
            report.errors.append(f'{where}: "match" must be "any" or "all".')
        if obj.get("type") not in TYPES:
            report.errors.append(f'{where}: "type" must be one of {", ".join(sorted(TYPES))}.')
        folder = top_folder(obj.get("source"))
        if "collection" not in obj:
            report.warnings.append(f'{where}: no "collection" (the top folder of its source, {folder!r}).')
        elif obj["collection"] != folder:
            report.errors.append(f'{where}: "collection" must be {folder!r}, the top folder of its source.')
        for s in obj["expected"]:
            if len(s) > MAX_EXPECTED:
                report.warnings.append(
                    f"{where}: expected string of {len(s)} characters (aim for at most {MAX_EXPECTED}): {s[:40]!r}..."
                )


def top_folder(source: object) -> str:
    return source.split("/")[0] if isinstance(source, str) and "/" in source else ""


def check_unanswerable_fields(path: Path, items: list[dict], report: Report) -> None:
    seen = set()
    for obj in items:
        where = _where(path, obj)
        if obj.get("id") in seen:
            report.errors.append(f"{where}: duplicate id.")
        seen.add(obj.get("id"))
        if not isinstance(obj.get("question"), str) or not obj["question"].strip():
            report.errors.append(f'{where}: "question" must be a non-empty string.')
        if not isinstance(obj.get("near_topic"), bool):
            report.errors.append(f'{where}: "near_topic" must be true or false.')
        collection = obj.get("collection")
        if "collection" not in obj:
            report.warnings.append(f'{where}: no "collection" (the collection it is near to, or "" when off-topic).')
        elif not isinstance(collection, str):
            report.errors.append(f'{where}: "collection" must be a string (the collection it is near to, or "").')
        elif (collection == "") == (obj.get("near_topic") is True):
            report.errors.append(
                f'{where}: "collection" must name the collection a near-topic question is near to, '
                f'and be "" for an off-topic one.'
            )
        absent = obj.get("absent", [])
        if not isinstance(absent, list) or not all(isinstance(s, str) and s.strip() for s in absent):
            report.errors.append(f'{where}: "absent" must be a list of non-empty strings.')
            obj["absent"] = []


def load_chunks(db: Path) -> list[tuple[str, str]]:
    """(source, normalised text) of every chunk in the index's catalog."""
    catalog = db / "catalog.sqlite"
    if not catalog.is_file():
        raise SystemExit(
            f"error: {catalog} does not exist. Ingest the collection first: localgpt ingest --source-dir DEST --db {db}"
        )
    con = sqlite3.connect(f"{catalog.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return [
            (source, normalise(text))
            for source, text in con.execute("SELECT source, text FROM chunks ORDER BY source, chunk_index")
        ]
    finally:
        con.close()


def _is_source(chunk_source: str, named: str) -> bool:
    return chunk_source == named or chunk_source.endswith("/" + named)


def check_answerable_texts(path: Path, items: list[dict], chunks: list[tuple[str, str]], report: Report) -> None:
    sources = {s for s, _ in chunks}
    for obj in items:
        where = _where(path, obj)
        named = obj.get("source", "")
        if not any(_is_source(s, named) for s in sources):
            report.errors.append(f"{where}: no chunk of the index comes from {named!r}; is it in the collection?")
            continue
        found = []
        for s in obj["expected"]:
            wanted = normalise(s)
            in_source = sum(1 for src, text in chunks if wanted in text and _is_source(src, named))
            in_index = sum(1 for _, text in chunks if wanted in text)
            report.rows.append((obj["id"], s, in_source, in_index))
            found.append(in_source > 0)
            if in_index == 0:
                report.errors.append(f"{where}: {s!r} is in no chunk of the index.")
            elif in_source == 0 and obj.get("match") == "all":
                report.errors.append(f"{where}: {s!r} is in no chunk of {named}.")
            elif in_index > DISTINCTIVE:
                report.warnings.append(
                    f"{where}: {s!r} is in {in_index} chunks of the index (aim for 1-{DISTINCTIVE})."
                )
        if obj["expected"] and obj.get("match") == "any" and not any(found):
            report.errors.append(f"{where}: none of its expected strings is in a chunk of {named}.")


def check_unanswerable_texts(path: Path, items: list[dict], chunks: list[tuple[str, str]], report: Report) -> None:
    folders = {top_folder(src) for src, _ in chunks}
    for obj in items:
        collection = obj.get("collection")
        if isinstance(collection, str) and collection and collection not in folders:
            report.errors.append(
                f"{_where(path, obj)}: collection {collection!r} is not a top folder of the index "
                f"({', '.join(sorted(folders))})."
            )
        for s in obj.get("absent", []):
            wanted = normalise(s)
            hits = sorted({src for src, text in chunks if wanted in text})
            if hits:
                report.errors.append(
                    f"{_where(path, obj)}: {s!r} occurs in the collection ({', '.join(hits[:3])}); "
                    f"check that the collection really does not answer it."
                )


def summary(answerable: list[dict], unanswerable: list[dict], report: Report) -> str:
    by_folder = Counter(o.get("source", "").split("/")[0] for o in answerable)
    by_type = Counter(o.get("type") for o in answerable)
    reworded = sum(1 for o in answerable if o.get("reworded") is True)
    near = sum(1 for o in unanswerable if o.get("near_topic") is True)
    spread = Counter(min(n, 4) for _, _, _, n in report.rows)
    collections = sorted({o.get("collection") or "" for o in answerable + unanswerable} - {""})
    per_collection = [
        f"  {c}: answerable {sum(1 for o in answerable if o.get('collection') == c)} "
        f"({sum(1 for o in answerable if o.get('collection') == c and o.get('reworded') is True)} reworded / "
        f"{sum(1 for o in answerable if o.get('collection') == c and o.get('reworded') is False)} literal), "
        f"unanswerable near it {sum(1 for o in unanswerable if o.get('collection') == c)}"
        for c in collections
    ]
    return "\n".join(
        [
            f"answerable: {len(answerable)} ({reworded} reworded, {len(answerable) - reworded} not), from "
            f"{len({o.get('source') for o in answerable})} files: "
            + ", ".join(f"{k} {v}" for k, v in sorted(by_folder.items())),
            "  types: " + ", ".join(f"{k} {v}" for k, v in sorted(by_type.items(), key=lambda kv: str(kv[0]))),
            "  expected strings by chunks of the index holding them: "
            + ", ".join(f"{'4+' if k == 4 else k}: {spread[k]}" for k in range(5)),
            f"unanswerable: {len(unanswerable)} ({near} near the collection's topics, {len(unanswerable) - near} off-topic)",
            "by collection:",
            *per_collection,
        ]
    )


def filtered(path: Path, which: str | None, collections: list[str] | None = None) -> list[str]:
    """The lines of PATH whose questions are reworded (which='reworded') or not ('literal'),
    any of them when `which` is None; only those of `collections` when given."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        if which is not None and obj.get("reworded") is not (which == "reworded"):
            continue
        if collections and obj.get("collection") not in collections:
            continue
        lines.append(line)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="the index the collection was ingested into")
    parser.add_argument("--answerable", type=Path, default=ANSWERABLE)
    parser.add_argument("--unanswerable", type=Path, default=UNANSWERABLE)
    parser.add_argument(
        "--filter",
        choices=("reworded", "literal"),
        help="print only the answerable questions that are reworded (or not), as JSONL, and exit",
    )
    parser.add_argument(
        "--collection",
        action="append",
        metavar="NAME",
        help="print only the answerable questions of this collection (repeat for several), as JSONL, and exit; "
        "combines with --filter",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="print every expected string with its chunk counts"
    )
    args = parser.parse_args(argv)
    if args.filter or args.collection:
        print("\n".join(filtered(args.answerable, args.filter, args.collection)))
        return 0
    if not args.db:
        parser.error("--db is required (or --filter, --collection)")
    report = Report()
    answerable = read_jsonl(args.answerable, report)
    unanswerable = read_jsonl(args.unanswerable, report)
    check_answerable_fields(args.answerable, answerable, report)
    check_unanswerable_fields(args.unanswerable, unanswerable, report)
    chunks = load_chunks(args.db)
    check_answerable_texts(args.answerable, answerable, chunks, report)
    check_unanswerable_texts(args.unanswerable, unanswerable, chunks, report)
    if args.verbose:
        print(f"{'id':<9}{'source':>7}{'index':>7}  expected")
        for qid, s, in_source, in_index in report.rows:
            print(f"{qid:<9}{in_source:>7}{in_index:>7}  {s}")
    print(f"index: {len(chunks)} chunks from {len({s for s, _ in chunks})} files")
    print(summary(answerable, unanswerable, report))
    for w in report.warnings:
        print(f"warning: {w}")
    for e in report.errors:
        print(f"error: {e}")
    print(f"{len(report.errors)} errors, {len(report.warnings)} warnings")
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
