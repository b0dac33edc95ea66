"""The key on disk: where it lives by default, privacy, round trips and errors."""

from __future__ import annotations

import os
import stat

import pytest

from toolkit.errors import ConfigError
from toolkit.pseudonymise import PseudonymKey, keyfile

KEY = PseudonymKey(
    ({"kind": "person", "value": "Aled Pryce", "original": "Aled Pryce", "code": "PERSON_01"},),
    ({"source": "a.txt", "label": "P1", "code": "P01"},),
    ({"source": "s.xlsx", "key": "1", "code": "BK_R001"},),
)


def test_round_trip_through_bytes_and_file(tmp_path):
    assert keyfile.parse_key(keyfile.key_bytes(KEY).decode("utf-8")) == KEY
    path = keyfile.save_key(tmp_path / "k" / "key.json", KEY)
    assert keyfile.load_key(path) == KEY
    assert keyfile.load_key_if_any(tmp_path / "none.json") is None


def test_default_key_path_is_outside_the_study_per_user(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    study = tmp_path / "studies" / "three"
    study.mkdir(parents=True)
    path = keyfile.default_key_path(study, "Three places (sample)")
    assert path.name == "pseudonymisation_key.json"
    assert path.parent.parent == tmp_path / "data" / "toolkit" / "keys"
    assert path.parent.name.startswith("three-places-sample-")
    assert keyfile.default_key_path(study, "Three places (sample)") == path  # stable
    assert keyfile.default_key_path(tmp_path / "other", "Three places (sample)") != path
    assert not keyfile.key_inside_study(path, study)
    keyfile.save_key(path, KEY)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    for folder in (path.parent, path.parent.parent, path.parent.parent.parent):
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700


def test_relative_xdg_data_home_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", "relative/dir")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert keyfile.user_data_dir() == tmp_path / ".local" / "share" / "toolkit"


def test_key_inside_study(tmp_path):
    study = tmp_path / "study"
    assert keyfile.key_inside_study(study / "private" / "key.json", study)
    assert keyfile.key_inside_study(study / "private" / ".." / "key.json", study)
    assert not keyfile.key_inside_study(tmp_path / "study-keys" / "key.json", study)


@pytest.mark.parametrize("where", ["store/key.json", "study/store/private/key.json"])
def test_key_refused_inside_store(tmp_path, where):
    with pytest.raises(ConfigError, match="inside a folder named 'store'"):
        keyfile.save_key(tmp_path / where, KEY)
    assert not (tmp_path / where).exists()


def test_a_bad_key_names_its_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "toolkit-pseudonymisation-key", "version": 1, "entries": [{"kind": "x"}]}')
    with pytest.raises(ConfigError, match=r"bad\.json: a key row lacks a field"):
        keyfile.load_key(bad)
    bad.write_text('{"format": "toolkit-pseudonymisation-key", "version": 7}')
    with pytest.raises(ConfigError, match="key version 7"):
        keyfile.load_key(bad)


def test_a_key_readable_by_others_is_warned_about_without_quoting_it(tmp_path, caplog):
    path = keyfile.save_key(tmp_path / "key.json", KEY)
    os.chmod(path, 0o644)
    with caplog.at_level("WARNING"):
        keyfile.load_key(path)
    assert "chmod 600" in caplog.text and "Aled" not in caplog.text
