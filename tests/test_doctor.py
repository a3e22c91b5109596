"""`localgpt doctor`: what it reports, and a named reason for each thing it finds missing or broken."""

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SAMPLES
from localgpt import cli


def doctor(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["doctor", "--json", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.output)


def reasons(report: dict, severity: str = "error") -> list[str]:
    return [p["reason"] for p in report["problems"] if p["severity"] == severity]


@pytest.fixture
def private_copy(sample_db, tmp_path) -> Path:
    """A copy of the sample index this test may change."""
    db = tmp_path / "db"
    shutil.copytree(sample_db, db)
    return db


def test_a_healthy_install_and_index(sample_db):
    from generation.backends.bundled import bundled_llm_path

    code, report = doctor("--db", str(sample_db))
    assert code == 0, report["problems"]
    assert report["ok"] is True and reasons(report) == []
    assert report["python"]["version"].startswith("3.")
    assert report["libraries"]["torch"] and report["libraries"]["llama-cpp-python"] and report["libraries"]["chromadb"]
    llm = report["llm"]
    assert llm["path"] == str(bundled_llm_path())
    assert llm["sha256"] == hashlib.sha256(bundled_llm_path().read_bytes()).hexdigest()
    assert llm["size_bytes"] == bundled_llm_path().stat().st_size
    assert isinstance(llm["llama_cpp_gpu_offload"], bool)
    embedding = report["embedding_model"]
    assert len(embedding["sha256"]) == 64 and embedding["dimensions"] == 384
    assert embedding["name"] == "all-MiniLM-L6-v2"  # by its name, not its folder's ("model")
    assert embedding["device"] in ("cpu", "cuda", "mps")
    index = report["index"]
    assert index["exists"] and index["private"]
    assert index["files"] == len([p for p in SAMPLES.iterdir() if p.is_file()])
    assert index["chunks"] > index["files"] - 1
    assert index["embedding_fingerprint"] == embedding["fingerprint"]
    assert index["last_ingest"] and index["size_on_disk"]
    assert report["system"]["free_disk_bytes"] > 0
    assert report["offline_switches"]["HF_HUB_OFFLINE"] == "1"


def test_text_output_names_sections_and_says_ok(sample_db):
    result = CliRunner().invoke(cli, ["doctor", "--db", str(sample_db)])
    assert result.exit_code == 0, result.output
    for title in ("Python", "Libraries", "Embedding model", "LLM", "Index", "System", "Offline switches"):
        assert f"\n{title}\n" in f"\n{result.output}"
    assert result.output.rstrip().endswith("OK: nothing needed is missing or broken.")
    assert "\n  name: all-MiniLM-L6-v2\n" in result.output and "name: model\n" not in result.output


@pytest.mark.slow
def test_no_index_yet_is_not_a_failure_and_nothing_is_created(tmp_path):
    db = tmp_path / "not-yet"
    code, report = doctor("--db", str(db))
    assert code == 0, report["problems"]
    assert report["index"]["exists"] is False and "ingest" in report["index"]["note"]
    assert not db.exists()


def test_llm_file_gone(sample_db, tmp_path):
    model = tmp_path / "big-model.gguf"
    model.write_bytes(b"GGUF" + b"\0" * 64)
    model.unlink()
    result = CliRunner().invoke(cli, ["doctor", "--db", str(sample_db), "--model", str(model)])
    assert result.exit_code == 1
    assert f"error [llm-missing] Model file {model} does not exist" in result.output


def test_llm_file_not_gguf(sample_db, tmp_path):
    model = tmp_path / "model.gguf"
    model.write_text("<html>a download that failed</html>")
    code, report = doctor("--db", str(sample_db), "--model", str(model))
    assert code == 1 and reasons(report) == ["llm-not-gguf"]


def test_embedding_model_folder_gone(sample_db, tmp_path):
    code, report = doctor("--db", str(sample_db), "--embedding-model", str(tmp_path / "moved-away"))
    assert code == 1 and reasons(report) == ["embedding-model-missing"]
    assert "moved-away" in report["problems"][0]["message"]


def test_embedding_model_without_weights(sample_db, tmp_path):
    from embeddings.bundled import bundled_embedding_model_path

    model = tmp_path / "half-copied"
    shutil.copytree(
        bundled_embedding_model_path(),
        model,
        ignore=lambda d, names: [n for n in names if n.endswith((".safetensors", ".bin"))],
    )
    code, report = doctor("--db", str(tmp_path / "no-index"), "--embedding-model", str(model))
    assert code == 1 and reasons(report) == ["embedding-model-broken"]


def test_index_built_with_another_embedder(sample_db, tmp_path):
    from embeddings.bundled import bundled_embedding_model_path

    other = tmp_path / "other-minilm"
    shutil.copytree(bundled_embedding_model_path(), other)
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "fine_tuned_on": "contracts"}))  # another model now
    code, report = doctor("--db", str(sample_db), "--embedding-model", str(other))
    assert code == 1 and reasons(report) == ["index-embedder-mismatch"]
    message = report["problems"][0]["message"]
    assert "other-minilm" in message and report["index"]["embedding_model"] in message


def test_index_others_can_read(private_copy):
    (private_copy / "catalog.sqlite").chmod(0o644)
    private_copy.chmod(0o755)
    code, report = doctor("--db", str(private_copy))
    assert code == 1 and reasons(report) == ["index-readable-by-others"]
    assert report["index"]["private"] is False
    message = report["problems"][0]["message"]
    assert f"{private_copy} (755)" in message and "catalog.sqlite (644)" in message
    assert f"chmod -R go-rwx {private_copy}" in message

    for path in [private_copy, *private_copy.rglob("*")]:  # the fix the message gives
        path.chmod(path.stat().st_mode & 0o700)
    code, report = doctor("--db", str(private_copy))
    assert code == 0 and report["index"]["private"] is True


@pytest.mark.slow
def test_index_damaged(tmp_path):
    db = tmp_path / "db"
    db.mkdir(mode=0o700)
    (db / "catalog.sqlite").write_bytes(os.urandom(4096))
    (db / "catalog.sqlite").chmod(0o600)
    code, report = doctor("--db", str(db))
    assert code == 1 and reasons(report) == ["index-unreadable"]
