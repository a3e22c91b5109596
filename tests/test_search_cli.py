"""`localgpt search` as a user runs it, against the sample documents."""

import json

from click.testing import CliRunner

from localgpt import cli


def run(*args):
    return CliRunner().invoke(cli, list(args))  # click 8.2+: .stdout without stderr, .output both


def search_json(db, *args):
    result = run("search", "--db", str(db), "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_search_prints_ranked_passages_with_source_page_and_text(sample_db):
    result = run("search", "--db", str(sample_db), "-k", "2", "What is the notice period in the lease?")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1. lease_agreement.pdf, page 2  (score ")
    assert "sixty (60)" in result.stdout
    assert any(line.startswith("2. ") for line in lines)
    assert not any(line.startswith("3. ") for line in lines)


def test_search_json_is_one_array_with_full_text(sample_db):
    hits = search_json(sample_db, "-k", "3", "How often should the kettle be descaled?")
    assert [h["rank"] for h in hits] == [1, 2, 3]
    top = hits[0]
    assert top["source"] == "kettle_manual.docx"
    assert {"score", "relevance", "chunk_id", "source", "location", "citation", "text", "passage"} <= set(top)
    assert scores_descend(hits)


def test_each_hit_carries_its_passage_with_the_matched_chunk_inside(sample_db):
    for mode in ("dense", "bm25", "hybrid"):
        hits = search_json(sample_db, "--mode", mode, "-k", "4", "How often should the kettle be descaled?")
        for hit in hits:
            passage = hit["passage"]
            assert passage["text"][passage["start"] : passage["end"]] == hit["text"]
            assert len(passage["text"]) <= 2000 or passage["text"] == hit["text"]
            first, last = passage["chunk_indexes"]
            assert first <= hit["chunk_index"] <= last
        # k distinct passages: no hit lies inside a better hit's passage
        for n, hit in enumerate(hits):
            assert not any(
                o["source"] == hit["source"]
                and o["passage"]["chunk_indexes"][0] <= hit["chunk_index"] <= o["passage"]["chunk_indexes"][1]
                for o in hits[:n]
            )
    alone = search_json(sample_db, "--passage-chars", "0", "-k", "2", "kettle")
    assert all("passage" not in h for h in alone)


def scores_descend(hits):
    return [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_bm25_mode_finds_an_exact_name_in_a_table(sample_db):
    hits = search_json(sample_db, "--mode", "bm25", "-k", "1", "Epson EB-W52")
    assert hits[0]["source"] == "office_inventory.csv"
    assert "Epson EB-W52" in hits[0]["text"]


def test_where_restricts_to_matching_files(sample_db):
    hits = search_json(sample_db, "--where", "source=*.md", "-k", "5", "What is the notice period in the lease?")
    assert hits and {h["source"] for h in hits} == {"team_handbook.md"}
    hits = search_json(
        sample_db, "--where", "source=lease_agreement.pdf", "--where", "page=1", "--mode", "hybrid", "rent"
    )
    assert hits and all(h["source"] == "lease_agreement.pdf" and h["page"] == 1 for h in hits)
    assert search_json(sample_db, "--where", "source=contracts/*", "rent") == []
    text = run("search", "--db", str(sample_db), "--where", "source=contracts/*", "rent")
    assert text.exit_code == 0 and "No passages found." in text.stdout


def test_mmr_flag_and_hybrid_mode_run(sample_db):
    hits = search_json(sample_db, "--mode", "hybrid", "--mmr", "-k", "4", "kettle")
    assert len(hits) == 4 and len({h["chunk_id"] for h in hits}) == 4


def test_bad_options_are_one_line_errors(sample_db, tmp_path):
    for args, message in [
        (("--mode", "fuzzy"), "Unknown search mode 'fuzzy'"),
        (("--where", "contracts"), "KEY=VALUE"),
        (("--reranker", str(tmp_path / "none")), "Reranker folder"),
    ]:
        result = run("search", "--db", str(sample_db), *args, "rent")
        assert result.exit_code == 1, result.output
        assert message in result.output
        assert "Traceback" not in result.output
    result = run("search", "--db", str(tmp_path / "empty"), "rent")
    assert result.exit_code == 1 and "localgpt ingest" in result.output
