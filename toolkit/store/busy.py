"""A busy store: the errors that mean "try again in a moment", and doing it again, with backoff.

Several researchers review while a run writes. Most of the time nobody waits: SQLite in WAL
mode lets readers read while one writer writes, and PostgreSQL's row locks never make an
appended decision wait for a run. What is left is *busy*, never *wrong*:

- SQLite: another connection held the write lock for longer than the busy timeout
  (``database is locked``, ``database table is locked``, ``database is busy``);
- PostgreSQL: serialization failure (40001), deadlock detected (40P01), lock not available
  (55P03, a reader's ``lock_timeout`` while a migration holds a table), too many connections
  (53300), the server starting up (57P03).

Each of these leaves the transaction rolled back (or never begun), so doing the whole
transaction again cannot write anything twice: :func:`retry_when_busy` does, waiting a little
longer each time (with jitter, so that waiting writers do not all come back at once), until a
deadline, then raises :class:`StoreBusyError` with a message a researcher can act on. A lost
connection in the middle of a commit is *not* busy: whether it committed is unknown, so it
is never retried blindly.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

from toolkit.errors import StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")

SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")
POSTGRES_BUSY = {
    "40001": "serialization failure",
    "40P01": "deadlock detected",
    "55P03": "lock not available",
    "53300": "too many connections",
    "57P03": "the server is starting up",
}
WRITE_DEADLINE = 30.0
"""Seconds a write of human work keeps trying while the store is busy (SQLite waits its busy timeout each try)."""


class StoreBusyError(StoreError):
    """The store stayed busy (locked by a run, or contended) until the deadline; nothing was written.

    ``reason`` says what the database answered (``database is locked``, ``deadlock detected``...).
    """

    def __init__(self, message: str, reason: str = "", attempts: int = 0):
        super().__init__(message)
        self.reason = reason
        self.attempts = attempts


def busy_reason(exc: BaseException | None) -> str | None:
    """Why ``exc`` means the store is busy (safe to try again), or ``None`` when it means something else.

    Looks through SQLAlchemy's wrapper (``.orig``) and the exception's cause and context, so a
    :class:`toolkit.errors.StoreError` raised ``from None`` over a lock is still recognised.

    Examples
    --------
    >>> busy_reason(sqlite3.OperationalError("database is locked"))
    'database is locked'
    >>> busy_reason(ValueError("no such theme")) is None
    True
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, StoreBusyError):
            return exc.reason or "busy"
        original = getattr(exc, "orig", None)
        for candidate in (original, exc):
            if candidate is None:
                continue
            if isinstance(candidate, sqlite3.OperationalError):
                text = str(candidate).lower()
                hit = next((b for b in SQLITE_BUSY if b in text), None)
                if hit:
                    return hit
            state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
            if state in POSTGRES_BUSY:
                return POSTGRES_BUSY[state]
        exc = exc.__cause__ or exc.__context__
    return None


NOTHING_WRITTEN = "Nothing was written. A run is probably writing to it: try again in a moment."


def retry_when_busy(work: Callable[[], T], *, deadline: float | None = None, first_wait: float = 0.05,
                    max_wait: float = 2.0, what: str = "the write", where: str = "the project store",
                    then: str = NOTHING_WRITTEN, sleep: Callable[[float], None] = time.sleep,
                    clock: Callable[[], float] = time.monotonic) -> T:
    """``work()``, done again with growing waits while the store is busy, until ``deadline`` seconds passed.

    ``work`` must be one whole transaction (it is run again from the start). Errors that are not
    busy pass through at once. Raises :class:`StoreBusyError` when the store is still busy at the
    deadline; its message names the store (``where``, never with a password), ``what`` failed and
    ends with ``then``. ``sleep`` and ``clock`` are injected for tests.

    Examples
    --------
    >>> retry_when_busy(lambda: store.add_summary("place", "Ashby", "trust", "text", author="ana"))  # doctest: +SKIP
    """
    deadline = WRITE_DEADLINE if deadline is None else deadline
    start = clock()
    wait = first_wait
    attempts = 0
    while True:
        attempts += 1
        try:
            return work()
        except Exception as exc:
            reason = busy_reason(exc)
            if reason is None:
                raise
            spent = clock() - start
            if spent + wait > deadline:
                raise StoreBusyError(
                    f"The study's store at {where} is busy ({reason}): {what} did not go through after "
                    f"{attempts} {'try' if attempts == 1 else 'tries'} in {spent:.0f} s. {then}",
                    reason=reason, attempts=attempts,
                ) from None
            log.info("store busy (%s); %s tried again in %.2f s (try %d)", reason, what, wait, attempts + 1)
            sleep(wait * random.uniform(0.5, 1.5))
            wait = min(max_wait, wait * 2)
