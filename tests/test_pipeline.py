"""The pipeline: settings-aware stages, human work that survives edits, one run at a time, runs that say how they ended.

These run the real ingest and segment stages (spaCy's small English model for sentences)
on a tiny study; coding and topics are not needed to show where human work goes.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests.conftest import BOTH_STORES, new_store_url, store_setting
from toolkit import schema as s
from toolkit.config import load_config
from toolkit.pipeline import RunLockedError, run_lock, run_study
from toolkit.review import ReviewContext, record_decisions
from toolkit.store import Store

pytestmark = pytest.mark.model

SAMPLE = Path(__file__).resolve().parents[1] / "interviews"
NO_PSEUDO = "[pseudonymisation]\nenabled = false\n"

INTERVIEW = (
    "Interviewer: What has helped you share information?\n"
    "Respondent: The data sharing charter helped us a great deal. We finally had one agreed process.\n"
    "Interviewer: And what gets in the way?\n"
    "Respondent: The two systems still do not talk to each other. Every match is done by hand.\n"
    "Interviewer: Anything else?\n"
    "Respondent: Trust between the GP surgeries and the council took years to build.\n"
)


def survey(path: Path, rows: list[tuple[int, str, str]]) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["ID", "What is your role?", "What gets in the way of sharing information?"])
    for row in rows:
        sheet.append(list(row))
    book.save(path)


SURVEY_ROWS = [
    (1, "Health visitor", "Consent forms are confusing for families."),
    (2, "School nurse", "We never hear back from the council after a referral."),
    (3, "GP", "Information governance advice takes weeks to arrive."),
]


def make_study(root: Path, config: str = NO_PSEUDO) -> Path:
    (root / "Northfold").mkdir(parents=True)
    (root / "study.toml").write_text(config, encoding="utf-8")
    (root / "Northfold" / "n1.txt").write_text(INTERVIEW, encoding="utf-8")
    survey(root / "Northfold" / "survey.xlsx", SURVEY_ROWS)
    return root


def segments(store: Store) -> pd.DataFrame:
    return store.segments_frame(evidence_only=True)


def decide_on_everything(store: Store, config) -> list[str]:
    from toolkit.codebook import load_codebook

    context = ReviewContext(store=store, codebook=load_codebook(check_patterns=False))
    keys = segments(store)[s.SEGMENT_KEY].tolist()
    record_decisions(context, keys, decision="add", coder="ana", theme="trust_relationships", polarity="barrier",
                     note="checked")
    return keys


def attached(store: Store) -> tuple[int, int]:
    """(decisions whose segment is in the store, all decisions)."""
    human = store.table(s.HUMAN_CODINGS)
    return int(human[s.SEGMENT_KEY].isin(set(store.segment_keys())).sum()), len(human)


@pytest.fixture
def study(tmp_path, request):
    root = make_study(tmp_path / "study", NO_PSEUDO + store_setting(new_store_url(request)))
    config = load_config(root)
    store = Store(config.store_url)
    run_study(config, store=store, stages=("ingest", "segment"))
    return root, config, store


# --------------------------------------------------------------------------- human work never goes astray
@pytest.mark.parametrize("study", BOTH_STORES, indirect=True)
def test_decisions_survive_a_line_added_at_the_top_of_a_transcript(study):
    root, config, store = study
    decide_on_everything(store, config)
    path = root / "Northfold" / "n1.txt"
    path.write_text("Interviewer: Thank you for joining us today, this is the second session.\n" + INTERVIEW,
                    encoding="utf-8")
    report = run_study(config, store=store, stages=("ingest", "segment"))
    assert report.ingest.updated == ["Northfold/n1.txt"]
    assert attached(store) == (len(store.table(s.HUMAN_CODINGS)),) * 2


def test_decisions_survive_a_renamed_file(study):
    root, config, store = study
    decide_on_everything(store, config)
    shutil.move(root / "Northfold" / "n1.txt", root / "Northfold" / "NF01 programme lead.txt")
    report = run_study(config, store=store, stages=("ingest", "segment"))
    assert report.ingest.renamed == ["Northfold/NF01 programme lead.txt"]
    assert attached(store) == (len(store.table(s.HUMAN_CODINGS)),) * 2


def test_decisions_on_other_respondents_survive_an_added_survey_row(study):
    root, config, store = study
    decide_on_everything(store, config)
    survey(root / "Northfold" / "survey.xlsx", [(0, "Social worker", "Nobody told us who the IG lead was.")]
           + SURVEY_ROWS)
    run_study(config, store=store, stages=("ingest", "segment"))
    assert attached(store) == (len(store.table(s.HUMAN_CODINGS)),) * 2


@pytest.mark.parametrize("study", BOTH_STORES, indirect=True)
def test_an_edited_sentence_moves_its_decision_and_a_deleted_one_is_reported(study):
    root, config, store = study
    decide_on_everything(store, config)
    edited = INTERVIEW.replace("helped us a great deal", "helped us a very great deal").replace(
        " Every match is done by hand.", "")
    (root / "Northfold" / "n1.txt").write_text(edited, encoding="utf-8")
    report = run_study(config, store=store, stages=("ingest", "segment"))
    assert report.segment["moved"] >= 1
    assert report.segment["orphaned"] == 1
    human = store.table(s.HUMAN_CODINGS).set_index(s.TEXT)
    assert human.loc["The data sharing charter helped us a very great deal.", s.ANCHOR] == "moved"
    orphan = human[human[s.ANCHOR] == "orphaned"]
    assert orphan.index.tolist() == ["Every match is done by hand."]  # kept, reported, never dropped
    run_study(config, store=store, stages=("ingest", "segment"))
    assert len(store.table(s.HUMAN_CODINGS)) == len(human)


# --------------------------------------------------------------------------- settings-aware stages
def test_an_unrelated_setting_reruns_nothing(study):
    root, config, store = study
    toml = root / "study.toml"
    toml.write_text(NO_PSEUDO + "[topics]\ntop_n_words = 7\n[store]\npath = 'store/study.sqlite'\n", encoding="utf-8")
    report = run_study(load_config(root), store=store, stages=("ingest", "segment"))
    assert report.stages == []
    assert report.ingest.unchanged == ["Northfold/n1.txt", "Northfold/survey.xlsx"]


def test_a_run_with_nothing_to_do_changes_no_stamp(study):
    """Closing runs when none is open updates no row: readers' caches (the dashboard, notebooks) stay valid."""
    root, config, store = study
    before = store.changes()
    report = run_study(load_config(root), store=store, stages=("ingest", "segment"))
    assert report.stages == [] and store.changes() == before


