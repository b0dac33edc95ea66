"""A busy store on both backends: a write waits and tries again, is saved once, or says so and saves nothing."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

import pytest

from toolkit import schema as s
from toolkit.errors import InputDataError, StoreError
from toolkit.store import Store, StoreBusyError, busy_reason, retry_when_busy
from toolkit.store.urls import engine_url, sqlite_file

PASSWORD = "s3cret-pass-Zq"


@pytest.fixture
def impatient(monkeypatch):
    """SQLite and PostgreSQL give up a lock after 0.1 s (not 10 s), so each try is short."""
    monkeypatch.setattr("toolkit.store.engine.BUSY_TIMEOUT_MS", 100)


@pytest.fixture
def url(store_url, request):
    """The store's URL; on PostgreSQL with a password in it (the test server trusts local sockets)."""
    if store_url.startswith("sqlite"):
        return store_url
    cluster = request.getfixturevalue("postgres_cluster")
    return cluster.url(engine_url(store_url).database, password=PASSWORD)


def hold(url: str, table: str = "summaries"):
    """Another connection that keeps ``table`` from being written until the returned function is called."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(sqlite_file(url), isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN IMMEDIATE")  # SQLite's write lock: every writer waits
        conn.execute("INSERT INTO store_info (key, value) VALUES ('held', 'by a test')")

        def release() -> None:
            conn.execute("ROLLBACK")
            conn.close()

        return release
    import psycopg

    parsed = engine_url(url)
    conn = psycopg.connect(host=parsed.query["host"], port=int(parsed.query["port"]), user=parsed.username,
                           dbname=parsed.database)
    conn.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")  # inserts wait; reads do not

    def release_server() -> None:
        conn.rollback()
        conn.close()

    return release_server


def test_a_write_on_a_store_that_stays_locked_is_refused_with_a_message_and_saves_nothing(url, impatient,
                                                                                         monkeypatch):
    monkeypatch.setattr("toolkit.store.busy.WRITE_DEADLINE", 0.8)
    store = Store(url)
    release = hold(url)
    try:
        started = time.monotonic()
        with pytest.raises(StoreBusyError, match="is busy .*Nothing was written") as refused:
            store.add_summary("place", "Ashby", "trust_relationships", "Trust is low.", author="ana")
        spent = time.monotonic() - started
    finally:
        release()
    assert refused.value.attempts >= 2 and refused.value.reason  # tried again before giving up
    assert spent < 10  # gave up near the deadline, not after a server default
    assert PASSWORD not in str(refused.value) and isinstance(refused.value, StoreError)
    assert store.table(s.SUMMARIES).empty
    store.add_summary("place", "Ashby", "trust_relationships", "Trust is low.", author="ana")  # free again
    assert store.table(s.SUMMARIES)[s.TEXT].tolist() == ["Trust is low."]
    store.close()


def test_a_decision_made_while_the_store_is_locked_waits_and_is_saved_exactly_once(url, impatient, caplog):
    import pandas as pd

    store = Store(url)
    release = hold(url, "human_codings")
    threading.Timer(0.6, release).start()  # the run commits a moment later
    with caplog.at_level(logging.INFO, logger="toolkit.store.busy"):
        saved = store.add_human_codings(pd.DataFrame([{s.SEGMENT_KEY: "k1", s.CODER: "ana", s.DECISION: "accept",
                                                       s.THEME: "trust_relationships", s.POLARITY: s.BARRIER}]))
    assert saved == 1
    assert any("store busy" in r.getMessage() for r in caplog.records)  # it did wait for the lock
    assert store.table(s.HUMAN_CODINGS)[[s.SEGMENT_KEY, s.CODER]].values.tolist() == [["k1", "ana"]]
    store.close()


def test_only_errors_that_mean_busy_are_tried_again():
    calls = []

    def refused():
        calls.append(1)
        raise InputDataError(s.SUMMARIES, "A summary needs some text.")

    with pytest.raises(InputDataError):
        retry_when_busy(refused, sleep=lambda _: None)
    assert len(calls) == 1  # bad input is never "busy"

    class Deadlock(Exception):
        sqlstate = "40P01"

    class UniqueViolation(Exception):
        sqlstate = "23505"

    assert busy_reason(Deadlock()) == "deadlock detected"
    assert busy_reason(UniqueViolation()) is None
    assert busy_reason(sqlite3.OperationalError("no such table: summaries")) is None
    try:
        try:
            raise sqlite3.OperationalError("database is locked")
        except sqlite3.OperationalError:
            raise StoreError("Cannot write the store") from None  # what the store raises over it
    except StoreError as wrapped:
        assert busy_reason(wrapped) == "database is locked"


def test_retrying_stops_at_the_deadline_and_waits_longer_each_time():
    waits: list[float] = []
    clock = [0.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    def locked():
        raise sqlite3.OperationalError("database is locked")

    with pytest.raises(StoreBusyError, match="database is locked") as refused:
        retry_when_busy(locked, deadline=5.0, first_wait=0.1, max_wait=2.0, sleep=sleep, clock=lambda: clock[0],
                        where="Ashby's store")
    assert "Ashby's store" in str(refused.value) and refused.value.attempts == len(waits) + 1
    assert sum(waits) <= 5.0 * 1.5 and len(waits) >= 3
    nominal = [min(2.0, 0.1 * 2 ** n) for n in range(len(waits))]
    assert all(0.5 * n <= w <= 1.5 * n for w, n in zip(waits, nominal))  # growing waits, with jitter
