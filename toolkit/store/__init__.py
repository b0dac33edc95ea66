"""The project store: tables, the :class:`Store` that reads and writes them, and its migrations.

- :mod:`toolkit.store.tables`: the tables (SQLAlchemy Core), declared once.
- :mod:`toolkit.store.store`: :class:`Store`, every read and write; the run lock.
- :mod:`toolkit.store.migrate` and ``migrations/``: the schema's revisions (Alembic).
- :mod:`toolkit.store.urls`: ``env:`` URLs and URLs shown without their password.
- :mod:`toolkit.store.copy`: :func:`copy_store`, into a new file or database only.
- :mod:`toolkit.store.changes`: the change tokens every write renews (``Store.changes()``, the caches' stamp).
- :mod:`toolkit.store.busy`: a locked or contended store (:class:`StoreBusyError`), and :func:`retry_when_busy`.
  (``StoreBusy`` is an older name of :class:`RunLocked`: another *run* holds the run lock.)

Examples
--------
>>> from toolkit.store import Store
>>> Store("sqlite://").counts()["sources"]
0
"""

from __future__ import annotations

from toolkit.store.busy import StoreBusyError, busy_reason, retry_when_busy
from toolkit.store.lock import RunLocked, StoreBusy
from toolkit.store.migrate import BASELINE, SchemaState, head_revision
from toolkit.store.store import (
    FAILED,
    INTERRUPTED,
    OK,
    RUN_STATUSES,
    RUNNING,
    Store,
    now,
)
from toolkit.store.tables import (
    CHILD_TABLES,
    LIMITS,
    SCHEMA_VERSION,
    TABLES,
    check_lengths,
    codings,
    comments,
    embeddings,
    human_codings,
    likert_answers,
    metadata,
    practices,
    respondents,
    runs,
    segment_topics,
    segments,
    sources,
    store_info,
    summaries,
    survey_questions,
    text_answers,
    topic_edits,
    topics,
    turns,
)
from toolkit.store.urls import redacted_url, resolve_store_url


def copy_store(source: Store, target, *, include_embeddings: bool = True) -> Store:
    """Copy a store into a new SQLite file or an empty database; see :func:`toolkit.store.copy.copy_store`."""
    from toolkit.store.copy import copy_store as _copy

    return _copy(source, target, include_embeddings=include_embeddings)


def upgrade_store(url: str, *, study: str | None = None) -> tuple[SchemaState, SchemaState]:
    """Bring the store at ``url`` to the code's schema revision (``toolkit db upgrade``).

    Returns the state before and after. Creates a new store at head if the database is empty.
    """
    from toolkit.store.engine import make_engine
    from toolkit.store.migrate import bring_to_head, schema_state

    resolved = resolve_store_url(url)
    engine = make_engine(resolved)
    try:
        with engine.connect() as conn:
            before = schema_state(conn)
        after = bring_to_head(engine, redacted_url(resolved), allow_upgrade=True, study_hint=study or "STUDY")
    finally:
        engine.dispose()
    return before, after


def store_revision(url: str) -> SchemaState:
    """Where the store at ``url`` is (``toolkit db current``): reads only."""
    from toolkit.store.engine import make_engine
    from toolkit.store.migrate import schema_state
    from toolkit.store.urls import sqlite_file

    resolved = resolve_store_url(url)
    path = sqlite_file(resolved)
    if path is not None and not path.is_file():
        return SchemaState(None, head_revision(), empty=True)
    engine = make_engine(resolved, read_only=path is not None)
    try:
        with engine.connect() as conn:
            return schema_state(conn)
    finally:
        engine.dispose()


__all__ = [
    "BASELINE",
    "CHILD_TABLES",
    "FAILED",
    "INTERRUPTED",
    "LIMITS",
    "OK",
    "RUNNING",
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "TABLES",
    "RunLocked",
    "SchemaState",
    "Store",
    "StoreBusy",
    "StoreBusyError",
    "busy_reason",
    "check_lengths",
    "codings",
    "comments",
    "copy_store",
    "embeddings",
    "head_revision",
    "human_codings",
    "likert_answers",
    "metadata",
    "now",
    "practices",
    "redacted_url",
    "resolve_store_url",
    "respondents",
    "retry_when_busy",
    "runs",
    "segment_topics",
    "segments",
    "sources",
    "store_info",
    "store_revision",
    "summaries",
    "survey_questions",
    "text_answers",
    "topic_edits",
    "topics",
    "turns",
    "upgrade_store",
]
