"""`localgpt eval` on a small question set over the sample documents."""

import json

from click.testing import CliRunner

from localgpt import cli

QUESTIONS = [
    {"question": "What is the notice period in the lease?", "expected": ["sixty (60)"]},
    {"question": "How often should the kettle be descaled?", "qrels": ["kettle_manual.docx"]},
    {"query": "Where is the Epson projector?", "expected": ["Epson EB-W52", "Meeting room Atlas"], "match": "all"},
    {"question": "What is the airspeed velocity of an unladen swallow?", "expected": ["24 miles per hour"]},
]


def write_qa(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    return path


def test_eval_json_scores_every_mode(sample_db, tmp_path):
    result = CliRunner().invoke(cli, ["eval", "--db", str(sample_db), "--json", str(write_qa(tmp_path))])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["questions"] == 4
    assert set(report["modes"]) == {"dense", "bm25", "hybrid"}
    for name, mode in report["modes"].items():
        # three findable questions, one whose answer is in no document
        assert mode["recall@10"] == 0.75, name
        assert mode["missed"] == ["q4"], name
        assert 0 < mode["mrr@10"] <= 0.75 and 0 < mode["ndcg@10"] <= 0.75
        assert mode["recall@1"] <= mode["recall@5"] <= mode["recall@10"]
        assert 0 < mode["latency_ms"]["p50"] <= mode["latency_ms"]["p95"]
        assert 0 < mode["mean_passage_chars"] <= 2000  # what the hits show: passages of at most --passage-chars
    assert report["query_embedding_ms"]["p50"] > 0


def test_eval_table_and_chosen_modes(sample_db, tmp_path):
    result = CliRunner().invoke(
        cli, ["eval", "--db", str(sample_db), "--modes", "bm25,hybrid+mmr", str(write_qa(tmp_path))]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["mode", "R@1", "R@5", "R@10", "MRR@10", "nDCG@10", "chars", "p50", "ms", "p95", "ms"]
    assert [line.split()[0] for line in lines[1:3]] == ["bm25", "hybrid+mmr"]
    assert lines[1].split()[3] == "0.750"
    assert lines[3].startswith("4 questions, scored on the passages shown")


def test_eval_errors_are_one_line(sample_db, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "no judgement"}\n')
    for args, message in [
        ([str(bad)], "line 1"),
        (["--modes", "dense,magic", str(write_qa(tmp_path))], "Unknown eval mode 'magic'"),
        ([str(tmp_path / "missing.jsonl")], "Cannot read"),
    ]:
        result = CliRunner().invoke(cli, ["eval", "--db", str(sample_db), *args])
        assert result.exit_code == 1, result.output
        assert message in result.output and "Traceback" not in result.output


def test_eval_scores_the_widened_passage_and_reports_its_length(sample_db, tmp_path):
    """With passages of one chunk the figures are the chunk's; widened, they are never lower, and longer."""
    qa = str(write_qa(tmp_path))
    runs = {}
    for chars in ("0", "2000"):
        result = CliRunner().invoke(
            cli, ["eval", "--db", str(sample_db), "--json", "--modes", "bm25", "--passage-chars", chars, qa]
        )
        assert result.exit_code == 0, result.output
        runs[chars] = json.loads(result.output)["modes"]["bm25"]
    assert runs["2000"]["recall@10"] >= runs["0"]["recall@10"]
    assert runs["2000"]["mean_passage_chars"] > runs["0"]["mean_passage_chars"]


def test_eval_mlflow_without_mlflow_says_what_to_install(sample_db, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if not installed: importing it raises ImportError
    result = CliRunner().invoke(
        cli, ["eval", "--db", str(sample_db), "--mlflow", str(tmp_path / "runs"), str(write_qa(tmp_path))]
    )
    assert result.exit_code == 1
    assert "pip install 'localgpt[mlflow]'" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "runs").exists()


def test_eval_mlflow_logs_settings_and_figures_to_a_file_store(sample_db, tmp_path):
    import pytest

    pytest.importorskip("mlflow")  # an optional extra: mlflow-skinny
    runs = tmp_path / "runs"
    result = CliRunner().invoke(
        cli, ["eval", "--db", str(sample_db), "--modes", "bm25", "--mlflow", str(runs), str(write_qa(tmp_path))]
    )
    assert result.exit_code == 0, result.output
    import mlflow

    mlflow.set_tracking_uri(runs.resolve().as_uri())
    found = mlflow.search_runs(experiment_names=["localgpt-retrieval"], output_format="list")
    assert len(found) == 1
    assert found[0].data.metrics["bm25.recall_at_10"] == 0.75
    assert found[0].data.params["fusion"] == "convex"
