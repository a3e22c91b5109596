"""An index the user controls: several folders in one index, links that leave a folder,
`documents`, `remove`, exclusions and known failures, as a user sees them (the real CLI,
Chroma on disk, the bundled embedding model)."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest
from click.testing import CliRunner

from localgpt import cli


pytestmark = pytest.mark.slow  # ingests with the real embedder


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def ingest(folder, db, *extra):
    return run("ingest", "--source-dir", folder, "--db", db, "--quiet", *extra)


def sources(db) -> dict[str, int]:
    result = run("documents", "--db", db, "--json")
    assert result.exit_code == 0, result.output
    return {d["source"]: d["chunks"] for d in json.loads(result.stdout) if d["indexed"]}


def search_sources(db, question, *extra) -> list[str]:
    result = run("search", "--db", db, "--json", "-k", "8", *extra, question)
    assert result.exit_code == 0, result.output
    return [hit["source"] for hit in json.loads(result.stdout)]


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def two_folders(tmp_path):
    office, other = tmp_path / "office", tmp_path / "other"
    write(office / "lease.txt", "The notice period of the lease is sixty days.\n")
    write(office / "notes.txt", "The kettle must be descaled every month.\n")
    write(other / "notes.txt", "The fire drill is held on the first Monday of each quarter.\n")  # same name as office's
    write(other / "budget.txt", "The travel budget for the year is 4,000 euros.\n")
    return tmp_path, office, other, tmp_path / "db"


def test_a_second_folder_is_added_never_replacing_the_first(two_folders):
    base, office, other, db = two_folders
    assert ingest(office, db).exit_code == 0
    second = ingest(other, db)
    assert second.exit_code == 0, second.output
    assert "0 removed" in second.stdout and "2 new" in second.stdout
    assert sorted(sources(db)) == ["lease.txt", "notes.txt", "other/budget.txt", "other/notes.txt"]
    # both files called notes.txt are found, each under its own source
    assert set(search_sources(db, "kettle descaled fire drill")) >= {"notes.txt", "other/notes.txt"}
    assert search_sources(db, "fire drill", "--where", "source=other/*")[0] == "other/notes.txt"

    # re-ingesting one folder touches only that folder: a deletion in `other` removes only other's file
    (other / "budget.txt").unlink()
    again = ingest(other, db)
    assert again.exit_code == 0 and "1 removed" in again.stdout and "1 unchanged" in again.stdout
    first_again = ingest(office, db)
    assert "2 unchanged" in first_again.stdout and "0 removed" in first_again.stdout
    assert sorted(sources(db)) == ["lease.txt", "notes.txt", "other/notes.txt"]


def test_documents_lists_each_file_with_its_folder_and_remove_takes_files_or_a_folder_out(two_folders):
    base, office, other, db = two_folders
    ingest(office, db)
    ingest(other, db)
    listing = run("documents", "--db", db)
    assert listing.exit_code == 0, listing.output
    lines = listing.stdout.splitlines()
    assert lines[0] == f"{office}: 2 files, 2 chunks"
    assert lines[1].startswith("  lease.txt  (1 chunk, ") and "ingested 20" in lines[1]
    assert f"{other} (sources under other/): 2 files, 2 chunks" in lines
    docs = json.loads(run("documents", "--db", db, "--json", "--folder", other, "*budget*").stdout)
    assert [(d["source"], d["folder"], d["chunks"], d["size"]) for d in docs] == [
        ("other/budget.txt", str(other), 1, (other / "budget.txt").stat().st_size)
    ]

    removed = run("remove", "--db", db, "other/budget.txt")
    assert removed.exit_code == 0, removed.output
    assert "removed: other/budget.txt" in removed.stdout and "nothing on disk was touched" in removed.stdout
    assert (other / "budget.txt").exists()
    assert "other/budget.txt" not in sources(db) and "travel budget" not in run("search", "--db", db, "budget").stdout

    nothing = run("remove", "--db", db, "no-such-file.txt", "lease.txt")
    assert nothing.exit_code == 1 and "Nothing in the index matches 'no-such-file.txt'" in nothing.output
    assert "lease.txt" in sources(db)  # nothing was removed

    folder = run("remove", "--db", db, office)
    assert folder.exit_code == 0 and f"removed folder: {office}" in folder.stdout
    assert sorted(sources(db)) == ["other/notes.txt"]
    assert (office / "lease.txt").exists()


def test_an_index_from_before_folders_were_recorded_keeps_its_files(two_folders):
    base, office, other, db = two_folders
    ingest(office, db)
    with sqlite3.connect(db / "catalog.sqlite") as sql:  # what an older version left: no folders recorded
        sql.execute("DELETE FROM roots")
        sql.execute("UPDATE files SET root = NULL")
    second = ingest(other, db)
    assert second.exit_code == 0 and "0 removed" in second.stdout
    assert sorted(sources(db)) == ["lease.txt", "notes.txt", "other/budget.txt", "other/notes.txt"]
    assert {d["folder"] for d in json.loads(run("documents", "--db", db, "--json").stdout)} == {str(office), str(other)}


def test_a_folder_inside_one_already_indexed_is_refused(two_folders):
    base, office, other, db = two_folders
    ingest(base / "office", db)
    write(office / "sub" / "a.txt", "Inner file.\n")
    inner = ingest(office / "sub", db)
    assert inner.exit_code == 1 and f"is inside {office}, which this index already holds" in inner.output


def test_links_that_leave_the_folder_are_skipped_unless_asked_for(tmp_path):
    folder, private = tmp_path / "docs", tmp_path / "private"
    write(folder / "readme.txt", "The office opens at nine.\n")
    write(private / "secrets.txt", "The admin password is hunter2.\n")
    write(private / "more" / "keys.txt", "The vault code is 4711.\n")
    write(folder / "inner" / "guide.txt", "The guide says to lock the door.\n")
    (folder / "secrets.txt").symlink_to(private / "secrets.txt")
    (folder / "more").symlink_to(private / "more", target_is_directory=True)
    (folder / "guide-link.txt").symlink_to(folder / "inner" / "guide.txt")  # inside: followed
    db = tmp_path / "db"
    result = ingest(folder, db)
    assert result.exit_code == 0, result.output
    assert "2 skipped" in result.stdout
    assert (
        f"  skipped: secrets.txt: symbolic link to a file outside the folder ({private / 'secrets.txt'}); "
        "pass --follow-external-links to read it" in result.stdout
    )
    assert "  skipped: more: symbolic link to a folder outside the folder" in result.stdout
    assert sorted(sources(db)) == ["guide-link.txt", "inner/guide.txt", "readme.txt"]
    assert "hunter2" not in run("search", "--db", db, "What is the admin password?").stdout

    followed = ingest(folder, db, "--follow-external-links")
    assert followed.exit_code == 0 and "2 new" in followed.stdout
    assert "more/keys.txt" in sources(db) and "secrets.txt" in sources(db)


def test_exclusions_keep_files_out_and_are_not_failures(tmp_path):
    folder, db = tmp_path / "docs", tmp_path / "db"
    write(folder / "report.txt", "The quarterly report shows growth.\n")
    write(folder / "drafts" / "draft.txt", "A draft about the budget.\n")
    write(folder / "scratch.log.txt", "Scratch notes.\n")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    assert ingest(folder, db).exit_code == 3  # broken.pdf fails
    assert "drafts/draft.txt" in sources(db)

    write(folder / ".localgptignore", "# not for the index\ndrafts/\nbroken.pdf\n")
    result = ingest(folder, db, "--exclude", "*.log.txt")
    assert result.exit_code == 0, result.output  # the excluded failure no longer counts
    assert "0 failed" in result.stdout and "3 excluded" in result.stdout and "2 removed" in result.stdout
    assert sorted(sources(db)) == ["report.txt"]
    report = run(
        "ingest",
        "--source-dir",
        folder,
        "--db",
        db,
        "--quiet",
        "--exclude",
        "*.log.txt",
        "--report",
        tmp_path / "r.json",
    )
    outcomes = {f["source"]: (f["status"], f["reason"]) for f in json.loads((tmp_path / "r.json").read_text())["files"]}
    assert report.exit_code == 0 and outcomes["drafts/draft.txt"][0] == "excluded"


def test_an_acknowledged_failure_stops_turning_the_exit_code_to_3_until_it_changes(tmp_path):
    folder, db = tmp_path / "docs", tmp_path / "db"
    write(folder / "ok.txt", "Fine text.\n")
    bad = folder / "scan.pdf"
    bad.write_bytes(b"%PDF-1.4 broken")
    first = ingest(folder, db, "--report", tmp_path / "r.json")
    assert first.exit_code == 3 and "  failed: scan.pdf: corrupt or unreadable PDF" in first.stdout
    assert json.loads((tmp_path / "r.json").read_text())["new_failures"] == 1
    listed = json.loads(run("documents", "--db", db, "--json", "scan.pdf").stdout)
    assert listed[0]["indexed"] is False and listed[0]["last_failure"].startswith("corrupt or unreadable PDF")
    assert "last failure: corrupt or unreadable PDF" in run("documents", "--db", db).stdout

    assert ingest(folder, db).exit_code == 3  # failing again is still new until acknowledged
    ack = run("acknowledge", "--db", db, "scan.pdf")
    assert ack.exit_code == 0 and "acknowledged: scan.pdf" in ack.stdout
    known = ingest(folder, db, "--report", tmp_path / "r.json")
    assert known.exit_code == 0, known.output
    assert "1 failed (1 known)" in known.stdout and "  failed (known): scan.pdf:" in known.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["new_failures"] == 0 and report["exit_code"] == 0

    bad.write_bytes(b"%PDF-1.4 broken differently")  # another content: a new failure again
    assert ingest(folder, db).exit_code == 3
    assert run("acknowledge", "--db", db, "nope.pdf").exit_code == 1


def test_bad_db_and_odd_names_get_clear_messages(tmp_path):
    folder = tmp_path / "docs"
    write(folder / "a.txt", "Some text.\n")
    not_a_folder = write(tmp_path / "db-file", "x")
    result = ingest(folder, not_a_folder)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: --db {not_a_folder} is a file, not a folder. Pass the folder of an index (or a new folder's name)."
    ]

    (folder / "bad\nname.pdf").write_bytes(b"not a pdf")
    db = tmp_path / "db"
    failed = ingest(folder, db)
    assert failed.exit_code == 3
    assert "  failed: bad\\nname.pdf: " in failed.stdout
    assert "bad\\nname.pdf" in run("documents", "--db", db).stdout
    assert not any(line.startswith("name.pdf") for line in run("documents", "--db", db).stdout.splitlines())
    if os.name == "posix":
        assert "\x1b" not in run("documents", "--db", db).stdout