def test_a_segment_setting_resegments_and_keeps_the_decisions(study):
    root, config, store = study
    decide_on_everything(store, config)
    (root / "study.toml").write_text(NO_PSEUDO + "[coding]\nmin_words = 9\n", encoding="utf-8")
    report = run_study(load_config(root), store=store, stages=("ingest", "segment"))
    assert report.stages == ["segment"]
    linked, total = attached(store)
    assert linked == total


def test_a_section_nothing_reads_is_refused(tmp_path):
    from toolkit.errors import ConfigError

    root = make_study(tmp_path / "s", NO_PSEUDO + "[dashboard]\ntheme = 'dark'\n")
    with pytest.raises(ConfigError, match="unknown section 'dashboard'"):
        load_config(root)


def test_a_pseudonymisation_setting_reaches_every_stored_source_and_keeps_the_decisions(tmp_path):
    """A word added to [pseudonymisation] deny is replaced in every source already stored, and in the work on it."""
    root = make_study(tmp_path / "s", "[pseudonymisation]\nenabled = true\n")
    config = load_config(root)
    store = Store(config.store_url)
    run_study(config, store=store, stages=("ingest", "segment"))
    assert store.table(s.SOURCES)[s.TEXT].str.contains("charter").any()
    decide_on_everything(store, config)
    (root / "study.toml").write_text("[pseudonymisation]\nenabled = true\ndeny = ['charter']\n", encoding="utf-8")
    report = run_study(load_config(root), store=store, stages=("ingest", "segment"))
    assert sorted(report.ingest.updated) == ["Northfold/n1.txt", "Northfold/survey.xlsx"]
    for table in (s.SOURCES, s.TURNS, s.SEGMENTS, s.HUMAN_CODINGS):
        assert not store.table(table)[s.TEXT].str.contains("charter", case=False).any(), table
    linked, total = attached(store)
    assert linked == total


