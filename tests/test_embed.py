"""The embedders behind coding.embedder: the static embedder's files, its vectors, and the cache keyed by model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from toolkit import models
from toolkit.distil import static_vectors, write_static
from toolkit.embed import ENCODERS, CachedEmbedder, make_encoder, static_encoder
from toolkit.errors import ConfigError

TEXTS = ["We share data through the hub now.", "The GP never got the letter from the council.",
         "Consent forms were a barrier for the school nurses.", "ok"]


@pytest.fixture(scope="module")
def tiny_static(tmp_path_factory):
    """A static embedder in the real format (MiniLM's tokenizer) with random token vectors: no torch."""
    folder = tmp_path_factory.mktemp("models") / models.STATIC_NAME
    vocabulary = json.loads((models.embedder_path() / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    raw = np.random.default_rng(0).normal(size=(len(vocabulary), 32)).astype(np.float32)
    write_static(folder, static_vectors(raw, vocabulary, dims=16))
    return folder


def test_static_vectors_are_unit_length_and_deterministic(tiny_static):
    models.load_static.cache_clear()
    first = static_encoder(tiny_static)(TEXTS)
    models.load_static.cache_clear()
    again = static_encoder(tiny_static)(list(reversed(TEXTS)))[::-1]
    assert first.shape == (4, 16) and first.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(first, again)  # same text, same vector, whatever the batch around it


def test_a_text_is_the_mean_of_its_tokens(tiny_static):
    tokenizer, table = models.load_static(tiny_static)
    ids = tokenizer.encode("consent forms", add_special_tokens=False).ids
    expected = table[ids].mean(axis=0)
    np.testing.assert_allclose(static_encoder(tiny_static)(["consent forms"])[0], expected / np.linalg.norm(expected),
                               rtol=1e-5)
    assert "[CLS]" not in tokenizer.encode("consent forms", add_special_tokens=False).tokens


def test_unused_tokens_get_no_vector():
    vocabulary = {"[unused0]": 0, "[PAD]": 1, **{f"w{i}": i for i in range(2, 40)}}
    out = static_vectors(np.random.default_rng(1).normal(size=(40, 6)), vocabulary, dims=3)
    assert not out[0].any() and out[1:].any(axis=1).all()


def test_the_files_follow_model2vec_s_format(tiny_static):
    model2vec = pytest.importorskip("model2vec")
    reference = model2vec.StaticModel.from_pretrained(str(tiny_static)).encode(TEXTS)
    np.testing.assert_allclose(static_encoder(tiny_static)(TEXTS), reference, atol=1e-5)


def test_a_tampered_weight_file_is_refused(tiny_static, tmp_path):
    import shutil

    copy = tmp_path / models.STATIC_NAME
    shutil.copytree(tiny_static, copy)
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    models.load_static.cache_clear()
    with pytest.raises(ConfigError, match=r"model\.safetensors has been altered: its sha256 is .*manifest\.json"
                                          r".*'make setup'"):
        models.load_static(copy)


def test_a_static_model_from_another_minilm_is_refused(tiny_static, tmp_path):
    import shutil

    copy = tmp_path / models.STATIC_NAME
    shutil.copytree(tiny_static, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["source"]["model.safetensors"] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ConfigError, match=r"built from another MiniLM.*built again.*make setup"):
        models.verify_static(copy)


def test_a_missing_static_model_gives_the_setup_command(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_MODELS", str(tmp_path))
    assert models.static_folder() == tmp_path / models.STATIC_NAME
    models.load_static.cache_clear()
    with pytest.raises(ConfigError, match=r"embedder all-MiniLM-L6-v2-static-v1 has not been built.*make setup.*"
                                          r"python -m toolkit\.distil"):
        make_encoder("static")[1](["a text"])
    models.load_static.cache_clear()


def test_a_missing_static_file_gives_the_setup_command(tiny_static, tmp_path):
    import shutil

    copy = tmp_path / models.STATIC_NAME
    shutil.copytree(tiny_static, copy)
    (copy / "tokenizer.json").unlink()
    with pytest.raises(ConfigError, match=r"tokenizer\.json is missing.*make setup"):
        models.verify_static(copy)


def test_the_int8_model_is_verified_before_onnxruntime_sees_it(tmp_path):
    from toolkit.distil import _install

    def write(work):
        (work / "model.onnx").write_bytes(b"an onnx graph")
        (work / "tokenizer.json").write_text("{}")

    folder = _install(tmp_path / models.INT8_NAME, models.INT8_NAME, write)
    (folder / "model.onnx").write_bytes(b"an onnx graph, altered")
    models.load_int8.cache_clear()
    with pytest.raises(ConfigError, match=r"model\.onnx has been altered"):
        models.load_int8(folder)
    (folder / "model.onnx").unlink()
    with pytest.raises(ConfigError, match=r"model\.onnx is missing.*make setup"):
        models.load_int8(folder)
    models.load_int8.cache_clear()


def test_each_embedder_has_its_own_cache_name():
    assert len(set(ENCODERS.values())) == len(ENCODERS)
    assert make_encoder("static")[0] == models.STATIC_NAME != make_encoder("minilm")[0]


def test_the_cache_keeps_vectors_of_two_models_apart(tmp_path):
    from toolkit.config import StudyConfig
    from toolkit.store import Store

    store = Store(StudyConfig.default(tmp_path).store_url)
    ones = CachedEmbedder(store, model="model-a", encoder=lambda texts: np.ones((len(texts), 4)))
    other = CachedEmbedder(store, model="model-b", encoder=lambda texts: np.tile([1.0, 0, 0, 0], (len(texts), 1)))
    a, b = ones(TEXTS[:2]), other(TEXTS[:2])
    assert ones.computed == 2 and other.computed == 2  # model-b did not reuse model-a's vectors
    assert not np.allclose(a, b)
    again = CachedEmbedder(store, model="model-a", encoder=lambda texts: pytest.fail("should come from the cache"))
    np.testing.assert_array_equal(again(TEXTS[:2]), a)
    assert again.cached == 2


def test_config_accepts_the_static_embedder(tmp_path):
    from toolkit.config import config_from_dict

    config = config_from_dict({"coding": {"embedder": "static"}}, root=tmp_path, source="study.toml")
    assert config.coding.embedder == "static"
    with pytest.raises(ConfigError, match=r"coding\.embedder.*static"):
        config_from_dict({"coding": {"embedder": "word2vec"}}, root=tmp_path, source="study.toml")


@pytest.mark.model
def test_the_installed_static_embedder_is_verified_and_embeds():
    """The copy `make setup` distilled from MiniLM: related sentences are closer than unrelated ones."""
    models.load_static.cache_clear()
    encode = static_encoder()
    vectors = encode(["Health visitors could not see the council's records.",
                      "Our nurses had no access to the local authority's case notes.",
                      "The weather in August was lovely."])
    assert vectors.shape == (3, 256)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


@pytest.mark.model
def test_the_installed_int8_minilm_agrees_with_minilm():
    """The ONNX int8 copy `make setup` exported: unit vectors, the same for a text in any batch, close to MiniLM's."""
    from toolkit.embed import int8_encoder, minilm_encoder

    models.load_int8.cache_clear()
    encode = int8_encoder()
    vectors = encode(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(encode(TEXTS[:1])[0], vectors[0], atol=1e-5)
    reference = minilm_encoder()(TEXTS)
    assert np.min(np.sum(vectors * reference, axis=1)) > 0.95


@pytest.mark.model
def test_int8_texts_spread_over_threads_get_the_vectors_they_get_alone():
    """The threaded encoder (one share per core) gives each text exactly its one-at-a-time vector."""
    from toolkit.embed import int8_encoder

    encode = int8_encoder()
    texts = [f"{t} ({i})" for i in range(6) for t in TEXTS]  # enough texts for the threaded path
    together = encode(texts)
    alone = np.vstack([encode([t]) for t in texts])
    assert np.array_equal(together, alone)
