"""Finding documents: hidden and temp files skipped, symlinks followed once (those leaving the
folder only when asked), broken ones reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import SourceError
from ingest.loaders import LoadError, load_file
from ingest.walk import find_documents


def write(path: Path, text: str = "some text") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def sources(found) -> list[str]:
    return [f.source for f in found]


def test_hidden_and_temp_files_are_skipped_silently(tmp_path):
    for name in (
        "notes.txt",
        "sub/report.pdf",
        ".DS_Store",
        ".git/config",
        ".git/HEAD",
        "~$lock.docx",
        ".~lock.budget.xlsx#",
        "draft.txt~",
        "download.tmp",
        "sub/.hidden.md",
        "sub/Thumbs.db",
        ".venv/lib/x.py",
        "sub/~WRL0001.tmp",
    ):
        write(tmp_path / name)
    found = find_documents(tmp_path)
    assert sources(found) == ["notes.txt", "sub/report.pdf"]
    assert all(f.problem == "" and f.path.is_file() for f in found)


def test_symlinks_inside_are_followed_and_outside_only_when_asked(tmp_path):
    root, outside = tmp_path / "docs", tmp_path / "elsewhere"
    write(root / "a.txt", "alpha")
    write(outside / "b.txt", "beta from outside")
    (root / "link-to-a.txt").symlink_to(root / "a.txt")
    (root / "link-to-b.txt").symlink_to(outside / "b.txt")
    found = find_documents(root)
    assert sources(found) == ["a.txt", "link-to-a.txt", "link-to-b.txt"]
    assert [bool(f.skipped) for f in found] == [False, False, True]
    assert found[2].skipped.startswith(f"symbolic link to a file outside the folder ({outside / 'b.txt'})")
    followed = find_documents(root, follow_external_links=True)
    assert not any(f.skipped for f in followed)
    assert load_file(followed[2].path)[0].text == "beta from outside"


def test_broken_links_are_returned_with_their_reason(tmp_path):
    write(tmp_path / "ok.txt")
    (tmp_path / "gone.pdf").symlink_to(tmp_path / "missing.pdf")
    (tmp_path / "self.txt").symlink_to(tmp_path / "self.txt")
    found = {f.source: f for f in find_documents(tmp_path)}
    assert sorted(found) == ["gone.pdf", "ok.txt", "self.txt"]
    assert found["ok.txt"].problem == ""
    assert found["gone.pdf"].problem.startswith("broken symbolic link: its target")
    assert found["self.txt"].problem == "symbolic link loop: the link points back to itself"
    with pytest.raises(LoadError) as caught:  # the reader gives the same reason
        load_file(found["gone.pdf"].path)
    assert str(caught.value) == found["gone.pdf"].problem


def test_folder_links_are_followed_once_and_loops_end(tmp_path):
    root, shared = tmp_path / "docs", tmp_path / "shared"
    write(root / "top.txt")
    write(root / "inner" / "deep.txt")
    write(shared / "team.md")
    (root / "inner" / "back-to-root").symlink_to(root)  # a loop
    (root / "inner" / "up").symlink_to(root / "inner")  # a loop onto its own folder
    (root / "shared").symlink_to(shared)  # a folder outside, linked in
    (root / "shared-again").symlink_to(shared)  # the same folder twice: read once
    found = find_documents(root, follow_external_links=True)
    assert sources(found) == ["inner/deep.txt", "shared/team.md", "top.txt"]
    by_default = find_documents(root)  # links leaving the folder are skipped, with the reason
    assert [(f.source, bool(f.skipped)) for f in by_default] == [
        ("inner/deep.txt", False),
        ("shared", True),
        ("shared-again", True),
        ("top.txt", False),
    ]


def test_missing_or_file_root_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        find_documents(tmp_path / "nope")
    with pytest.raises(SourceError, match="is not a folder"):
        find_documents(write(tmp_path / "file.txt"))


def test_unsupported_files_are_still_found_for_the_report(tmp_path):
    write(tmp_path / "photo.jpeg")
    write(tmp_path / "Notes.TXT")
    assert sources(find_documents(tmp_path)) == ["Notes.TXT", "photo.jpeg"]