@pytest.mark.slow
def test_a_known_name_added_after_reading_the_residual_risk_list_reaches_the_sample_store(tmp_path):
    """The sample's own workflow: a word left on the residual-risk list is added to known_names."""
    root = tmp_path / "sample"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("store", "private", "*.xlsx"))
    settings = (SAMPLE / "study.toml").read_text(encoding="utf-8")
    config = load_config(root)
    store = Store(config.store_url)
    run_study(config, store=store, stages=("ingest", "segment"))
    assert store.table(s.SOURCES)[s.TEXT].str.contains(r"\bRose\b").any()  # on the residual-risk list
    (root / "study.toml").write_text(settings.replace('known_names = ["Clem"]', 'known_names = ["Clem", "Rose"]'),
                                     encoding="utf-8")
    report = run_study(load_config(root), store=store, stages=("ingest", "segment"))
    assert len(report.ingest.updated) == 12  # every transcript is pseudonymised again
    for table in (s.SOURCES, s.TURNS, s.SEGMENTS):
        assert not store.table(table)[s.TEXT].str.contains(r"\bRose\b").any(), table


# --------------------------------------------------------------------------- one run at a time; runs say how they ended
@pytest.mark.parametrize("study", BOTH_STORES, indirect=True)
def test_a_second_run_is_refused_while_one_holds_the_lock(study):
    root, config, store = study
    with run_lock(config, Store(config.store_url)):  # another process's store
        with pytest.raises(RunLockedError, match="Another run is using the study's store"):
            run_study(config, store=store, stages=("ingest",))


@pytest.mark.parametrize("study", BOTH_STORES, indirect=True)
def test_a_second_run_waits_for_the_first_when_asked(study):
    root, config, store = study
    released = threading.Event()

    def hold():
        with run_lock(config, Store(config.store_url)):
            time.sleep(1.0)
        released.set()

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.2)
    report = run_study(config, store=store, stages=("ingest",), wait=30)
    holder.join()
    assert released.is_set() and report.ingest is not None


@pytest.mark.parametrize("study", BOTH_STORES, indirect=True)
def test_a_run_stopped_with_ctrl_c_is_recorded_as_interrupted_and_changes_nothing(study, monkeypatch):
    root, config, store = study
    (root / "study.toml").write_text(NO_PSEUDO + "[coding]\nmin_words = 9\n", encoding="utf-8")
    before = store.table(s.SEGMENTS)

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("toolkit.segment.segment_sources", stop)
    with pytest.raises(KeyboardInterrupt):
        run_study(load_config(root), store=store, stages=("segment",))
    runs = store.runs_frame()
    assert runs.iloc[0][s.STAGE] == "segment" and runs.iloc[0][s.STATUS] == "interrupted"
    pd.testing.assert_frame_equal(store.table(s.SEGMENTS), before)


@pytest.mark.parametrize("study", BOTH_STORES, indirect=True)
def test_a_run_left_running_by_a_killed_process_is_marked_interrupted(study):
    root, config, store = study
    run_id = store.start_run("code", config_hash="x")
    report = run_study(config, store=store, stages=("ingest",))
    assert report.interrupted_before == 1
    runs = store.runs_frame().set_index(s.RUN_ID)
    assert runs.loc[run_id, s.STATUS] == "interrupted"


def test_the_key_is_swapped_in_only_after_the_store_commits(tmp_path, monkeypatch):
    root = make_study(tmp_path / "s", "[pseudonymisation]\nner_model = ''\n")
    config = load_config(root)
    store = Store(config.store_url)

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Store, "insert_turns", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        run_study(config, store=store, stages=("ingest",))
    assert not config.key_path.exists()
    assert list(config.key_path.parent.glob("*")) == [] if config.key_path.parent.exists() else True
    assert store.table(s.SOURCES).empty
    assert store.runs_frame().iloc[0][s.STATUS] == "failed"
