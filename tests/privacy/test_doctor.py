"""``toolkit doctor``: a warning, with its fix, for each way a study's personal data can lie open."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.dashboard.conftest import build_tiny_study
from toolkit.cli import main
from toolkit.config import load_config
from toolkit.doctor import check_study
from toolkit.pseudonymise import PseudonymKey, save_key


@pytest.fixture
def study(tmp_path, monkeypatch) -> Path:
    """A tiny coded study whose key sits in its default home (outside the study), all private."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user"))
    old = os.umask(0o022)
    root = build_tiny_study(tmp_path / "study")
    os.umask(old)
    save_key(load_config(root).key_path, PseudonymKey())
    return root


def warnings(root: Path) -> dict[str, str]:
    return {f.check: f"{f.problem} Fix: {f.fix}" for f in check_study(load_config(root)) if not f.ok}


def set_option(root: Path, text: str) -> None:
    with open(root / "study.toml", "a", encoding="utf-8") as handle:
        handle.write(text)


def test_a_private_study_has_no_warning(study, capsys):
    assert warnings(study) == {}
    assert main(["doctor", str(study)]) == 0
    out = capsys.readouterr().out
    assert "No privacy warnings." in out and "ok       the key lives apart from the study" in out


def test_pseudonymisation_switched_off(study, capsys):
    set_option(study, "\n[pseudonymisation]\nenabled = false\n")
    found = warnings(study)
    assert list(found) == ["pseudonymisation"]
    assert "stored, exported and shown as written" in found["pseudonymisation"]
    assert "set enabled = true under [pseudonymisation]" in found["pseudonymisation"]
    assert main(["doctor", str(study)]) == 2
    assert "WARNING  pseudonymisation" in capsys.readouterr().out


def test_key_inside_the_study(study):
    set_option(study, '\n[pseudonymisation]\nkey_path = "private/pseudonymisation_key.json"\n')
    save_key(study / "private" / "pseudonymisation_key.json", PseudonymKey())
    found = warnings(study)
    assert list(found) == ["key location"]
    assert "is inside the study folder, beside the data it unlocks" in found["key location"]
    assert "outside the study" in found["key location"] and "key_path" in found["key location"]


def test_key_beside_a_store_outside_the_study(study, tmp_path):
    elsewhere = tmp_path / "secure"
    set_option(study, f'\n[store]\npath = "{elsewhere / "study.sqlite"}"\n'
                      f'[pseudonymisation]\nkey_path = "{elsewhere / "key.json"}"\n')
    os.replace(study / "store" / "study.sqlite", tmp_path / "moved.sqlite")
    elsewhere.mkdir(mode=0o700)
    os.replace(tmp_path / "moved.sqlite", elsewhere / "study.sqlite")
    save_key(elsewhere / "key.json", PseudonymKey())
    found = warnings(study)
    assert "key location" in found and "sits beside the store" in found["key location"]


def test_key_missing_while_the_store_holds_data(study):
    load_config(study).key_path.unlink()
    found = warnings(study)
    assert "no pseudonymisation key at" in found["key present"] and "restore the key" in found["key present"]


@pytest.mark.parametrize("what", ["key", "store", "store folder", "exports"])
def test_files_others_can_read(study, what):
    config = load_config(study)
    if what == "exports":
        assert main(["export", str(study), "--format", "csv"]) == 0
    target = {"key": config.key_path, "store": study / "store" / "study.sqlite", "store folder": study / "store",
              "exports": study / "exports"}[what]
    os.chmod(target, 0o755 if target.is_dir() else 0o644)
    found = warnings(study)
    check = next(k for k in found if k == what or k.startswith(what))
    assert "chmod" in found[check] and str(target) in found[check]
