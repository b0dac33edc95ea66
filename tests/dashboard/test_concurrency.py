"""Several researchers at once, on SQLite and on PostgreSQL: decisions never lost or doubled, caches never stale,
pages never crash on a busy store.

- Reviewers write decisions and summaries through the write model (each with its own store
  connection, as separate dashboard sessions do) and a reader reads through a read-only store,
  while ``run_study`` ingests an edited transcript, re-segments and re-codes.
- The change stamp follows in-place updates (what re-attachment does), deletes followed by as
  many inserts, and writes from another connection; a rolled-back write leaves it alone.
- A store locked by someone else gives the page a message and a way to try again; nothing is
  saved twice.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from tests.conftest import BOTH_STORES, new_store_url, store_setting
from tests.dashboard.conftest import APP, build_tiny_study
from tests.dashboard.test_pages import open_page, shown_key, texts
from tests.test_pipeline import INTERVIEW, NO_PSEUDO, make_study
from toolkit import api
from toolkit import schema as s
from toolkit.config import load_config
from toolkit.errors import InputDataError
from toolkit.pipeline import run_study
from toolkit.store import Store, now

THEMES = ("trust_relationships", "it_systems_access", "legal_basis_consent")
EDITED = ("helped us a great deal", "helped us a very great deal")
"""A small edit of one sentence between runs: its segment gets a new key and the work on it moves."""


def reader_study(root: Path) -> api.Study:
    """The study as the dashboard reads it: on a read-only store."""
    config = load_config(root)
    return api.Study(config, Store(config.store_url, read_only=True, study=root))


# --------------------------------------------------------------------------- writes while a run writes
@pytest.fixture
def coded_study(tmp_path, request) -> Path:
    root = make_study(tmp_path / "study", NO_PSEUDO + store_setting(new_store_url(request)))
    run_study(load_config(root), stages=("ingest", "segment", "code"))
    return root


class Reviewer(threading.Thread):
    """Writes decisions (or summaries) through the write model until told to stop; keeps what was acknowledged."""

    def __init__(self, root: Path, name: str, stop: threading.Event, *, summaries: bool = False):
        super().__init__(name=name, daemon=True)
        self.root, self.who, self.stop, self.summaries = root, name, stop, summaries
        self.acknowledged: list[str] = []
        self.refused: list[str] = []
        self.errors: list[BaseException] = []

    def run(self) -> None:
        study = api.open_study(self.root)  # its own connection, like another dashboard session
        reader = reader_study(self.root)
        i = 0
        try:
            while not self.stop.is_set():
                note = f"{self.who} n{i}"
                theme = THEMES[i % len(THEMES)]
                if self.summaries:
                    study.add_summary(row_dimension=s.PLACE, row_value="Northfold", theme=theme, text=note,
                                      author=self.who)
                else:
                    keys = reader.segments()[s.SEGMENT_KEY].tolist()  # the queue as the page shows it now
                    try:
                        study.record_decision(keys[i % len(keys)], decision="add", coder=self.who, theme=theme,
                                              polarity=s.BARRIER, note=note)
                    except InputDataError as exc:  # the run re-segmented that sentence since the queue was read
                        assert "unknown segment key" in str(exc)
                        self.refused.append(note)
                        i += 1
                        continue
                self.acknowledged.append(note)
                i += 1
                time.sleep(0.005)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(exc)
        finally:
            study.store.close()
            reader.store.close()


class Reader(threading.Thread):
    """Reads what the dashboard's pages read, through a read-only store, until told to stop."""

    def __init__(self, root: Path, stop: threading.Event):
        super().__init__(name="reader", daemon=True)
        self.root, self.stop = root, stop
        self.reads = 0
        self.errors: list[BaseException] = []

    def run(self) -> None:
        study = reader_study(self.root)
        try:
            while not self.stop.is_set():
                study.segments(), study.framework_matrix(), study.status(), study.decisions()
                self.reads += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.errors.append(exc)
        finally:
            study.store.close()


