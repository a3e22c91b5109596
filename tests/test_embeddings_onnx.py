"""The CPU backends (OpenVINO, the default, and ONNX Runtime) give torch's vectors (cosine >= 1 - 1e-3),
the model is exported once into its cache (atomically), and the backend does not change the index
fingerprint."""

from __future__ import annotations

import numpy as np
import pytest

TEXTS = [
    "What is the notice period in the lease?",
    "The tenant must give two months' notice in writing before leaving the flat.",
    "Descale the kettle every month with a solution of citric acid; rinse twice.",
    "Ünïcödé tëxt, 日本語のテキスト, and emoji 🙂 also embed the same way.",
    "x",
    " ".join(["A very long passage about budgets, audits and quarterly revenue forecasts."] * 40),  # > 256 tokens
] + [f"Item {n}: meeting agenda for quarter {n % 4 + 1}, budget line {n * 7}." for n in range(40)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from embeddings import Embedder
    from embeddings.bundled import bundled_embedding_model_path

    cache = tmp_path_factory.mktemp("onnx-cache")
    onnx = Embedder(bundled_embedding_model_path(), backend="onnx", onnx_cache=cache)
    vectors = onnx.embed(TEXTS)
    return cache, onnx, vectors


@pytest.fixture(scope="module")
def torch_vectors():
    from embeddings import Embedder
    from embeddings.bundled import bundled_embedding_model_path

    return Embedder(bundled_embedding_model_path(), backend="torch", device="cpu").embed(TEXTS)


@pytest.mark.slow
def test_onnx_vectors_equal_torch_vectors(exported, torch_vectors):
    _, onnx, vectors = exported
    assert onnx.backend == "onnx"
    assert vectors.shape == torch_vectors.shape == (len(TEXTS), 384)
    cosine = (vectors * torch_vectors).sum(axis=1)
    assert cosine.min() >= 1 - 1e-5, cosine.min()  # float32 both: equal to rounding
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # order is kept although batches are cut from texts sorted by length
    assert np.allclose(onnx.embed(TEXTS[::-1]), vectors[::-1], atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("compute", ["auto", "f32", "bf16"])
def test_openvino_vectors_equal_torch_vectors(exported, torch_vectors, compute):
    """bf16 is what auto picks on a CPU with native bfloat16 (this machine: AVX512-BF16); emulated elsewhere."""
    from embeddings.bundled import bundled_embedding_model_path
    from embeddings.onnx_backend import MODEL_FILE, export_dir
    from embeddings.openvino_backend import OpenVinoEncoder

    cache, onnx, _ = exported
    model = export_dir(cache, onnx.info.fingerprint) / MODEL_FILE
    encoder = OpenVinoEncoder(bundled_embedding_model_path(), model, compute=compute)
    vectors = encoder.encode(TEXTS, batch_size=8)
    cosine = (vectors * torch_vectors).sum(axis=1)
    assert cosine.min() >= 1 - 1e-3, (encoder.compute, cosine.min())
    assert encoder.compute in ("f32", "bf16")
    if encoder.compute == "f32":
        assert cosine.min() >= 1 - 1e-5, cosine.min()
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # order kept; in bfloat16 a text's vector moves by rounding with the batch it is padded in, hence cosine
    reordered = (encoder.encode(TEXTS[::-1], batch_size=8) * vectors[::-1]).sum(axis=1)
    assert reordered.min() >= 1 - 1e-4, reordered.min()


@pytest.mark.slow
def test_export_is_cached_and_written_atomically(exported):
    from embeddings import Embedder
    from embeddings.bundled import bundled_embedding_model_path

    cache, onnx, vectors = exported
    folders = [p for p in cache.iterdir()]
    assert len(folders) == 1 and folders[0].name.startswith(onnx.info.fingerprint)  # no leftover temporary folder
    model = folders[0] / "model.onnx"
    stamp = model.stat().st_mtime_ns
    again = Embedder(bundled_embedding_model_path(), backend="onnx", onnx_cache=cache)
    assert np.allclose(again.embed(TEXTS[:3]), vectors[:3], atol=1e-6)
    assert model.stat().st_mtime_ns == stamp  # loaded, not exported again
    assert [p.name for p in cache.iterdir()] == [folders[0].name]


@pytest.mark.slow
def test_openvino_compiles_once_and_a_truncated_cache_entry_is_compiled_again(exported, tmp_path, monkeypatch):
    """A kill while OpenVINO writes its compiled model leaves a truncated entry: the next load must still give
    the same vectors. An unwritable cache folder only costs the compile."""
    import shutil

    from embeddings.bundled import bundled_embedding_model_path
    from embeddings.onnx_backend import MODEL_FILE, export_dir
    from embeddings.openvino_backend import OpenVinoEncoder, compiled_cache

    cache, onnx, _ = exported
    model = export_dir(cache, onnx.info.fingerprint) / MODEL_FILE
    shutil.rmtree(compiled_cache(model), ignore_errors=True)

    def vectors():
        return OpenVinoEncoder(bundled_embedding_model_path(), model, compute="f32").encode(TEXTS[:12], batch_size=4)

    first = vectors()
    (entry,) = compiled_cache(model).glob("*.blob")
    size, stamp = entry.stat().st_size, entry.stat().st_mtime_ns
    assert np.array_equal(vectors(), first)
    assert entry.stat().st_mtime_ns == stamp  # loaded from the cache, not compiled and written again
    entry.chmod(0o600)
    with open(entry, "r+b") as handle:
        handle.truncate(size // 2)
    assert np.array_equal(vectors(), first)
    rewritten = entry.stat()
    assert rewritten.st_mtime_ns != stamp and rewritten.st_size > size // 2  # compiled and written again
    assert np.array_equal(vectors(), first)
    assert entry.stat().st_mtime_ns == rewritten.st_mtime_ns  # and the new entry loads
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setattr("embeddings.openvino_backend.compiled_cache", lambda onnx_file: blocked / "openvino")
    assert np.array_equal(vectors(), first)


@pytest.mark.slow
def test_a_cache_shared_with_another_cpu_or_library_version_gets_entries_of_its_own(exported, monkeypatch):
    """A home folder shared between machines: OpenVINO's compiled kernels are per CPU, exports per library version."""
    from embeddings.bundled import bundled_embedding_model_path
    from embeddings.onnx_backend import MODEL_FILE, export_dir
    from embeddings.openvino_backend import OpenVinoEncoder, compiled_cache

    cache, onnx, _ = exported
    model = export_dir(cache, onnx.info.fingerprint) / MODEL_FILE
    here = compiled_cache(model)
    first = OpenVinoEncoder(bundled_embedding_model_path(), model, compute="f32").encode(TEXTS[:4], batch_size=4)
    entries = {entry: entry.stat().st_mtime_ns for entry in here.glob("*.blob")}
    assert entries
    monkeypatch.setattr("embeddings.openvino_backend.cpu_key", lambda: "other-cpu")
    elsewhere = compiled_cache(model)
    assert elsewhere != here and elsewhere.parent == here.parent
    assert np.array_equal(
        OpenVinoEncoder(bundled_embedding_model_path(), model, compute="f32").encode(TEXTS[:4], batch_size=4), first
    )
    assert len(list(elsewhere.glob("*.blob"))) == 1  # compiled afresh for that CPU
    assert {entry: entry.stat().st_mtime_ns for entry in here.glob("*.blob")} == entries  # this CPU's left as they were
    monkeypatch.setattr("embeddings.onnx_backend.library_versions", lambda *names: "torch=99.0")
    assert export_dir(cache, onnx.info.fingerprint) != model.parent  # another torch or ONNX Runtime: another export


def test_backend_does_not_change_the_index_fingerprint(settings_for, tmp_path):
    from embeddings import load_embedder
    from ingest.pipeline import index_info

    infos = {
        b: index_info(
            settings_for(tmp_path, embedding_backend=b, embedding_precision="float32"),
            load_embedder(settings_for(tmp_path, embedding_backend=b, embedding_precision="float32")),
        )
        for b in ("torch", "onnx", "openvino", "auto")
    }
    assert infos["torch"] == infos["onnx"] == infos["openvino"] == infos["auto"]


@pytest.mark.slow
def test_auto_picks_openvino_on_cpu(settings_for, tmp_path, exported):
    from embeddings import load_embedder

    cache, _, _ = exported
    embedder = load_embedder(
        settings_for(
            tmp_path, embedding_backend="auto", device="cpu", onnx_cache=str(cache), embedding_precision="float32"
        )
    )
    assert embedder.backend == "openvino"


@pytest.mark.slow
def test_auto_falls_back_to_onnx_when_openvino_cannot_load(settings_for, tmp_path, exported, monkeypatch, caplog):
    """OpenVINO refusing the model (an old CPU, a broken install) costs speed, not the ingest."""
    from core.errors import ModelLoadError
    from embeddings import load_embedder
    from embeddings.openvino_backend import OpenVinoEncoder

    def refuse(self, onnx_file, threads):
        raise ModelLoadError("OpenVINO could not load the model (made to fail here)")

    monkeypatch.setattr(OpenVinoEncoder, "_open", refuse)
    cache, _, vectors = exported
    auto = load_embedder(
        settings_for(
            tmp_path, embedding_backend="auto", device="cpu", onnx_cache=str(cache), embedding_precision="float32"
        )
    )
    assert np.allclose(auto.embed(TEXTS[:3]), vectors[:3], atol=1e-6)
    assert auto.backend == "onnx"
    assert "openvino backend unavailable; embedding with onnx" in caplog.text
    named = load_embedder(
        settings_for(
            tmp_path, embedding_backend="openvino", device="cpu", onnx_cache=str(cache), embedding_precision="float32"
        )
    )
    with pytest.raises(ModelLoadError, match="made to fail here"):
        named.embed(["x"])


@pytest.mark.slow
def test_token_ids_from_the_ingest_workers_give_the_same_vectors(exported):
    """Ingest's workers tokenize each chunk for the model, so the embedding process does not tokenize again."""
    from embeddings.bundled import bundled_embedding_model_path
    from embeddings.onnx_backend import max_seq_length
    from embeddings.tokens import TokenCounter

    _, onnx, vectors = exported
    path = bundled_embedding_model_path()
    counter = TokenCounter(path, max_length=max_seq_length(path))
    assert counter.counts_and_inputs(TEXTS)[1] is None  # the long passage needs the model tokenizer's truncation
    fitting = [i for i, text in enumerate(TEXTS) if counter.count(text) + 2 <= counter.max_length]
    assert len(fitting) == len(TEXTS) - 1
    ids = counter.counts_and_inputs([TEXTS[i] for i in fitting])[1]
    assert [len(x) for x in ids] == [counter.count(TEXTS[i]) + 2 for i in fitting]
    from_ids = onnx.embed([TEXTS[i] for i in fitting], token_ids=ids)
    assert np.allclose(from_ids, vectors[fitting], atol=1e-6)
