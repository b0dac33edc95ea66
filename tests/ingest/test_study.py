"""Ingesting a study folder: idempotent, transactional, metadata attached, bad input refused."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from toolkit import schema as s
from toolkit.config import load_config
from toolkit.errors import ConfigError, InputDataError
from toolkit.ingest.study import IngestError, ingest_study
from toolkit.store import TABLES, Store

NO_PSEUDO = "[pseudonymisation]\nenabled = false\n"


def make_study(root: Path, config: str = NO_PSEUDO) -> Path:
    (root / "Northfold").mkdir(parents=True)
    (root / "Southmere").mkdir()
    (root / "study.toml").write_text(config, encoding="utf-8")
    (root / "Northfold" / "n1.txt").write_text(
        "I: What helped?\nR: The charter helped.\nI: And IT?\nR: The systems don't talk.\n", encoding="utf-8"
    )
    (root / "Northfold" / "n2.txt").write_text(
        "I: Who leads?\nR: The director of public health.\nI: Thanks.\nR: No problem.\n", encoding="utf-8"
    )
    (root / "Southmere" / "s1.vtt").write_text(
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ann Example>Why share?</v>\n\n"
        "00:00:02.500 --> 00:00:05.000\n<v Bo Sample>Because families benefit.</v>\n",
        encoding="utf-8",
    )
    (root / "Southmere" / "consent_form.rtf").write_bytes(b"{\\rtf1 Consent}")
    return root


def snapshot(store: Store) -> dict[str, pd.DataFrame]:
    return {name: store.table(name) for name in TABLES if name not in (s.RUNS, "store_info")}


def assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=False)


def test_ingest_stores_sources_turns_and_places(tmp_path):
    config = load_config(make_study(tmp_path))
    store = Store(config.store_url)
    report = ingest_study(config, store=store)
    assert sorted(report.added) == ["Northfold/n1.txt", "Northfold/n2.txt", "Southmere/s1.vtt"]
    assert report.unsupported == ["Southmere/consent_form.rtf"]
    sources = store.sources_frame().set_index(s.PATH)
    assert sources.loc["Southmere/s1.vtt", s.PLACE] == "Southmere"
    assert sources.loc["Northfold/n1.txt", s.KIND] == "transcript"
    turns = store.table(s.TURNS)
    assert len(turns) == 10
    texts = store.table(s.SOURCES).set_index(s.PATH)[s.TEXT]
    for row in turns.merge(store.table(s.SOURCES)[[s.SOURCE_ID, s.PATH]], on=s.SOURCE_ID).itertuples():
        assert texts[row.path][row.start_char : row.end_char] == row.text
    summary = store.place_summary().set_index("place")
    assert summary.loc["Northfold", "transcripts"] == 2 and summary.loc["Southmere", "turns"] == 2
    assert store.runs_frame().iloc[0][s.STATUS] == "ok"


def test_reingest_is_idempotent(tmp_path):
    config = load_config(make_study(tmp_path))
    store = Store(config.store_url)
    ingest_study(config, store=store)
    before = snapshot(store)
    report = ingest_study(config, store=store)
    assert report.added == [] and report.updated == [] and len(report.unchanged) == 3
    assert not report.changed
    assert_same(before, snapshot(store))


def test_changed_file_is_reread_and_nothing_duplicated(tmp_path):
    root = make_study(tmp_path)
    config = load_config(root)
    store = Store(config.store_url)
    ingest_study(config, store=store)
    (root / "Northfold" / "n1.txt").write_text("I: What helped?\nR: Trust.\n", encoding="utf-8")
    report = ingest_study(config, store=store)
    assert report.updated == ["Northfold/n1.txt"] and len(report.unchanged) == 2
    assert len(store.table(s.SOURCES)) == 3
    turns = store.table(s.TURNS)
    assert len(turns) == 8
    assert "Trust." in set(turns[s.TEXT]) and "The charter helped." not in set(turns[s.TEXT])


def test_deleted_file_leaves_the_store(tmp_path):
    root = make_study(tmp_path)
    config = load_config(root)
    store = Store(config.store_url)
    ingest_study(config, store=store)
    (root / "Northfold" / "n2.txt").unlink()
    report = ingest_study(config, store=store)
    assert report.removed == ["Northfold/n2.txt"]
    assert "Northfold/n2.txt" not in set(store.table(s.SOURCES)[s.PATH])
    assert len(store.table(s.TURNS)) == 6


def test_bad_file_stops_the_ingest_before_anything_is_written(tmp_path):
    root = make_study(tmp_path)
    (root / "Southmere" / "broken.docx").write_bytes(b"not a zip")
    (root / "Southmere" / "empty.txt").write_text("", encoding="utf-8")
    config = load_config(root)
    store = Store(config.store_url)
    with pytest.raises(IngestError, match=r"2 file\(s\) could not be read, so nothing was stored") as info:
        ingest_study(config, store=store)
    assert "broken.docx: is not a readable Word .docx file" in str(info.value)
    assert "empty.txt: the file is empty" in str(info.value)
    assert isinstance(info.value, InputDataError)
    assert store.table(s.SOURCES).empty


def test_skip_bad_stores_the_good_files_and_reports_the_bad(tmp_path):
    root = make_study(tmp_path)
    (root / "Southmere" / "broken.docx").write_bytes(b"not a zip")
    config = load_config(root)
    store = Store(config.store_url)
    report = ingest_study(config, store=store, skip_bad=True)
    assert [path for path, _ in report.failed] == ["Southmere/broken.docx"]
    assert len(store.table(s.SOURCES)) == 3


def test_failure_mid_write_leaves_the_store_as_it_was(tmp_path, monkeypatch):
    root = make_study(tmp_path)
    config = load_config(root)
    store = Store(config.store_url)
    ingest_study(config, store=store)
    before = snapshot(store)
    for name in ("n1.txt", "n2.txt"):
        path = root / "Northfold" / name
        path.write_text(path.read_text(encoding="utf-8") + "I: One more?\nR: Yes.\n", encoding="utf-8")
    calls = {"n": 0}
    original = Store.insert_turns

    def failing(self, conn, source_id, frame):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return original(self, conn, source_id, frame)

    monkeypatch.setattr(Store, "insert_turns", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_study(config, store=store)
    assert calls["n"] == 2
    assert_same(before, snapshot(store))
    assert store.runs_frame().iloc[0][s.STATUS] == "failed"
    monkeypatch.setattr(Store, "insert_turns", original)
    report = ingest_study(config, store=store)
    assert sorted(report.updated) == ["Northfold/n1.txt", "Northfold/n2.txt"]


def test_manifest_attaches_metadata_and_interviewers(tmp_path):
    root = make_study(tmp_path)
    (root / "manifest.csv").write_text(
        "file,participant_id,organisation_type,sector,role,interview_date,interviewer\n"
        "Southmere/s1.vtt,SM01,GP practice,Health,GP partner,2026-03-01,Bo Sample\n"
        "n1.txt,NF01,Local authority,Local authority,Programme lead,2026-02-01,\n",
        encoding="utf-8",
    )
    config = load_config(root)
    store = Store(config.store_url)
    ingest_study(config, store=store)
    sources = store.sources_frame().set_index(s.PATH)
    assert sources.loc["Southmere/s1.vtt", s.PARTICIPANT_ID] == "SM01"
    assert sources.loc["Southmere/s1.vtt", s.ORGANISATION_TYPE] == "GP practice"
    assert sources.loc["Northfold/n1.txt", s.ROLE] == "Programme lead"  # matched by bare file name
    turns = store.table(s.TURNS).merge(store.sources_frame()[[s.SOURCE_ID, s.PATH]], on=s.SOURCE_ID)
    vtt = turns[turns[s.PATH] == "Southmere/s1.vtt"]
    assert dict(zip(vtt[s.SPEAKER], vtt[s.SPEAKER_ROLE])) == {"Ann Example": "participant", "Bo Sample": "interviewer"}


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("name,role\nx.txt,lead\n", r"manifest.csv: has no 'file' column. Found: name, role"),
        ("file,colour:shade\nx.txt,red\n", r"manifest.csv: column 'colour:shade' declares the unknown type 'shade'"),
        ("file,role\nx.txt,a\nx.txt,b\n", r"manifest.csv, line 3: lists 'x.txt' twice"),
    ],
)
def test_bad_manifest_is_refused(tmp_path, manifest, message):
    root = make_study(tmp_path)
    (root / "manifest.csv").write_text(manifest, encoding="utf-8")
    with pytest.raises(InputDataError, match=message):
        ingest_study(load_config(root))


def test_places_setting_limits_and_checks_folders(tmp_path):
    root = make_study(tmp_path, NO_PSEUDO + '[study]\nplaces = ["Southmere"]\n')
    report = ingest_study(load_config(root))
    assert report.added == ["Southmere/s1.vtt"]
    (root / "study.toml").write_text(NO_PSEUDO + '[study]\nplaces = ["Eastholm"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"study.places names folder\(s\) that do not exist: Eastholm"):
        ingest_study(load_config(root))


def test_raw_files_are_never_modified(tmp_path):
    root = make_study(tmp_path)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    ingest_study(load_config(root))
    for path, data in before.items():
        assert path.read_bytes() == data


def test_survey_headed_respondent_ingests_on_the_first_run(tmp_path):
    # issue 16: "no column for the respondent id" stopped a new user's first run
    import openpyxl

    root = make_study(tmp_path)
    book = openpyxl.Workbook()
    book.active.title = "Form1"
    for row in [["Respondent", "Partners trust each other", "What helped?"], [1, "Agree", "The charter."],
                [2, "Disagree", "Nothing yet."], [3, "Agree", "Regular meetings."]]:
        book.active.append(row)
    book.save(root / "Southmere" / "survey_placeB.xlsx")
    config = load_config(root)
    store = Store(config.store_url)
    report = ingest_study(config, store=store)
    assert "Southmere/survey_placeB.xlsx" in report.added
    assert any("taken from 'Respondent'" in w for w in report.warnings["Southmere/survey_placeB.xlsx"])
    assert sorted(store.table(s.RESPONDENTS)[s.RESPONDENT_KEY]) == ["1", "2", "3"]


def test_symlink_out_of_the_study_leaves_the_store_unchanged(tmp_path):
    root = make_study(tmp_path / "study")
    config = load_config(root)
    store = Store(config.store_url)
    ingest_study(config, store=store)
    before = snapshot(store)
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("I: Secret?\nR: Yes.\n", encoding="utf-8")
    (root / "Northfold" / "n3.txt").symlink_to(outside)
    with pytest.raises(InputDataError, match=r"n3\.txt: is a symbolic link .* outside the study folder"):
        ingest_study(config, store=store)
    assert_same(before, snapshot(store))
