"""``toolkit db upgrade|current`` and the store's URL in command output (never with its password)."""

from __future__ import annotations

import shutil
from pathlib import Path

from toolkit.cli import main

RELEASE_STORE = Path(__file__).resolve().parents[1] / "data" / "stores" / "release-0.1.0.sqlite"


def _study(folder: Path, toml_extra: str = "") -> Path:
    folder.mkdir(parents=True)
    (folder / "study.toml").write_text(f'[study]\nname = "CLI db"\n{toml_extra}', encoding="utf-8")
    return folder


def test_db_current_then_upgrade_adopts_a_release_store(tmp_path, capsys):
    study = _study(tmp_path / "study")
    (study / "store").mkdir()
    shutil.copyfile(RELEASE_STORE, study / "store" / "study.sqlite")
    assert main(["db", "current", str(study)]) == 0
    out = capsys.readouterr().out
    assert "revision 0001 (release 0.1.0, not stamped)" in out and "up to date" not in out
    assert main(["db", "upgrade", str(study)]) == 0
    assert "upgraded from revision 0001 to 0004" in capsys.readouterr().out
    assert main(["db", "current", str(study)]) == 0
    assert "(up to date)" in capsys.readouterr().out
    assert main(["db", "upgrade", str(study)]) == 0
    assert "is up to date" in capsys.readouterr().out


def test_db_upgrade_creates_a_new_store_and_status_hides_the_password(tmp_path, capsys, monkeypatch,
                                                                       postgres_cluster):
    database = postgres_cluster.create_database()
    monkeypatch.setenv("TOOLKIT_STORE_URL", postgres_cluster.url(database, password="pw-not-shown"))
    study = _study(tmp_path / "team", '\n[store]\nurl = "env:TOOLKIT_STORE_URL"\n')
    assert main(["db", "current", str(study)]) == 0
    assert "no store yet" in capsys.readouterr().out
    assert main(["db", "upgrade", str(study)]) == 0
    out = capsys.readouterr().out
    assert "created at revision 0004" in out
    assert main(["status", str(study)]) == 0
    out += capsys.readouterr().out
    assert "pw-not-shown" not in out and "postgres:***@" in out
