"""The store's change stamp: a token per table, renewed by every transaction that writes the table.

Caches (the read model's memo, the dashboard's loaders) must know when what they hold is
stale, cheaply: counting rows misses an in-place ``UPDATE`` (re-attachment moves human work
without adding a row) and a delete followed by as many inserts; a max id misses updates too.
So every writer engine (:func:`track`) notes which tables each transaction inserts into,
updates or deletes from, and just before the commit, in the same transaction, gives each of
them a new random token in ``store_info`` (key ``changed.<table>``). A reader that sees the
rows sees their token; a token never comes back (not even after the store is deleted and
built again, which a counter would repeat); reading every token is one small indexed query
(:func:`read_changes`, ``Store.changes()``).

The tokens are written at commit, not at the first write, so on PostgreSQL the row lock on
a token is held only while the transaction commits: a long pipeline transaction never makes
a reviewer's decision wait for it. Tokens are upserted in sorted order, so two transactions
never wait for each other's tokens in a cycle. SQLite's ``PRAGMA data_version`` is not used:
it is per connection and does not change for the connection's own writes.

Writes made outside the toolkit (a ``psql`` session, another program) and schema migrations
(:func:`untracked`; a reader is restarted after ``toolkit db upgrade``) do not renew tokens.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from toolkit.store.tables import TABLES, store_info

log = logging.getLogger(__name__)

PREFIX = "changed."
"""Key prefix of the tokens in ``store_info``: ``changed.human_codings`` and so on."""
_WRITTEN = "toolkit.written"
"""Where a connection keeps the tables its open transaction wrote (``Connection.info``)."""
_PAUSED = "toolkit.untracked"
TRACKED = tuple(sorted(name for name in TABLES if name != store_info.name))
"""Tables whose writes renew their token (every table but ``store_info`` itself)."""
_IGNORED = {store_info.name, "alembic_version"}
_DML = re.compile(
    r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)"
    r"\s+(?:ONLY\s+)?(?:\"?\w+\"?\.)?\"?(\w+)\"?",
    re.IGNORECASE,
)
_OTHER_DML = re.compile(r"^\s*(?:WITH|MERGE)\b", re.IGNORECASE)


def written_table(statement: str) -> str | None:
    """The table a SQL statement writes, ``"*"`` when it writes but the table is unclear, else ``None``.

    Examples
    --------
    >>> written_table('INSERT INTO human_codings (segment_key) VALUES (?)')
    'human_codings'
    >>> written_table("UPDATE comments SET anchor = 'orphaned'")
    'comments'
    >>> written_table('SELECT count(*) FROM segments') is None
    True
    """
    found = _DML.match(statement)
    if found:
        name = found.group(1).lower()
        if name in _IGNORED:
            return None
        return name if name in TABLES else "*"
    if _OTHER_DML.match(statement) and re.search(r"\b(INSERT|UPDATE|DELETE)\b", statement, re.IGNORECASE):
        return "*"
    return None


def track(engine: sa.Engine) -> sa.Engine:
    """Make every commit on ``engine`` renew the tokens of the tables its transaction wrote."""
    sa.event.listen(engine, "after_cursor_execute", _note_write)
    sa.event.listen(engine, "commit", _renew_tokens)
    sa.event.listen(engine, "rollback", _forget)
    return engine


@contextmanager
def untracked(conn: sa.Connection) -> Iterator[sa.Connection]:
    """Writes on ``conn`` inside the block renew no token (schema migrations: a reader restarts after one)."""
    conn.info[_PAUSED] = True
    try:
        yield conn
    finally:
        conn.info.pop(_PAUSED, None)
        conn.info.pop(_WRITTEN, None)


def read_changes(conn: sa.Connection) -> dict[str, str]:
    """``table -> token`` for every table that has one (tables never written by this code have none)."""
    query = sa.select(store_info.c.key, store_info.c.value).where(store_info.c.key.startswith(PREFIX))
    return {key[len(PREFIX):]: value for key, value in conn.execute(query).all()}


def _note_write(conn, cursor, statement, parameters, context, executemany) -> None:
    """After a statement ran: note the table it wrote, unless it changed no row (an ``UPDATE`` that
    matched nothing, such as closing runs when none was left open, changes nothing a reader sees)."""
    if conn.info.get(_PAUSED):
        return
    table = written_table(statement)
    if table is not None and getattr(cursor, "rowcount", -1) != 0:
        conn.info.setdefault(_WRITTEN, set()).add(table)


def _forget(conn) -> None:
    conn.info.pop(_WRITTEN, None)


def _renew_tokens(conn) -> None:
    written = conn.info.pop(_WRITTEN, None)
    if not written:
        return
    names = TRACKED if "*" in written else sorted(written)
    token = uuid.uuid4().hex[:16]
    rows = [{"key": PREFIX + name, "value": token} for name in names]
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        statement = insert(store_info).values(rows)
        conn.execute(statement.on_conflict_do_update(index_elements=[store_info.c.key],
                                                     set_={"value": statement.excluded.value}))
        return
    for row in rows:  # other databases: update, else insert
        done = conn.execute(store_info.update().where(store_info.c.key == row["key"]).values(value=row["value"]))
        if not done.rowcount:
            conn.execute(store_info.insert().values(**row))
