"""The store on both backends: writes and reads, refused input, the run lock, interrupted runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from toolkit import schema as s
from toolkit.errors import InputDataError, StoreError
from toolkit.store import INTERRUPTED, RUNNING, RunLocked, Store

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(store_url):
    opened = Store(store_url)
    yield opened
    opened.close()


def _add_source(store: Store, path: str = "Ashby/AS01.txt", text: str = "I: Hello\nR: Hi") -> int:
    with store.transaction() as conn:
        source_id = store.insert_source(conn, {s.PATH: path, s.PLACE: "Ashby", s.KIND: "transcript",
                                               s.FORMAT: "txt", s.CONTENT_HASH: "h" * 64, s.TEXT: text})
        store.insert_turns(conn, source_id, pd.DataFrame([
            {s.TURN_INDEX: 0, s.SPEAKER: "I01", s.SPEAKER_ROLE: s.INTERVIEWER, s.START_CHAR: 3, s.END_CHAR: 8,
             s.TEXT: "Hello"},
            {s.TURN_INDEX: 1, s.SPEAKER: "AS01", s.SPEAKER_ROLE: s.PARTICIPANT, s.START_CHAR: 12, s.END_CHAR: 14,
             s.TEXT: "Hi"},
        ]))
    return source_id


def test_a_new_store_is_created_at_head_and_reads_back_what_was_written(store):
    assert store.schema.current
    _add_source(store)
    assert store.counts()[s.SOURCES] == 1 and store.counts()[s.TURNS] == 2
    assert store.turns_for_segmenting()[s.TEXT].tolist() == ["Hello", "Hi"]
    store.add_summary("place", "Ashby", "trust_relationships", "First.", author="ana")
    store.add_summary("place", "Ashby", "trust_relationships", "Second.", author="ana")
    assert store.latest(s.SUMMARIES, [s.ROW_DIMENSION, s.ROW_VALUE, s.THEME])[s.TEXT].tolist() == ["Second."]


def test_a_failed_write_leaves_the_store_as_it_was(store):
    _add_source(store)
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.delete_source(conn, "Ashby/AS01.txt")
        raise RuntimeError("boom")
    assert store.counts()[s.SOURCES] == 1 and store.counts()[s.TURNS] == 2


def test_a_value_longer_than_its_column_is_refused_before_writing(store):
    """A 500-character practice title in a 300-character column: PostgreSQL would refuse it mid-write."""
    with pytest.raises(InputDataError, match=r"practices\.title: a value of 500 characters .* the 300 characters"):
        store.add_practice("k1", included=True, author="ana", title="x" * 500)
    assert store.counts()[s.PRACTICES] == 0
    store.add_practice("k1", included=True, author="ana", title="x" * 300)
    assert store.counts()[s.PRACTICES] == 1


def test_a_long_value_in_a_frame_names_its_row_and_nothing_is_written(store):
    _add_source(store)
    rows = pd.DataFrame([{s.SEGMENT_KEY: "k1", s.CODER: "ana", s.DECISION: "accept"},
                         {s.SEGMENT_KEY: "k2", s.CODER: "a" * 101, s.DECISION: "accept"}])
    with pytest.raises(InputDataError, match=r"human_codings\.coder, row 2 of 2: a value of 101 characters"):
        store.add_human_codings(rows)
    with pytest.raises(InputDataError, match=r"sources\.place: a value of 201"), store.transaction() as conn:
        store.insert_source(conn, {s.PATH: "x.txt", s.PLACE: "p" * 201, s.KIND: "transcript", s.FORMAT: "txt",
                                   s.CONTENT_HASH: "h"})
    assert store.counts()[s.HUMAN_CODINGS] == 0 and store.counts()[s.SOURCES] == 1


@pytest.mark.parametrize(
    ("write", "match"),
    [
        (lambda st: st.add_human_codings(pd.DataFrame([{s.SEGMENT_KEY: "k", s.CODER: "a", s.DECISION: "maybe"}])),
         "Unknown decision 'maybe'"),
        (lambda st: st.add_comment("Hm.", author="ana", author_role="boss"), "Unknown role 'boss'"),
        (lambda st: st.add_comment("  ", author="ana", author_role="reviewer"), "needs some text"),
        (lambda st: st.add_topic_edit("explode", [["k1"]], author="ana"), "Unknown topic edit 'explode'"),
        (lambda st: st.add_topic_edit("rename", [["k1"]], author=" "), "name of the researcher"),
        (lambda st: st.finish_run("r1", "done"), "Unknown run status 'done'"),
        (lambda st: st.table("nonsense"), "no table 'nonsense'"),
    ],
)
def test_bad_input_raises_input_errors_not_store_errors(write, match):
    store = Store("sqlite://")
    with pytest.raises(InputDataError, match=match) as caught:
        write(store)
    assert not isinstance(caught.value, StoreError)
    assert sum(store.counts().values()) == 1  # only store_info's schema version


def test_the_run_lock_refuses_a_second_run_and_names_its_holder(store_url):
    first, second = Store(store_url), Store(store_url)
    with first.run_lock(purpose="toolkit run"):
        assert first.holds_run_lock
        with pytest.raises(RunLocked, match=r"Another run is using the study's store .* after waiting 0\.5 s") as busy, \
                second.run_lock(wait=0.5):
            pass
        assert "toolkit run" in busy.value.holder and str(os.getpid()) in busy.value.holder
        with first.run_lock():  # re-entrant within one Store
            pass
        assert first.holds_run_lock
    assert not first.holds_run_lock
    with second.run_lock():
        assert second.holds_run_lock


def test_a_waiting_run_gets_the_lock_when_the_holder_lets_go(store_url):
    first, second = Store(store_url), Store(store_url)
    released = threading.Event()

    def hold() -> None:
        with first.run_lock():
            released.wait(5)
            time.sleep(0.3)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.3)
    released.set()
    with second.run_lock(wait=10):
        assert second.holds_run_lock
    holder.join()


def test_a_killed_run_is_marked_interrupted_but_a_live_one_is_not(store_url, tmp_path):
    store = Store(store_url)
    ready = tmp_path / "ready"
    script = textwrap.dedent(f"""
        import sys, time
        from toolkit.store import Store
        store = Store({store_url!r})
        with store.run_lock():
            store.start_run("code")
            open({str(ready)!r}, "w").close()
            time.sleep(60)
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert child.poll() is None, "the child run died before taking the lock"
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert store.mark_interrupted_runs() == 0  # the run is alive: its lock is held
        assert store.runs_frame()[s.STATUS].tolist() == [RUNNING]
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        # PostgreSQL ends a dead client's session (and so frees its advisory lock) a moment after
        # the client dies, not at once: until then the run still looks alive and nothing is marked.
        deadline = time.monotonic() + 30
        marked = store.mark_interrupted_runs()
        while marked == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
            marked = store.mark_interrupted_runs()
        assert marked == 1
        runs = store.runs_frame()
        assert runs[s.STATUS].tolist() == [INTERRUPTED] and runs[s.FINISHED_AT].notna().all()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_mark_interrupted_with_the_lock_held_marks_every_running_row(store):
    leftover = store.start_run("ingest")
    with store.run_lock():
        assert store.mark_interrupted_runs() == 1
        current = store.start_run("code")
        store.finish_run(current, INTERRUPTED)  # what the pipeline records on Ctrl-C
    statuses = dict(zip(store.runs_frame()[s.RUN_ID], store.runs_frame()[s.STATUS]))
    assert statuses == {leftover: INTERRUPTED, current: INTERRUPTED}


def test_the_url_is_never_shown_with_its_password(postgres_cluster):
    url = postgres_cluster.url("no_such_database", user="ana", password="s3cret-pw")
    with pytest.raises(StoreError) as failed:
        Store(url)
    assert "s3cret-pw" not in str(failed.value) and "ana:***@" in str(failed.value)
    good = postgres_cluster.url(postgres_cluster.create_database(), password="s3cret-pw")
    store = Store(good)
    assert "s3cret-pw" not in repr(store) and "s3cret-pw" not in store.redacted_url()
    store.close()


def test_an_env_url_is_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TOOLKIT_STORE_URL", f"sqlite:///{tmp_path / 'env.sqlite'}")
    store = Store("env:TOOLKIT_STORE_URL")
    assert store.url.endswith("env.sqlite") and (tmp_path / "env.sqlite").exists()
    monkeypatch.delenv("TOOLKIT_STORE_URL")
    from toolkit.errors import ConfigError

    with pytest.raises(ConfigError, match="TOOLKIT_STORE_URL is not set"):
        Store("env:TOOLKIT_STORE_URL")
