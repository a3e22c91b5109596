"""What a user sees from `ingest` and `ask`: answers with sources, and one-line errors."""

import json

from click.testing import CliRunner

from localgpt import cli


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_ingest_missing_folder_is_one_line_and_nonzero(tmp_path):
    result = run("ingest", "--source-dir", str(tmp_path / "nope"), "--db", str(tmp_path / "db"))
    assert result.exit_code != 0
    assert "does not exist" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_ingest_empty_folder_says_what_to_do(tmp_path):
    (tmp_path / "docs").mkdir()
    result = run("ingest", "--source-dir", str(tmp_path / "docs"), "--db", str(tmp_path / "db"))
    assert result.exit_code != 0
    assert "No documents to ingest" in result.output
    assert "Traceback" not in result.output


def test_ask_before_any_ingest_says_to_ingest(tmp_path):
    result = run("ask", "--db", str(tmp_path / "db"), "What is the rent?")
    assert result.exit_code != 0
    assert "localgpt ingest" in result.output
    assert "Traceback" not in result.output


def test_ask_retrieves_the_right_file_and_page(sample_db):
    result = run("ask", "--db", str(sample_db), "--json", "What is the notice period in the lease?")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)  # stdout alone: warnings go to stderr
    top = answer["passages"][0]
    assert top["source"] == "lease_agreement.pdf"
    assert top["page"] == 2
    assert "sixty (60)" in top["text"]


def test_ask_streams_an_answer_then_sources(sample_db):
    result = run("ask", "--db", str(sample_db), "How often should the kettle be descaled?")
    assert result.exit_code == 0, result.output
    assert "Sources" in result.output
    assert "kettle_manual.docx" in result.output


def test_asking_with_another_embedding_model_is_refused(sample_db, tmp_path):
    import shutil

    from embeddings.bundled import bundled_embedding_model_path

    other = tmp_path / "other-model"
    shutil.copytree(bundled_embedding_model_path(), other)
    config = json.loads((other / "sentence_bert_config.json").read_text())
    config["max_seq_length"] = 128  # a different model, as far as the index can tell
    (other / "sentence_bert_config.json").write_text(json.dumps(config))
    result = run("ask", "--db", str(sample_db), "--embedding-model", str(other), "What is the rent?")
    assert result.exit_code != 0
    assert "was built with the embedding model" in result.output
