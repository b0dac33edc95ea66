"""Appends of human work: decisions, QA samples, assignments, topic edits, summaries, practices, memos, comments.

A mixin of :class:`~toolkit.store.Store`: every write here is one small transaction of
append-only rows (the latest row wins when read), validated first by :mod:`toolkit.review`,
and done again while the store is busy (:func:`toolkit.store.busy.retry_when_busy`): a busy
store rolled the transaction back, so nothing is ever written twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa

from toolkit import schema as s
from toolkit.errors import InputDataError
from toolkit.store import engine as _engine
from toolkit.store.busy import retry_when_busy
from toolkit.store.rows import now
from toolkit.store.rows import records as _records
from toolkit.store.tables import (
    assignments,
    check_lengths,
    comments,
    human_codings,
    memos,
    practice_groups,
    practices,
    qa_items,
    qa_samples,
    summaries,
    topic_edits,
    topics,
)


class HumanWrites:
    """The human-work writes of a :class:`~toolkit.store.Store` (needs its ``transaction``,
    ``backend`` and ``location``)."""

    def set_topic_label(self, topic: int, label: str) -> None:
        """Show a topic under a researcher's name until the next fit (which replays the rename)."""
        check_lengths(topics, [{s.TOPIC_LABEL: label}])
        self._write_when_free(
            lambda conn: conn.execute(topics.update().where(topics.c.topic == int(topic)).values(topic_label=label)),
            "renaming the topic")

    def add_human_codings(self, frame: pd.DataFrame) -> int:
        """Append human decisions (never updates: the latest decision of a coder on a segment wins).

        Appending only means several reviewers working at once never overwrite each other.
        """
        rows = _records(frame, human_codings)
        for row in rows:
            row.setdefault(s.CREATED_AT, now())
            if row.get(s.DECISION) not in s.DECISIONS:
                raise InputDataError(s.HUMAN_CODINGS, f"Unknown decision {row.get(s.DECISION)!r}.",
                                     f"Use one of: {', '.join(s.DECISIONS)}.")
        if rows:
            self._write_when_free(lambda conn: conn.execute(human_codings.insert(), rows), "saving the decisions")
        return len(rows)

    def add_qa_sample(self, sample: Mapping[str, Any], items: pd.DataFrame) -> int:
        """Store a quality-assurance sample and its items in one transaction (all or nothing); returns the items."""
        row = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v) for k, v in sample.items()}
        row.setdefault(s.CREATED_AT, now())
        check_lengths(qa_samples, [row])
        rows = _records(items, qa_items, **{s.SAMPLE_ID: row[s.SAMPLE_ID]})
        with self.transaction() as conn:
            conn.execute(qa_samples.insert().values(**row))
            if rows:
                conn.execute(qa_items.insert(), rows)
        return len(rows)

    def add_assignments(self, frame: pd.DataFrame) -> int:
        """Append double-coding assignments (one row per segment and coder) in one transaction."""
        rows = _records(frame, assignments)
        for row in rows:
            row.setdefault(s.CREATED_AT, now())
        if rows:
            with self.transaction() as conn:
                conn.execute(assignments.insert(), rows)
        return len(rows)

    def _append(self, table: sa.Table, row: dict[str, Any]) -> int:
        row = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict, tuple)) else v) for k, v in row.items()}
        row.setdefault(s.CREATED_AT, now())
        check_lengths(table, [row])
        return self._write_when_free(
            lambda conn: int(conn.execute(table.insert().values(**row)).inserted_primary_key[0]), f"saving the {table.name}")

    def _write_when_free(self, write, what: str):
        """``write(conn)`` in one transaction, done again while the store is busy (a run holds SQLite's lock).

        Only for one whole, small transaction of human work: a busy store rolled it back, so doing
        it again never writes it twice (:func:`toolkit.store.busy.retry_when_busy`). On PostgreSQL
        a lock held elsewhere (a migration's) is waited for as long as SQLite's busy timeout.
        """
        def attempt():
            with self.transaction() as conn:
                if self.backend == "postgresql":  # wait for a lock as long as SQLite's busy timeout, not forever
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(_engine.BUSY_TIMEOUT_MS)}")
                return write(conn)

        return retry_when_busy(attempt, what=what, where=self.location)

    def add_topic_edit(
        self, action: str, members: list[list[str]], *, author: str, label: str | None = None,
        parts: int | None = None, note: str | None = None,
    ) -> int:
        """Record a researcher's edit of topics (append-only; replayed on every topic run).

        ``members`` holds, for each topic the edit names, the segment keys it had when
        the edit was made: edits find their topics again by content, not by number.
        """
        if action not in s.TOPIC_ACTIONS:
            raise InputDataError(s.TOPIC_EDITS, f"Unknown topic edit {action!r}.",
                                 f"Use one of: {', '.join(s.TOPIC_ACTIONS)}.")
        if not members or not all(members):
            raise InputDataError(s.TOPIC_EDITS, "A topic edit must name at least one topic with segments in it.")
        if not author or not str(author).strip():
            raise InputDataError(s.TOPIC_EDITS, "A topic edit needs the name of the researcher who made it.",
                                 "Pass author='your name'.")
        return self._append(
            topic_edits,
            {s.ACTION: action, s.MEMBERS: [sorted(m) for m in members], s.TOPIC_LABEL: label, s.PARTS: parts,
             s.AUTHOR: author.strip(), s.NOTE: note},
        )

    def add_summary(self, row_dimension: str, row_value: str, theme: str, text: str, *, author: str) -> int:
        """Save a researcher's summary of one framework-matrix cell (append-only: the latest wins)."""
        return self._append(
            summaries, {s.ROW_DIMENSION: row_dimension, s.ROW_VALUE: row_value, s.THEME: theme, s.TEXT: text,
                        s.AUTHOR: author},
        )

    def add_practice(
        self, segment_key: str, *, included: bool, author: str, theme: str | None = None,
        title: str | None = None, note: str | None = None, source_uid: str | None = None,
        anchor_text: str | None = None, group_id: str | None = None,
    ) -> int:
        """Add a quote to (or take it out of) the good-practice library (append-only: the latest wins)."""
        return self._append(
            practices, {s.SEGMENT_KEY: segment_key, s.INCLUDED: bool(included), s.THEME: theme, s.TITLE: title,
                        s.NOTE: note, s.AUTHOR: author, s.SOURCE_UID: source_uid, s.ANCHOR_TEXT: anchor_text,
                        s.ANCHOR: "attached", s.GROUP_ID: group_id},
        )

    # issue 15: memos and curated practices (append-only like all human work)
    def add_memo(self, row: Mapping[str, Any]) -> int:
        """Save a memo (a row of the ``memos`` table, already validated by :mod:`toolkit.review.memos`)."""
        return self._append(memos, dict(row))

    def add_practice_group(self, group: Mapping[str, Any], members: list[Mapping[str, Any]]) -> int:
        """Save a curated practice and the passages linked to (or unlinked from) it, in one transaction.

        ``group`` is a ``practice_groups`` row (the latest row per ``group_id`` wins); ``members`` are
        ``practices`` rows. Returns the group row's id.
        """
        stamp = now()
        group = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v) for k, v in group.items()}
        group.setdefault(s.CREATED_AT, stamp)
        rows = [{**dict(m), s.CREATED_AT: stamp} for m in members]
        check_lengths(practice_groups, [group])
        check_lengths(practices, rows)
        with self.transaction() as conn:
            ident = int(conn.execute(practice_groups.insert().values(**group)).inserted_primary_key[0])
            if rows:
                conn.execute(practices.insert(), rows)
        return ident

    def add_comment(
        self, text: str, *, author: str, author_role: str, segment_key: str | None = None,
        theme: str | None = None, topic: int | None = None, source_uid: str | None = None,
        anchor_text: str | None = None,
    ) -> int:
        """Save a comment on a segment, theme or topic (reviewers and researchers both comment)."""
        if author_role not in s.ROLES:
            raise InputDataError(s.COMMENTS, f"Unknown role {author_role!r}.", f"Use one of: {', '.join(s.ROLES)}.")
        if not str(text).strip():
            raise InputDataError(s.COMMENTS, "A comment needs some text.")
        return self._append(
            comments, {s.TEXT: text, s.AUTHOR: author, s.AUTHOR_ROLE: author_role, s.SEGMENT_KEY: segment_key,
                       s.THEME: theme, s.TOPIC: topic, s.SOURCE_UID: source_uid, s.ANCHOR_TEXT: anchor_text,
                       s.ANCHOR: "attached" if segment_key else None},
        )
