"""End to end on the sample study: no planted identifier reaches the store, the logs or the CLI output."""

from __future__ import annotations

import logging
import re
import shutil
import sqlite3

import pandas as pd
import pytest

from tests.conftest import REPO, SAMPLE_STUDY
from toolkit.cli import main
from toolkit.config import load_config

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    root = tmp_path_factory.mktemp("study") / "interviews"
    shutil.copytree(SAMPLE_STUDY, root, ignore=shutil.ignore_patterns("store", "private"))
    return root


def planted() -> pd.DataFrame:
    files = sorted((REPO / "tests" / "data" / "sample_pii").glob("*.csv"))
    assert len(files) == 4, "the sample study's planted-identifier lists are missing"
    return pd.concat([pd.read_csv(f, dtype=str) for f in files], ignore_index=True)


def leaks(blob: str, values: pd.DataFrame) -> list[tuple[str, str]]:
    found = []
    for row in values.itertuples():
        if re.search(r"(?<!\w)" + re.escape(row.value) + r"(?!\w)", blob):
            found.append((row.kind, row.value))
    return found


def test_no_planted_identifier_reaches_the_store_logs_or_output(ingested, capsys, caplog):
    with caplog.at_level(logging.DEBUG):
        assert main(["-v", "ingest", str(ingested)]) == 0
    out, err = capsys.readouterr()
    config = load_config(ingested)
    db = config.resolve(config.store.path)
    con = sqlite3.connect(db)
    cells = []
    tables = [t for (t,) in con.execute("select name from sqlite_master where type='table'")]
    assert {"sources", "turns", "text_answers", "respondents"} <= set(tables)
    for table in tables:
        for row in con.execute(f"select * from {table}"):  # noqa: S608 - table names from sqlite_master
            cells.extend(str(v) for v in row if isinstance(v, str))
    con.close()
    values = planted()
    assert len(values) > 200
    assert leaks("\n".join(cells), values) == []
    assert leaks(out + err + caplog.text, values) == []


def test_the_key_lives_apart_from_the_store_and_maps_back(ingested):
    config = load_config(ingested)
    key = config.key_path
    assert key.exists() and key.stat().st_mode & 0o077 == 0
    store_dir = config.resolve(config.store.path).parent
    assert store_dir not in key.parents
    text = key.read_text(encoding="utf-8")
    assert "Araminta Puddlecombe" in text  # a participant's real (invented) name is only here


def test_speakers_become_participant_ids_from_the_manifest(ingested):
    config = load_config(ingested)
    con = sqlite3.connect(config.resolve(config.store.path))
    speakers = {
        (path, speaker)
        for path, speaker in con.execute(
            "select s.path, t.speaker from turns t join sources s using (source_id) where t.speaker_role='participant'"
        )
    }
    con.close()
    assert ("Brackenford/BK02_health_visiting.vtt", "BK02") in speakers
    assert ("Hollowmere/HM04_health_visiting.srt", "HM04") in speakers


def test_reingest_keeps_the_same_pseudonyms(ingested):
    config = load_config(ingested)
    db = config.resolve(config.store.path)
    before = pd.read_sql("select path, text from sources order by path", sqlite3.connect(db))
    (ingested / "Fernmouth" / "FM03_gp_partner.txt").write_text(
        (ingested / "Fernmouth" / "FM03_gp_partner.txt").read_text(encoding="utf-8") + "\n\nTobias Pennywhistle: Thanks again.\n",
        encoding="utf-8",
    )
    assert main(["ingest", str(ingested)]) == 0
    after = pd.read_sql("select path, text from sources order by path", sqlite3.connect(db))
    unchanged = before[before.path != "Fernmouth/FM03_gp_partner.txt"]
    pd.testing.assert_frame_equal(unchanged.reset_index(drop=True), after[after.path != "Fernmouth/FM03_gp_partner.txt"].reset_index(drop=True))
    old = before.set_index("path").loc["Fernmouth/FM03_gp_partner.txt", "text"]
    new = after.set_index("path").loc["Fernmouth/FM03_gp_partner.txt", "text"]
    assert new.startswith(old.rstrip()[:2000])
