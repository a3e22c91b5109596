"""The real-documents dev set (benchmarks/realdocs): its files are well-formed, and its
checker finds expected strings in a real index's chunks and fails when they are not there."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from evaluation.qa import load_qa

HERE = Path(__file__).resolve().parent.parent / "benchmarks" / "realdocs"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(f"realdocs_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


check = _module("check")
corpus = _module("corpus")


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_committed_question_files_are_well_formed_and_big_enough():
    report = check.Report()
    answerable = check.read_jsonl(check.ANSWERABLE, report)
    unanswerable = check.read_jsonl(check.UNANSWERABLE, report)
    check.check_answerable_fields(check.ANSWERABLE, answerable, report)
    check.check_unanswerable_fields(check.UNANSWERABLE, unanswerable, report)
    assert report.errors == []
    assert len(answerable) >= 300 and len(unanswerable) >= 80
    assert sum(o["reworded"] for o in answerable) * 2 > len(answerable)
    assert sum(o["near_topic"] for o in unanswerable) * 2 >= len(unanswerable)
    collections = {name.split("/")[0] for name in corpus.SELECTION}
    assert {o["source"].split("/")[0] for o in answerable} == collections
    assert all(o["collection"] == o["source"].split("/")[0] for o in answerable)
    assert all(o["collection"] in collections if o["near_topic"] else o["collection"] == "" for o in unanswerable)
    for new in ("licenses", "policy", "fhs", "install"):  # the collections added for issue 25
        assert sum(o["collection"] == new for o in answerable) >= 60, new
    assert all(o["source"] in corpus.SELECTION for o in answerable), "every source is a file corpus.py copies"
    assert len(load_qa(check.ANSWERABLE)) == len(answerable)  # what `localgpt eval` reads


def test_filter_splits_reworded_from_literal(capsys):
    total = len(check.read_jsonl(check.ANSWERABLE, check.Report()))
    counts = []
    for which in ("reworded", "literal"):
        assert check.main(["--filter", which]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert all(json.loads(line)["reworded"] is (which == "reworded") for line in lines)
        counts.append(len(lines))
    assert sum(counts) == total


def _question(**overrides) -> dict:
    return {
        "id": "t-1",
        "question": "How long is the notice period?",
        "expected": ["sixty (60) days"],
        "match": "any",
        "reworded": False,
        "source": "lease_agreement.pdf",
        "answer": "60 days.",
        "type": "number",
        **overrides,
    }


def test_check_passes_on_a_real_index_and_fails_on_a_miss(sample_db, tmp_path, capsys):
    unanswerable = _write(
        tmp_path / "u.jsonl",
        [{"id": "u-1", "question": "Capital of Australia?", "near_topic": False, "absent": ["Canberra"]}],
    )
    good = _write(tmp_path / "good.jsonl", [_question()])
    assert (
        check.main(["--db", str(sample_db), "--answerable", str(good), "--unanswerable", str(unanswerable), "-v"]) == 0
    )
    out = capsys.readouterr().out
    assert "0 errors" in out and "sixty (60) days" in out

    wrong_source = _write(tmp_path / "wrong.jsonl", [_question(source="team_handbook.md")])
    assert (
        check.main(["--db", str(sample_db), "--answerable", str(wrong_source), "--unanswerable", str(unanswerable)])
        == 1
    )
    assert "t-1" in capsys.readouterr().out

    invented = _write(tmp_path / "invented.jsonl", [_question(expected=["ninety (90) days"])])
    assert check.main(["--db", str(sample_db), "--answerable", str(invented), "--unanswerable", str(unanswerable)]) == 1
    assert "none of its expected strings" in capsys.readouterr().out


def test_check_fails_when_an_unanswerable_question_is_answered(sample_db, tmp_path, capsys):
    good = _write(tmp_path / "good.jsonl", [_question()])
    answered = _write(
        tmp_path / "u.jsonl",
        [{"id": "u-1", "question": "What is the notice period?", "near_topic": True, "absent": ["sixty (60) days"]}],
    )
    assert check.main(["--db", str(sample_db), "--answerable", str(good), "--unanswerable", str(answered)]) == 1
    assert "occurs in the collection (lease_agreement.pdf)" in capsys.readouterr().out


def test_corpus_follows_links_inside_the_extracted_package(tmp_path):
    (tmp_path / "usr/share/R/doc/manual").mkdir(parents=True)
    (tmp_path / "usr/share/R/doc/manual/R-intro.pdf").write_bytes(b"%PDF")
    (tmp_path / "usr/share/doc/r-doc-pdf/manual").mkdir(parents=True)
    (tmp_path / "usr/share/doc/r-doc-pdf/manual/R-intro.pdf").symlink_to("../../../R/doc/manual/R-intro.pdf")
    (tmp_path / "usr/share/doc/r-doc-pdf/manual/abs.pdf").symlink_to("/usr/share/R/doc/manual/R-intro.pdf")
    for name in ("R-intro.pdf", "abs.pdf"):
        found = corpus._inside(tmp_path, f"usr/share/doc/r-doc-pdf/manual/{name}")
        assert found.read_bytes() == b"%PDF"


def test_corpus_names_the_missing_package(tmp_path):
    with pytest.raises(corpus.CorpusError, match="No r-doc-pdf_"):
        corpus.find_debs(tmp_path)


def test_check_rejects_a_collection_other_than_the_source_folder():
    report = check.Report()
    rows = [
        {**_question(id="t-1", source="python/json.html", collection="python"), "_line": 1},
        {**_question(id="t-2", source="python/json.html", collection="r"), "_line": 2},
    ]
    check.check_answerable_fields(Path("a.jsonl"), rows, report)
    assert [e for e in report.errors if "collection" in e] == [
        "a.jsonl, line 2 (t-2): \"collection\" must be 'python', the top folder of its source."
    ]
    report = check.Report()
    rows = [
        {"id": "u-1", "question": "MySQL's port?", "near_topic": True, "collection": "postgresql", "_line": 1},
        {"id": "u-2", "question": "MySQL's port?", "near_topic": True, "collection": "", "_line": 2},
        {"id": "u-3", "question": "Capital of Australia?", "near_topic": False, "collection": "r", "_line": 3},
    ]
    check.check_unanswerable_fields(Path("u.jsonl"), rows, report)
    assert [e.split(":")[0] for e in report.errors] == ["u.jsonl, line 2 (u-2)", "u.jsonl, line 3 (u-3)"]


def test_collection_option_prints_only_that_collection(capsys):
    assert check.main(["--collection", "licenses", "--collection", "fhs", "--filter", "literal"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows and {o["collection"] for o in rows} == {"licenses", "fhs"}
    assert not any(o["reworded"] for o in rows)
