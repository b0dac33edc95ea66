"""The project store: a study's tables, and all SQL in one place.

An embedded SQLite file by default (``store/study.sqlite`` in the study folder), or a
PostgreSQL database for a team (``[store] url = "env:TOOLKIT_STORE_URL"``). Only pseudonymised
text is ever written here. Writes happen inside one transaction: a failure leaves the store
exactly as it was.

Opening never changes a store behind a reader's back: a writer creates a new store at the
code's schema revision (and brings a SQLite file up to it); ``toolkit db upgrade STUDY`` runs
migrations; ``Store(url, read_only=True)`` runs no DDL at all and refuses a store that is behind.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from toolkit import schema as s
from toolkit.errors import InputDataError, StoreError, ToolkitError
from toolkit.store import lock as _lock
from toolkit.store import migrate
from toolkit.store.engine import make_engine
from toolkit.store.human import HumanWrites
from toolkit.store.reads import StoreReads
from toolkit.store.rows import now
from toolkit.store.rows import records as _records
from toolkit.store.tables import (
    CHILD_TABLES,
    TABLES,
    check_lengths,
    codings,
    embeddings,
    likert_answers,
    respondents,
    runs,
    segment_topics,
    segments,
    sources,
    survey_questions,
    text_answers,
    topics,
    turns,
)
from toolkit.store.urls import backend_of, redacted_url, resolve_store_url, sqlite_file

log = logging.getLogger(__name__)

RUNNING, OK, FAILED, INTERRUPTED = "running", "ok", "failed", "interrupted"
RUN_STATUSES = (RUNNING, OK, FAILED, INTERRUPTED)
"""What ``runs.status`` holds: a run is ``running`` until it ends ``ok``, ``failed`` or ``interrupted``."""



class Store(StoreReads, HumanWrites):
    """A connection to a study's project store.

    Parameters
    ----------
    url : a SQLAlchemy URL (``sqlite:///path``, ``postgresql://user@host/db``), or
        ``env:NAME`` to read it from the environment variable ``NAME``.
    read_only : open for reading only (the dashboard): no DDL, no writes; a store that is
        behind the code's schema is refused with the command that upgrades it.
    upgrade : may a writer bring a store that is behind up to date? Default: yes for a SQLite
        file (one researcher's own), no for a server database (``toolkit db upgrade`` does it,
        with the rights to change tables). A new, empty database is always created.
    study : how messages name the study (``toolkit db upgrade STUDY``).

    Examples
    --------
    >>> store = Store("sqlite://")  # an in-memory store
    >>> store.table(s.SOURCES).empty
    True
    """

    def __init__(self, url: str, *, read_only: bool = False, upgrade: bool | None = None,
                 study: str | Path | None = None):
        self.url = resolve_store_url(url)
        self.location = redacted_url(self.url)
        self.read_only = read_only
        self.study = str(study) if study else "STUDY"
        self._lock_depth = 0
        try:
            self.backend = backend_of(self.url)
            self.engine = make_engine(self.url, read_only=read_only)
            if read_only:
                with self.engine.connect() as conn:
                    self.schema = migrate.schema_state(conn)
                migrate.require_current(self.schema, self.location, study_hint=self.study)
            else:
                allow = self.backend == "sqlite" if upgrade is None else upgrade
                self.schema = migrate.bring_to_head(self.engine, self.location, allow_upgrade=allow,
                                                    study_hint=self.study)
        except ToolkitError:
            self._dispose()
            raise
        except SQLAlchemyError as exc:
            self._dispose()
            raise StoreError(f"Cannot open the project store at {self.location}: {_reason(exc)}") from None
        except OSError as exc:
            self._dispose()
            raise StoreError(f"Cannot create the project store at {self.location}: {exc.strerror}.") from None

    def __repr__(self) -> str:
        mode = ", read_only=True" if self.read_only else ""
        return f"Store({self.location!r}{mode})"

    def redacted_url(self) -> str:
        """Where the store is, without its password (what messages and status lines show)."""
        return self.location

    def close(self) -> None:
        self.engine.dispose()

    def _dispose(self) -> None:
        engine = getattr(self, "engine", None)
        if engine is not None:
            engine.dispose()

    # ------------------------------------------------------------------ the run lock
    @contextmanager
    def run_lock(self, *, wait: float = 0.0, purpose: str = "toolkit run") -> Iterator[dict]:
        """Hold the study's run lock for the block: one run at a time, across processes.

        Waits up to ``wait`` seconds for another holder, then raises :class:`RunLocked`, whose
        message names who holds it. Re-entrant within one ``Store``. Yields who holds it now.

        Examples
        --------
        >>> with store.run_lock(wait=5):  # doctest: +SKIP
        ...     run_the_stages()
        """
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield _lock.holder_info(purpose)
            finally:
                self._lock_depth -= 1
            return
        with self._acquire(wait, purpose) as info:
            self._lock_depth = 1
            try:
                yield info
            finally:
                self._lock_depth = 0

    def _acquire(self, wait: float, purpose: str):
        if self.backend == "postgresql":
            return _lock.postgres_run_lock(self.engine, wait=wait, where=self.location, purpose=purpose)
        path = sqlite_file(self.url) if self.backend == "sqlite" else None
        if path is not None:
            return _lock.sqlite_run_lock(path.resolve(), wait=wait, where=self.location, purpose=purpose)
        return _lock.memory_run_lock(id(self.engine), wait=wait, where=self.location, purpose=purpose)

    @property
    def holds_run_lock(self) -> bool:
        """Whether this ``Store`` holds the run lock now."""
        return self._lock_depth > 0

    def mark_interrupted_runs(self) -> int:
        """Mark as ``interrupted`` the runs still ``running`` whose process no longer holds the lock.

        Call it with the run lock held, before starting a run: every ``running`` row is then
        left over from a run that was killed. Without the lock it checks that nobody holds it
        (and marks nothing if someone does). Returns how many runs were marked.
        """
        if self.holds_run_lock:
            return self._mark_interrupted()
        try:
            with self.run_lock(wait=0, purpose="toolkit (checking for interrupted runs)"):
                return self._mark_interrupted()
        except _lock.RunLocked:
            return 0

    def _mark_interrupted(self) -> int:
        with self.transaction() as conn:
            result = conn.execute(
                runs.update().where(runs.c.status == RUNNING).values(status=INTERRUPTED, finished_at=now())
            )
        if result.rowcount:
            log.info("%d run(s) left 'running' by a stopped process recorded as interrupted", result.rowcount)
        return int(result.rowcount or 0)

    # ------------------------------------------------------------------ administration
    def grant_reader(self, role: str) -> None:
        """Let a PostgreSQL role read the store (and nothing else): what the dashboard's role needs.

        Grants USAGE on the schema and SELECT on its tables, now and for tables made later by
        this role's migrations. The role itself is made by the database's administrator.
        """
        if self.backend != "postgresql":
            raise StoreError(f"Reader roles are a PostgreSQL feature; the store at {self.location} is {self.backend}.")
        quoted = self.engine.dialect.identifier_preparer.quote(role)
        with self.transaction() as conn:
            schema = conn.execute(sa.text("SELECT current_schema()")).scalar()
            q_schema = self.engine.dialect.identifier_preparer.quote(schema)
            conn.execute(sa.text(f"GRANT USAGE ON SCHEMA {q_schema} TO {quoted}"))
            conn.execute(sa.text(f"GRANT SELECT ON ALL TABLES IN SCHEMA {q_schema} TO {quoted}"))
            conn.execute(sa.text(f"ALTER DEFAULT PRIVILEGES IN SCHEMA {q_schema} GRANT SELECT ON TABLES TO {quoted}"))

    # ------------------------------------------------------------------ writing
    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """One transaction: committed if the block succeeds, rolled back if it raises."""
        if self.read_only:
            raise StoreError(f"The store at {self.location} is open read-only: it cannot be written here.")
        with self.engine.begin() as conn:
            yield conn

    def delete_source(self, conn: sa.Connection, path: str) -> None:
        """Remove a source and every row that belongs to it."""
        source_id = conn.execute(sa.select(sources.c.source_id).where(sources.c.path == path)).scalar()
        if source_id is None:
            return
        for table in CHILD_TABLES:
            conn.execute(table.delete().where(table.c.source_id == source_id))
        conn.execute(sources.delete().where(sources.c.source_id == source_id))

    def insert_source(self, conn: sa.Connection, record: Mapping[str, Any]) -> int:
        """Insert one source row (replacing any source at the same path); returns its id."""
        check_lengths(sources, [dict(record)])
        self.delete_source(conn, record[s.PATH])
        result = conn.execute(sources.insert().values(**record))
        return int(result.inserted_primary_key[0])

    def insert_turns(self, conn: sa.Connection, source_id: int, frame: pd.DataFrame) -> None:
        rows = _records(frame, turns, source_id=source_id)
        if rows:
            conn.execute(turns.insert(), rows)

    def insert_survey(
        self,
        conn: sa.Connection,
        source_id: int,
        questions: pd.DataFrame,
        respondent_frame: pd.DataFrame,
        likert: pd.DataFrame,
        texts: pd.DataFrame,
    ) -> None:
        """Write a survey's questions, respondents and answers (keys resolved to ids)."""
        question_ids: dict[str, int] = {}
        for row in _records(questions, survey_questions, source_id=source_id):
            qid = conn.execute(survey_questions.insert().values(**row)).inserted_primary_key[0]
            question_ids[row[s.QUESTION_KEY]] = int(qid)
        respondent_ids: dict[str, int] = {}
        for row in _records(respondent_frame, respondents, source_id=source_id):
            rid = conn.execute(respondents.insert().values(**row)).inserted_primary_key[0]
            respondent_ids[row[s.RESPONDENT_KEY]] = int(rid)
        for frame, table in ((likert, likert_answers), (texts, text_answers)):
            if frame.empty:
                continue
            resolved = frame.assign(
                **{
                    s.RESPONDENT_ID: frame[s.RESPONDENT_KEY].map(respondent_ids),
                    s.QUESTION_ID: frame[s.QUESTION_KEY].map(question_ids),
                }
            )
            rows = _records(resolved, table, source_id=source_id)
            if rows:
                conn.execute(table.insert(), rows)

    def start_run(self, stage: str, *, config_hash: str = "", version: str = "") -> str:
        """Record that a stage started; returns the run id."""
        run_id = uuid.uuid4().hex[:12]
        with self.transaction() as conn:
            conn.execute(
                runs.insert().values(
                    run_id=run_id,
                    stage=stage,
                    started_at=now(),
                    status="running",
                    toolkit_version=version,
                    config_hash=config_hash,
                )
            )
        return run_id

    def finish_run(self, run_id: str, status: str, summary: Mapping[str, Any] | None = None) -> None:
        """Record how a run ended: ``ok``, ``failed`` or ``interrupted`` (Ctrl-C)."""
        if status not in RUN_STATUSES:
            raise InputDataError(s.RUNS, f"Unknown run status {status!r}.", f"Use one of: {', '.join(RUN_STATUSES)}.")
        with self.transaction() as conn:
            conn.execute(
                runs.update()
                .where(runs.c.run_id == run_id)
                .values(finished_at=now(), status=status, summary=json.dumps(summary or {}, default=str))
            )

    def replace_segments(self, conn: sa.Connection, frame: pd.DataFrame, run_id: str) -> None:
        """Replace every segment (they are derived from turns and answers on each coding run)."""
        conn.execute(segments.delete())
        rows = _records(frame, segments, run_id=run_id)
        if rows:
            conn.execute(segments.insert(), rows)

    def replace_machine_codings(self, conn: sa.Connection, frame: pd.DataFrame, coder: str, run_id: str) -> None:
        """Replace one machine coder's codings; human codings are never touched."""
        conn.execute(codings.delete().where(codings.c.coder == coder))
        rows = _records(frame, codings, coder=coder, run_id=run_id)
        if rows:
            conn.execute(codings.insert(), rows)

    def delete_source_ids(self, conn: sa.Connection, source_ids: list[int]) -> None:
        """Remove sources and every row that belongs to them (human work is kept: it is anchored by content)."""
        ids = [int(i) for i in source_ids]
        if not ids:
            return
        for table in CHILD_TABLES:
            conn.execute(table.delete().where(table.c.source_id.in_(ids)))
        conn.execute(sources.delete().where(sources.c.source_id.in_(ids)))

    def replace_segments_of(self, conn: sa.Connection, source_ids: list[int], frame: pd.DataFrame, *,
                            run_id: str, segmented_with: str) -> None:
        """Replace the segments of these sources and mark them segmented with these settings."""
        ids = [int(i) for i in source_ids]
        rows = _records(frame, segments, run_id=run_id)  # before the first write: SQLite's lock is held from there
        if ids:
            conn.execute(segments.delete().where(segments.c.source_id.in_(ids)))
        if rows:
            conn.execute(segments.insert(), rows)
        if ids:
            conn.execute(sources.update().where(sources.c.source_id.in_(ids)).values(segmented_with=segmented_with))

    def drop_orphan_machine_codings(self, conn: sa.Connection) -> int:
        """Delete machine codings whose segment is gone (re-segmented or removed sources)."""
        gone = sa.select(segments.c.segment_key)
        result = conn.execute(codings.delete().where(codings.c.segment_key.not_in(gone)))
        return int(result.rowcount or 0)

    def replace_machine_codings_of(self, conn: sa.Connection, frame: pd.DataFrame, *, coder: str, run_id: str,
                                   segment_keys: list[str] | None) -> None:
        """Replace one machine coder's codings of these segments (``None``: all of them)."""
        rows = _records(frame, codings, coder=coder, run_id=run_id)  # before the first write (SQLite's lock)
        query = codings.delete().where(codings.c.coder == coder)
        if segment_keys is not None:
            for start in range(0, len(segment_keys), 500):
                conn.execute(query.where(codings.c.segment_key.in_(segment_keys[start:start + 500])))
        else:
            conn.execute(query)
        if rows:
            conn.execute(codings.insert(), rows)

    def update_rows(self, conn: sa.Connection, name: str, frame: pd.DataFrame, columns: list[str]) -> int:
        """Update ``columns`` of rows of a table, matched by its primary key (a column of ``frame``)."""
        table = TABLES[name]
        (pk,) = [c.name for c in table.primary_key.columns]
        rows = _records(frame[[pk, *columns]], table)
        for row in rows:
            key = row.pop(pk)
            conn.execute(table.update().where(table.c[pk] == key).values(**row))
        return len(rows)

    def get_embeddings(self, hashes: list[str], model: str) -> dict[str, bytes]:
        """Cached embedding vectors (raw float32 bytes) by text hash."""
        found: dict[str, bytes] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(hashes), 500):
                chunk = hashes[start : start + 500]
                query = sa.select(embeddings.c.text_hash, embeddings.c.vector).where(
                    embeddings.c.model == model, embeddings.c.text_hash.in_(chunk)
                )
                found.update(dict(conn.execute(query).all()))
        return found

    def put_embeddings(self, items: list[tuple[str, bytes]], model: str, dim: int) -> None:
        if not items:
            return
        with self.transaction() as conn:
            existing = set(
                conn.execute(
                    sa.select(embeddings.c.text_hash).where(
                        embeddings.c.model == model, embeddings.c.text_hash.in_([h for h, _ in items])
                    )
                ).scalars()
            )
            rows = [
                {s.TEXT_HASH: h, s.MODEL: model, s.DIM: dim, s.VECTOR: v} for h, v in items if h not in existing
            ]
            if rows:
                conn.execute(embeddings.insert(), rows)

    def replace_topics(self, conn: sa.Connection, frame: pd.DataFrame, assignments: pd.DataFrame, run_id: str) -> None:
        """Replace the topic model's output: one row per topic, one row per segment."""
        prepared = [(table, _records(data, table, run_id=run_id))  # before the first write (SQLite's lock)
                    for table, data in ((topics, frame), (segment_topics, assignments))]
        conn.execute(topics.delete())
        conn.execute(segment_topics.delete())
        for table, rows in prepared:
            if rows:
                conn.execute(table.insert(), rows)


def _reason(exc: SQLAlchemyError) -> str:
    """A database error in one line, without the URL (which may hold a password)."""
    original = getattr(exc, "orig", None) or exc
    text = str(original.args[0] if getattr(original, "args", None) else original).strip().splitlines()
    return f"{type(original).__name__}: {text[0] if text else ''}"
