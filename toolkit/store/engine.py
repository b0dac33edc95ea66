"""Connecting to a store: a SQLAlchemy engine for a writer or for a reader.

A reader's engine cannot write, whatever its database rights: SQLite is opened through a
``mode=ro`` URI (the file is opened read-only by the operating system) with ``query_only``
on; PostgreSQL sessions start with ``default_transaction_read_only`` on (and the dashboard's
role should have SELECT rights only, see :meth:`toolkit.store.Store.grant_reader`).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

from toolkit.errors import StoreError
from toolkit.store import changes
from toolkit.store.busy import SQLITE_BUSY
from toolkit.store.urls import engine_url, redacted_url, sqlite_file

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
"""How long a SQLite connection waits for another's lock before "database is locked"."""
READER_LOCK_TIMEOUT_MS = 10_000
"""How long a PostgreSQL reader waits for a table lock (a migration's) before giving up, busy."""
APPLICATION_NAME = "toolkit"


def make_engine(url: str, *, read_only: bool = False) -> sa.Engine:
    """An engine for the store at ``url`` (a writer's, or a reader's that cannot write)."""
    parsed = engine_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, url, read_only=read_only)
    kwargs: dict = {"future": True, "pool_pre_ping": True}
    if backend == "postgresql":
        options = (f"-c default_transaction_read_only=on -c lock_timeout={READER_LOCK_TIMEOUT_MS}"
                   if read_only else "")
        kwargs["connect_args"] = {"application_name": APPLICATION_NAME, **({"options": options} if options else {})}
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"Cannot open the store at {redacted_url(url)}: its database driver ({exc.name}) is not installed. "
            "Run `make setup` (it installs psycopg for PostgreSQL), or pip install 'psycopg[binary]'."
        ) from None
    return engine if read_only else changes.track(engine)


def _sqlite_engine(parsed: URL, url: str, *, read_only: bool) -> sa.Engine:
    path = sqlite_file(parsed)
    if not read_only:
        if path is not None:
            try:
                create_private_file(path)
            except OSError as exc:
                raise StoreError(f"Cannot create the project store {path}: {exc.strerror}.") from None
        engine = sa.create_engine(parsed, future=True)
        sa.event.listen(engine, "connect", _writer_pragmas)
        return changes.track(engine)
    if path is None:
        raise StoreError("An in-memory store cannot be opened read-only (there is nothing to read).")
    if not path.is_file():
        raise StoreError(f"No project store at {path} yet. Run the pipeline first: toolkit run STUDY.")
    return sa.create_engine("sqlite://", creator=lambda: _read_only_connection(path), poolclass=sa.pool.QueuePool,
                            future=True)


def create_private_file(path: Path) -> Path:
    """Create a store's file readable by its owner only (0600), and its folder 0700 when it is new.

    It holds special-category data, so it is private from its first byte: an empty file is an
    empty SQLite database, and SQLite creates the ``-wal`` and ``-shm`` files with the database
    file's permissions. An existing file is left as it is (``toolkit doctor`` warns when others can read it).
    """
    folder = path.parent
    if not folder.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)  # mkdir's mode is masked by the umask
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    return path


def _read_only_connection(path: Path) -> sqlite3.Connection:
    """A connection that the operating system lets read the file only (``mode=ro``).

    A store in WAL mode needs its ``-shm`` index; when the reader may not create it (a
    read-only folder) and no writer has it open, the file is opened ``immutable`` instead:
    nothing is writing it then, and nothing is ever written by this connection.
    """
    uri = f"{path.resolve().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        conn.close()
        if any(busy in str(exc).lower() for busy in SQLITE_BUSY):
            raise  # a writer holds the store: busy, not a read-only folder (immutable would never see its writes)
        log.warning("store %s opened immutable (read-only folder, no writer): %s", path, exc)
        conn = sqlite3.connect(f"{uri}&immutable=1", uri=True, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA query_only=ON")
    return conn


def _writer_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()
