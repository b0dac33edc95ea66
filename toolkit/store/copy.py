"""Copying a store: into a new SQLite file or a new database, never into the live one.

SQLite to SQLite uses SQLite's online backup (a consistent copy even while someone reviews).
Anything else (a PostgreSQL store to a file, a SQLite study moved to a server) creates the
target at the code's schema revision and copies every table in one transaction, reading
the source in one snapshot.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from toolkit.errors import InputDataError, StoreError
from toolkit.store import migrate
from toolkit.store.store import Store, _reason
from toolkit.store.tables import metadata, store_info
from toolkit.store.urls import backend_of, redacted_url, resolve_store_url, sqlite_file

log = logging.getLogger(__name__)

CHUNK = 1000


def copy_store(source: Store, target: str | Path, *, include_embeddings: bool = True) -> Store:
    """Copy the store ``source`` into ``target`` (a path or URL) and return the copy, opened.

    The target must be new: a SQLite file that does not exist yet (or is empty), or an empty
    database. Copying into the database the source lives in is refused, whatever URL names it.

    Examples
    --------
    >>> copy = copy_store(study.store, tmp_path / "copy.sqlite")  # doctest: +SKIP
    >>> copy = copy_store(study.store, "env:TOOLKIT_COPY_URL")  # doctest: +SKIP
    """
    url = _target_url(target)
    where = redacted_url(url)
    src_file, dst_file = sqlite_file(source.url), sqlite_file(url)
    if dst_file is not None:
        if src_file is not None and src_file.resolve() == dst_file.resolve():
            raise InputDataError(dst_file, "is the store being copied.", "Copy it to a new file.")
        if dst_file.exists() and dst_file.stat().st_size > 0:
            raise InputDataError(dst_file, "already exists.", "Copy the store to a new file (or remove this one first).")
    if src_file is not None and dst_file is not None:
        return _backup_sqlite(source, src_file, dst_file)
    if backend_of(url) == "sqlite" and dst_file is None:
        raise InputDataError("store copy", "an in-memory target would vanish at once.", "Give a file or a database URL.")
    try:
        target_engine = sa.create_engine(_engine_url(url))
        with target_engine.connect() as conn:
            if _same_database(source.engine, conn):
                raise InputDataError(
                    "store copy", f"{where} is the live database of the store being copied.",
                    "Create a new, empty database for the copy (createdb study_copy) and copy into that.",
                )
            state = migrate.schema_state(conn)
        target_engine.dispose()
    except SQLAlchemyError as exc:
        raise StoreError(f"Cannot open the copy's database {where}: {_reason(exc)}") from None
    if not state.empty:
        raise InputDataError("store copy", f"{where} already holds a store.",
                             "Copy into a new, empty database.")
    copy = Store(url, upgrade=True)
    try:
        _copy_rows(source, copy, include_embeddings=include_embeddings)
    except BaseException:
        copy.close()
        raise
    log.info("store %s copied to %s", source.location, copy.location)
    return copy


def _target_url(target: str | Path) -> str:
    text = str(target)
    if isinstance(target, Path) or ("://" not in text and not text.startswith("env:")):
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    return resolve_store_url(text)


def _engine_url(url: str):
    from toolkit.store.urls import engine_url

    return engine_url(url)


def _backup_sqlite(source: Store, src: Path, dst: Path) -> Store:
    from toolkit.store.engine import create_private_file

    create_private_file(dst)  # a copy of the store is as private as the store
    reader = sqlite3.connect(f"{src.resolve().as_uri()}?mode=ro", uri=True)
    writer = sqlite3.connect(dst)
    try:
        reader.backup(writer)
    finally:
        writer.close()
        reader.close()
    log.info("store %s copied to %s (SQLite backup)", source.location, dst)
    return Store(f"sqlite:///{dst}")


def _same_database(engine: sa.Engine, target: sa.Connection) -> bool:
    """Whether ``target`` is connected to the database ``engine`` reads (same server, same database)."""
    if engine.dialect.name != target.dialect.name or engine.dialect.name != "postgresql":
        return False
    query = sa.text("SELECT current_database(), current_setting('port'), pg_postmaster_start_time(), "
                    "current_setting('data_directory', true)")
    with engine.connect() as conn:
        here = tuple(conn.execute(query).one())
    there = tuple(target.execute(query).one())
    target.rollback()
    return here == there


def _copy_rows(source: Store, copy: Store, *, include_embeddings: bool) -> None:
    tables = [t for t in metadata.sorted_tables if t.name != store_info.name]
    if not include_embeddings:
        tables = [t for t in tables if t.name != "embeddings"]
    with source.engine.connect() as src, copy.transaction() as dst:
        if source.backend == "postgresql":
            src.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        elif source.backend == "sqlite":
            src.exec_driver_sql("BEGIN")  # one snapshot for every table
        counts = {}
        for table in tables:
            result = src.execution_options(stream_results=True).execute(sa.select(table))
            n = 0
            while rows := result.fetchmany(CHUNK):
                dst.execute(table.insert(), [dict(r._mapping) for r in rows])
                n += len(rows)
            counts[table.name] = n
        src.rollback()
        if copy.backend == "postgresql":
            _reset_sequences(dst, tables)
    log.info("copied rows: %s", ", ".join(f"{k} {v}" for k, v in counts.items() if v))


def _reset_sequences(conn: sa.Connection, tables: list[sa.Table]) -> None:
    """Rows were copied with their ids: move each id sequence past the largest one."""
    for table in tables:
        key = [c for c in table.primary_key.columns if c.autoincrement is True or
               (c.autoincrement == "auto" and isinstance(c.type, sa.Integer) and len(table.primary_key.columns) == 1)]
        if not key:
            continue
        column = key[0].name
        conn.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column}'), "
            f"COALESCE((SELECT MAX({column}) FROM {table.name}), 0) + 1, false)"
        ))
