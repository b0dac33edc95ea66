"""The run lock: one pipeline run per study at a time, across processes and machines.

- SQLite: an advisory lock on a file beside the store (``study.sqlite.run.lock``,
  :func:`toolkit.io.file_lock`). The file tells a waiting run who holds it.
- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a key derived from the
  database and schema, held by one connection for the whole run. The server lets it go when
  that session ends, however the run ends.

Either way a run that was killed leaves no lock behind; its runs row still says ``running``
until :meth:`toolkit.store.Store.mark_interrupted_runs` sees that nobody holds the lock.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from toolkit.errors import StoreError
from toolkit.io import LockBusy, file_lock

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
_MEMORY_LOCKS: dict[int, threading.Lock] = {}


class RunLocked(StoreError):
    """Another run holds the study's run lock (and did not let go within the wait).

    ``holder`` describes who holds it (user, machine, process, since when), as far as known.
    """

    def __init__(self, message: str, holder: str = ""):
        super().__init__(message)
        self.holder = holder


StoreBusy = RunLocked
"""Another name for :class:`RunLocked`."""


def holder_info(purpose: str = "toolkit run") -> dict[str, object]:
    """Who is taking the lock: written where a waiting run can read it."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for the uid (containers)
        user = str(os.getuid())
    return {"what": purpose, "user": user, "host": socket.gethostname(), "pid": os.getpid(),
            "since": datetime.now(UTC).isoformat(timespec="seconds")}


def describe(info: dict[str, object] | None) -> str:
    if not info:
        return "another process (no details recorded)"
    return f"{info.get('what', 'a run')} by {info.get('user', '?')} on {info.get('host', '?')} " \
           f"(process {info.get('pid', '?')}, since {info.get('since', '?')})"


# ---------------------------------------------------------------------------- SQLite
def lock_file_for(database: Path) -> Path:
    """The lock file of a SQLite store: beside it, named after it."""
    return database.with_name(database.name + ".run.lock")


@contextmanager
def sqlite_run_lock(database: Path, *, wait: float, where: str, purpose: str) -> Iterator[dict]:
    path = lock_file_for(database)
    try:
        with file_lock(path, wait=wait, poll=POLL_SECONDS):
            info = holder_info(purpose)
            try:
                path.write_text(json.dumps(info) + "\n", encoding="utf-8")  # same inode: the lock stays
            except OSError:
                pass
            yield info
    except LockBusy:
        held = _read_holder(path)
        raise RunLocked(_busy_message(where, describe(held), wait), describe(held)) from None


def _read_holder(path: Path) -> dict | None:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return {"pid": text} if text.isdigit() else None


@contextmanager
def memory_run_lock(key: int, *, wait: float, where: str, purpose: str) -> Iterator[dict]:
    """An in-memory store lives in one process: a plain thread lock is its run lock."""
    lock = _MEMORY_LOCKS.setdefault(key, threading.Lock())
    acquired = lock.acquire(timeout=wait) if wait > 0 else lock.acquire(blocking=False)
    if not acquired:
        raise RunLocked(_busy_message(where, "another thread of this process", wait), "this process")
    try:
        yield holder_info(purpose)
    finally:
        lock.release()


# ---------------------------------------------------------------------------- PostgreSQL
def advisory_key(conn: sa.Connection) -> int:
    """The study's lock key: from the database and schema the store lives in (a signed 64-bit int)."""
    database, schema = conn.execute(sa.text("SELECT current_database(), current_schema()")).one()
    digest = hashlib.blake2b(f"toolkit run lock:{database}:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def postgres_run_lock(engine: sa.Engine, *, wait: float, where: str, purpose: str) -> Iterator[dict]:
    info = holder_info(purpose)
    conn = engine.connect()
    try:
        name = f"{purpose} {info['user']}@{info['host']} pid {info['pid']}"[:63]
        conn.execute(sa.text("SELECT set_config('application_name', :name, false)"), {"name": name})
        key = advisory_key(conn)
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
            conn.commit()  # the lock is the session's: it outlives this transaction
            if got:
                break
            if time.monotonic() >= deadline:
                held = postgres_holder(conn, key)
                raise RunLocked(_busy_message(where, held, wait), held)
            time.sleep(POLL_SECONDS)
        try:
            yield info
        finally:
            try:
                conn.rollback()
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()
            except sa.exc.SQLAlchemyError:  # the session is gone: so is its lock
                conn.invalidate()
    finally:
        conn.close()


def postgres_holder(conn: sa.Connection, key: int) -> str:
    """Who holds the advisory lock ``key``: the session's application name, user and start."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    row = conn.execute(
        sa.text(
            "SELECT a.pid, a.usename, a.application_name, a.backend_start FROM pg_locks l "
            "LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
            "AND l.classid = :hi AND l.objid = :lo AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF},
    ).first()
    conn.rollback()
    if row is None:
        return "another session (it let go a moment ago)"
    pid, user, application, since = row
    what = application or "a database session"
    started = since.isoformat(timespec="seconds") if since is not None else "?"
    return f"{what} (database user {user or '?'}, server process {pid}, connected since {started})"


def _busy_message(where: str, holder: str, wait: float) -> str:
    waited = f" after waiting {wait:g} s" if wait > 0 else ""
    return (f"Another run is using the study's store at {where}{waited}: it is held by {holder}. "
            "Wait for that run to finish and try again (or stop it if it should not be running).")