@pytest.mark.slow
@pytest.mark.model
@pytest.mark.parametrize("coded_study", BOTH_STORES, indirect=True)
def test_decisions_and_summaries_written_while_a_run_recodes_are_never_lost_or_doubled(coded_study):
    root = coded_study
    config = load_config(root)
    transcript = root / "Northfold" / "n1.txt"
    stop = threading.Event()
    reviewers = [Reviewer(root, f"reviewer {n}", stop) for n in range(3)]
    reviewers.append(Reviewer(root, "summariser", stop, summaries=True))
    reader = Reader(root, stop)
    for thread in (*reviewers, reader):
        thread.start()
    runs = []
    began = now()
    try:
        time.sleep(0.5)
        for n in range(3):  # edit a sentence, then ingest, re-segment and re-code while everyone writes
            transcript.write_text(INTERVIEW.replace(*EDITED) if n % 2 == 0 else INTERVIEW, encoding="utf-8")
            runs.append(run_study(config, stages=("ingest", "segment", "code")))
    finally:
        stop.set()
        for thread in (*reviewers, reader):
            thread.join(timeout=120)
    assert not any(t.is_alive() for t in (*reviewers, reader))
    assert [e for t in (*reviewers, reader) for e in t.errors] == []
    assert all(report.stages == ["ingest", "segment", "code"] for report in runs)
    run_study(config, stages=("ingest", "segment"))  # what the next run does for decisions made during the last one

    store = Store(config.store_url)
    decided = [note for r in reviewers if not r.summaries for note in r.acknowledged]
    summarised = [note for r in reviewers if r.summaries for note in r.acknowledged]
    assert len(decided) > 20 and len(summarised) > 5
    human = store.table(s.HUMAN_CODINGS)
    assert Counter(human[s.NOTE]) == Counter(decided)  # none lost, none twice, none that was refused
    assert Counter(store.table(s.SUMMARIES)[s.TEXT]) == Counter(summarised)
    assert set(human[s.SEGMENT_KEY]) <= set(store.segment_keys())  # every decision on a segment of the study
    assert set(human[s.ANCHOR]) <= {"attached", "moved"}
    assert (human[s.ANCHOR] == "moved").any()  # the edit moved decisions while the reviewers wrote
    history = store.runs_frame(limit=100)
    assert set(history[s.STATUS]) == {"ok"}
    during = history[history[s.STARTED_AT] > began]
    overlapping = sum(int(human[s.CREATED_AT].between(run[s.STARTED_AT], run[s.FINISHED_AT]).sum())
                      for _, run in during.iterrows())
    assert overlapping > 0 and reader.reads > 0  # decisions were saved while stages were running
    fresh = reader_study(root)
    assert len(fresh.decisions()) == len(decided)  # a read-only reader sees every decision


# --------------------------------------------------------------------------- the change stamp
@pytest.fixture
def tiny(tmp_path, request) -> Path:
    return build_tiny_study(tmp_path / "study", url=new_store_url(request))


