"""Everything that holds study data is created private to the user: files 0600, folders 0700.

The store (and its -wal/-shm files) from its first byte, its copies, the topic model folder,
exports and the key-location file. Run with the usual umask (022), under which a file would
otherwise be created readable by everyone.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.dashboard.conftest import build_tiny_study
from toolkit.io import make_private
from toolkit.store import Store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_store_and_its_wal_files_are_private(tmp_path):
    database = tmp_path / "study" / "store" / "study.sqlite"
    store = Store(f"sqlite:///{database}")
    run = store.start_run("ingest")  # a write: WAL mode makes the -wal and -shm files
    wal, shm = database.with_name("study.sqlite-wal"), database.with_name("study.sqlite-shm")
    assert wal.exists() and shm.exists()
    assert (mode(database), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
    assert mode(database.parent) == 0o700
    assert mode(database.parent.parent) == 0o755  # only the store's own folder is made private
    store.finish_run(run, "ok", {})
    store.close()


def test_an_existing_store_keeps_its_mode(tmp_path):
    """Nothing is changed behind the user's back (a team may share a store through a group on purpose)."""
    database = tmp_path / "store" / "study.sqlite"
    database.parent.mkdir()
    database.touch(mode=0o640)
    os.chmod(database, 0o640)
    Store(f"sqlite:///{database}").close()
    assert mode(database) == 0o640


def test_a_copy_of_the_store_is_private(tmp_path):
    from toolkit.store import copy_store

    study = build_tiny_study(tmp_path / "study", topics=False, coded=False)
    source = Store(f"sqlite:///{study / 'store' / 'study.sqlite'}")
    copy = copy_store(source, tmp_path / "elsewhere" / "copy.sqlite")
    assert mode(tmp_path / "elsewhere" / "copy.sqlite") == 0o600
    copy.close()
    source.close()


def test_exports_are_private(tmp_path):
    from toolkit.config import load_config
    from toolkit.export import export_study

    study = build_tiny_study(tmp_path / "study")
    config = load_config(study)
    store = Store(config.store_url)
    written = export_study(config, store, "csv") + export_study(config, store, "xlsx")
    store.close()
    assert written and {mode(p) for p in written} == {0o600}
    assert mode(study / "exports") == 0o700


def test_make_private_closes_a_folder_a_library_filled(tmp_path):
    """The topic model folder: BERTopic writes its files with the umask's mode."""
    folder = tmp_path / "topic_model"
    (folder / "sub").mkdir(parents=True)
    (folder / "ctfidf_config.json").write_text("{}")
    (folder / "sub" / "topics.json").write_text("{}")
    make_private(folder)
    assert {mode(p) for p in [folder, folder / "sub"]} == {0o700}
    assert {mode(p) for p in folder.rglob("*.json")} == {0o600}


@pytest.mark.model
def test_a_first_run_leaves_nothing_others_can_read(tmp_path, monkeypatch):
    """Store, its folder, the key-location file, the key and its report after `toolkit ingest`."""
    from toolkit.config import load_config
    from toolkit.pipeline import run_study

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user"))
    root = tmp_path / "study"
    (root / "Ashgrove").mkdir(parents=True)
    (root / "study.toml").write_text('[study]\nname = "t"\nplaces = ["Ashgrove"]\n', encoding="utf-8")
    (root / "Ashgrove" / "AG01.txt").write_text("Interviewer: What helped?\n\nP1: Ring Aled on 07700 900123.\n",
                                                encoding="utf-8")
    config = load_config(root)
    run_study(config, stages=("ingest",))
    store = root / "store"
    key = config.key_path
    assert mode(store) == 0o700
    files = {p.name: mode(p) for p in store.iterdir() if not p.name.endswith(".run.lock")}
    assert {"study.sqlite", "key-location"} <= set(files) <= {"study.sqlite", "study.sqlite-wal", "study.sqlite-shm",
                                                             "key-location"}
    assert set(files.values()) == {0o600}
    assert mode(key) == 0o600 and mode(key.parent) == 0o700
    assert root not in key.parents


def test_every_folder_made_for_a_private_file_is_private(tmp_path):
    """The key's home ``<user data>/toolkit/keys/<study>/``: toolkit/ and keys/ too, not only the last folder."""
    from toolkit.io import write_text

    key = tmp_path / "user" / "toolkit" / "keys" / "study-1" / "pseudonymisation_key.json"
    write_text(key, "{}", private=True)
    assert [mode(p) for p in (key.parents[2], key.parents[1], key.parent)] == [0o700, 0o700, 0o700]
    assert mode(key) == 0o600
