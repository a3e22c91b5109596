"""The opt-in int8 embedding model: close to the float32 vectors, cached like the float export,
and an index built with it keeps that precision (queries follow it; a mismatch is refused)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from localgpt import cli
from tests.conftest import SAMPLES
from tests.test_embeddings_onnx import TEXTS

QUESTION = "What is the notice period in the lease?"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def both(cache):
    from embeddings import Embedder
    from embeddings.bundled import bundled_embedding_model_path

    path = bundled_embedding_model_path()
    exact = Embedder(path, backend="onnx", onnx_cache=cache)
    small = Embedder(path, onnx_cache=cache, precision="int8")
    return exact, small


@pytest.mark.slow
def test_int8_vectors_stay_close_to_float32_and_rank_alike(both):
    exact, small = both
    passages = TEXTS[1:4]
    float_vectors, int8_vectors = exact.embed(TEXTS), small.embed(TEXTS)
    assert small.backend == "onnx" and small.precision == "int8"
    cosine = (float_vectors * int8_vectors).sum(axis=1)
    assert cosine.min() >= 0.95, cosine.min()
    assert cosine.mean() >= 0.98, cosine.mean()
    assert not np.allclose(float_vectors, int8_vectors, atol=1e-3)  # it is really another model
    assert np.allclose(np.linalg.norm(int8_vectors, axis=1), 1.0, atol=1e-5)
    for question, best in ((QUESTION, 0), ("How do I clean limescale from the kettle?", 1)):
        scores = [small.embed([question])[0] @ v for v in small.embed(passages)]
        assert int(np.argmax(scores)) == best


@pytest.mark.slow
def test_int8_export_is_cached_beside_the_float_one(both, cache):
    from embeddings import Embedder
    from embeddings.bundled import bundled_embedding_model_path
    from embeddings.onnx_backend import export_dir

    exact, small = both
    small.embed(["warm"])
    names = sorted(p.name for p in cache.iterdir())
    assert names == [
        export_dir(cache, exact.info.fingerprint).name,
        export_dir(cache, exact.info.fingerprint, "int8").name,
    ]  # no temporary folders left
    model = cache / names[1] / "model.onnx"
    assert model.stat().st_size < (cache / names[0] / "model.onnx").stat().st_size / 3  # 8-bit weights
    stamp = model.stat().st_mtime_ns
    Embedder(bundled_embedding_model_path(), onnx_cache=cache, precision="int8").embed(["again"])
    assert model.stat().st_mtime_ns == stamp


def test_int8_needs_the_onnx_backend():
    from core.errors import ModelLoadError
    from embeddings import Embedder
    from embeddings.bundled import bundled_embedding_model_path

    with pytest.raises(ModelLoadError, match="int8 embeddings run only on the ONNX backend"):
        Embedder(bundled_embedding_model_path(), backend="torch", precision="int8").embed(["x"])
    with pytest.raises(ModelLoadError, match="Unknown embedding precision 'int4'"):
        Embedder(bundled_embedding_model_path(), precision="int4")


def run(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env)


@pytest.mark.slow
def test_an_index_keeps_the_precision_that_built_it(tmp_path, cache):
    db, env = tmp_path / "db", {"LOCALGPT_ONNX_CACHE": str(cache)}
    built = run(
        "ingest", "--source-dir", str(SAMPLES), "--db", str(db), "--embedding-precision", "int8", "--quiet", env=env
    )
    assert built.exit_code == 0, built.output

    # a query with the default (auto) embeds the question with the index's int8 model
    found = run("search", "--db", str(db), "--json", "-k", "1", "--mode", "dense", QUESTION, env=env)
    assert found.exit_code == 0, found.output
    (hit,) = json.loads(found.stdout)
    assert hit["source"] == "lease_agreement.pdf" and hit["page"] == 2

    # asking for the other precision is refused with what to do
    refused = run("search", "--db", str(db), QUESTION, env={**env, "LOCALGPT_EMBEDDING_PRECISION": "float32"})
    assert refused.exit_code != 0
    assert "built with int8 embeddings" in refused.output and "auto" in refused.output
    again = run("ingest", "--source-dir", str(SAMPLES), "--db", str(db), "--embedding-precision", "float32", env=env)
    assert again.exit_code != 0 and "built with int8 embeddings" in again.output

    # a later ingest with the default keeps int8
    rerun = run("ingest", "--source-dir", str(SAMPLES), "--db", str(db), env=env)
    assert rerun.exit_code == 0, rerun.output
    assert "0 new, 0 changed, 4 unchanged" in rerun.output