@pytest.mark.parametrize("tiny", BOTH_STORES, indirect=True)
def test_the_stamp_follows_in_place_updates_and_same_count_replacements_made_elsewhere(tiny):
    reader = reader_study(tiny)
    writer = Store(load_config(tiny).store_url)  # another process's connection
    writer.add_human_codings(pd.DataFrame([{s.SEGMENT_KEY: "k2", s.CODER: "ana", s.DECISION: "accept",
                                            s.THEME: "it_systems_access", s.POLARITY: s.BARRIER}]))
    before, seen = reader.stamp(), reader.decisions()
    assert seen[s.SEGMENT_KEY].tolist() == ["k2"]

    moved = writer.table(s.HUMAN_CODINGS).assign(**{s.SEGMENT_KEY: "k3", s.ANCHOR: "moved"})
    with writer.transaction() as conn:  # what re-attachment does: same rows, updated in place
        writer.update_rows(conn, s.HUMAN_CODINGS, moved, [s.SEGMENT_KEY, s.ANCHOR])
    after = reader.stamp()
    assert after != before
    assert reader.decisions()[s.SEGMENT_KEY].tolist() == ["k3"]  # not the memo of k2
    assert reader.segments().set_index(s.SEGMENT_KEY).at["k3", api.REVIEW_STATUS] == api.REVIEWED

    codings = writer.table(s.CODINGS)
    changed = codings.assign(**{s.POLARITY: s.NEUTRAL})
    with writer.transaction() as conn:  # as many rows deleted as inserted: a count would not change
        writer.replace_machine_codings(conn, changed.drop(columns=[s.CODING_ID]), s.MACHINE_CODER, "r2")
    assert reader.stamp() != after
    assert set(reader.codings().query(f"{s.CODER} == '{s.MACHINE_CODER}'")[s.POLARITY]) == {s.NEUTRAL}

    settled = reader.stamp()
    with pytest.raises(RuntimeError), writer.transaction() as conn:  # rolled back: nothing changed, nor the stamp
        conn.execute(sa.text("DELETE FROM summaries"))
        raise RuntimeError("stop")
    assert reader.stamp() == settled


@pytest.mark.parametrize("tiny", BOTH_STORES, indirect=True)
def test_the_stamp_is_one_small_query(tiny):
    reader = reader_study(tiny)
    statements: list[str] = []
    sa.event.listen(reader.store.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *args: statements.append(statement))
    reader.stamp()
    assert len(statements) == 1 and "store_info" in statements[0] and "count" not in statements[0].lower()


@pytest.mark.parametrize("fresh_study", BOTH_STORES, indirect=True)
def test_a_page_shows_a_change_made_in_place_by_someone_else(fresh_study, monkeypatch, as_user):
    names = api.open_study(fresh_study).theme_names()
    at = open_page("review", fresh_study, monkeypatch, as_user("ana", "researcher"))
    key = shown_key(at)  # the queue's order is learnt: whichever segment it shows first
    store = Store(load_config(fresh_study).store_url)  # another process, e.g. a run re-coding that segment
    codings = store.table(s.CODINGS)
    mine = codings[codings[s.SEGMENT_KEY] == key]
    before = names[mine[s.THEME].iloc[0]]
    other = next(t for t in ("trust_relationships", "agreements_protocols") if names[t] != before)
    assert f"**{before}**" in current_coding(at) and f"**{names[other]}**" not in current_coding(at)
    with store.transaction() as conn:
        store.update_rows(conn, s.CODINGS, mine.assign(**{s.THEME: other}), [s.THEME])
    at.run()
    assert not at.exception
    assert shown_key(at) == key and f"**{names[other]}**" in current_coding(at)


def current_coding(at) -> str:
    """The Review page's "Current coding" line of the segment it shows."""
    return next(m.value for m in at.markdown if "Current coding" in m.value)


# --------------------------------------------------------------------------- a busy store
def hold_the_store(root: Path, *, tables: str = "human_codings", mode: str = "EXCLUSIVE"):
    """Another connection that holds the store's lock until ``release()``: SQLite's write lock (readers too
    with ``mode='read'``), or a PostgreSQL table lock. Returns the release function."""
    config = load_config(root)
    if config.store.url:
        import psycopg

        from toolkit.store.urls import engine_url

        url = engine_url(config.store_url)
        conn = psycopg.connect(host=url.query["host"], port=int(url.query["port"]), user=url.username,
                               dbname=url.database)
        lock = "ACCESS EXCLUSIVE" if mode == "read" else "EXCLUSIVE"
        conn.execute(f"LOCK TABLE {tables} IN {lock} MODE")

        def release_server():
            conn.rollback()
            conn.close()

        return release_server
    import sqlite3

    conn = sqlite3.connect(root / "store" / "study.sqlite", isolation_level=None)
    if mode == "read":
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
    else:
        conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO store_info (key, value) VALUES ('held', 'by a test')")

    def release():
        conn.execute("ROLLBACK")
        conn.execute("PRAGMA locking_mode=NORMAL")
        conn.execute("SELECT 1").fetchone()
        conn.close()

    return release


@pytest.fixture
def impatient(monkeypatch):
    """A store that says "busy" within a fraction of a second instead of waiting 10 s, then 30 s of tries."""
    monkeypatch.setattr("toolkit.store.engine.BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr("toolkit.store.engine.READER_LOCK_TIMEOUT_MS", 100)
    monkeypatch.setattr("toolkit.store.busy.WRITE_DEADLINE", 0.6)
    monkeypatch.syspath_prepend(str(APP.parent))  # where app.py finds loaders
    monkeypatch.setattr("loaders.READ_DEADLINE", 0.6)


@pytest.mark.parametrize("fresh_study", BOTH_STORES, indirect=True)
def test_a_decision_on_a_locked_store_says_so_and_is_saved_once_on_the_next_try(fresh_study, monkeypatch, as_user,
                                                                                  impatient):
    at = open_page("review", fresh_study, monkeypatch, as_user("ana", "researcher"))
    key = shown_key(at)
    release = hold_the_store(fresh_study)
    try:
        at.button(key="review-accept").click().run()
    finally:
        release()
    assert not at.exception, at.exception
    shown = "\n".join(e.value for e in at.error)
    assert "is busy" in shown and "Nothing was saved" in shown and "PASSWORD" not in shown
    store = Store(load_config(fresh_study).store_url)
    assert store.table(s.HUMAN_CODINGS).empty
    at.button(key="review-accept").click().run()  # the researcher tries again
    assert not at.exception
    assert store.table(s.HUMAN_CODINGS)[[s.SEGMENT_KEY, s.DECISION]].values.tolist() == [[key, "accept"]]


@pytest.mark.parametrize("fresh_study", BOTH_STORES, indirect=True)
def test_a_summary_on_a_locked_store_says_so_without_a_traceback(fresh_study, monkeypatch, as_user, impatient):
    at = open_page("themes", fresh_study, monkeypatch, as_user("ana", "researcher"))
    at.radio(key="themes-rows").set_value("place").run()  # the matrix's rows are cases by default
    at.selectbox(key="themes-cell-row").set_value("Fernmouth")
    at.selectbox(key="themes-cell-theme").set_value("trust_relationships").run()
    at.text_area(key="summary-text-place-Fernmouth-trust_relationships").set_value("Trust is low in surveys.")
    release = hold_the_store(fresh_study, tables="summaries")
    try:
        at.button[[b.label for b in at.button].index("Save summary")].click().run()
    finally:
        release()
    assert not at.exception, at.exception
    assert any("is busy" in w.value and "Nothing was saved" in w.value for w in at.warning)
    assert "Try again" in [b.label for b in at.button]
    assert Store(load_config(fresh_study).store_url).table(s.SUMMARIES).empty


@pytest.mark.parametrize("fresh_study", BOTH_STORES, indirect=True)
def test_a_page_whose_store_cannot_be_read_says_so_and_shows_after_try_again(fresh_study, monkeypatch, as_user,
                                                                              impatient):
    from dashboards.access import SESSION_KEY

    monkeypatch.setenv("TOOLKIT_STUDY", str(fresh_study))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state[SESSION_KEY] = as_user("ana", "researcher")
    release = hold_the_store(fresh_study, tables="segments, sources", mode="read")
    try:
        at.run()  # the overview, while another connection holds the store
    finally:
        release()
    assert not at.exception, at.exception
    assert any("is busy" in w.value and "Try again" in w.value for w in at.warning)
    at.button(key="store-busy-retry").click().run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Evidence segments"] == "6"
