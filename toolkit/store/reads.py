"""The store's reads: whole tables and the few joined frames the stages and the read model use.

A mixin of :class:`toolkit.store.Store` (kept apart so neither class grows past a screenful of
methods); it needs only ``self.engine``. Nothing here writes, so a read-only store has all of it.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from toolkit import schema as s
from toolkit.errors import InputDataError
from toolkit.store.tables import (
    TABLES,
    codings,
    respondents,
    runs,
    segments,
    sources,
    store_info,
    survey_questions,
    text_answers,
    turns,
)


class StoreReads:
    """Reading the store into DataFrames (mixed into :class:`toolkit.store.Store`)."""

    engine: sa.Engine

    def latest(self, name: str, keys: list[str]) -> pd.DataFrame:
        """The latest row of an append-only table per ``keys`` (summaries, practices)."""
        frame = self.table(name)
        if frame.empty:
            return frame
        return frame.sort_values(s.CREATED_AT, kind="stable").drop_duplicates(keys, keep="last").reset_index(drop=True)

    def table(self, name: str, *, conn: sa.Connection | None = None) -> pd.DataFrame:
        """A whole table as a DataFrame (``conn``: read inside that open transaction)."""
        if name not in TABLES:
            raise InputDataError("store", f"there is no table '{name}'.", f"Tables: {', '.join(sorted(TABLES))}.")
        return self._read(sa.select(TABLES[name]), conn)

    def _read(self, query, conn: sa.Connection | None = None) -> pd.DataFrame:
        if conn is not None:
            return pd.read_sql(query, conn)
        with self.engine.connect() as own:
            return pd.read_sql(query, own)

    def turns_for_segmenting(self, source_ids: list[int] | None = None) -> pd.DataFrame:
        """Turns of these sources (default: all) in transcript order, with each source's uid.

        Dialogue only: headers and notes (speaker role ``other``) are not segmented.
        """
        query = (
            sa.select(
                turns.c.turn_id,
                turns.c.source_id,
                sources.c.source_uid,
                sources.c.path,
                turns.c.turn_index,
                turns.c.start_char,
                turns.c.text,
                turns.c.speaker_role,
            )
            .join(sources, sources.c.source_id == turns.c.source_id)
            .where(turns.c.speaker_role != s.OTHER)
            .order_by(sources.c.path, turns.c.turn_index)
        )
        if source_ids is not None:
            query = query.where(turns.c.source_id.in_([int(i) for i in source_ids]))
        with self.engine.connect() as conn:
            return pd.read_sql(query, conn)

    def answers_for_segmenting(self, source_ids: list[int] | None = None) -> pd.DataFrame:
        """Free-text survey answers of these sources (default: all), with their question and source uid."""
        query = (
            sa.select(
                text_answers.c.text_answer_id,
                text_answers.c.source_id,
                sources.c.source_uid,
                sources.c.path,
                survey_questions.c.question_key,
                survey_questions.c.question_text,
                text_answers.c.text,
            )
            .join(sources, sources.c.source_id == text_answers.c.source_id)
            .outerjoin(survey_questions, survey_questions.c.question_id == text_answers.c.question_id)
            .order_by(sources.c.path, text_answers.c.text_answer_id)
        )
        if source_ids is not None:
            query = query.where(text_answers.c.source_id.in_([int(i) for i in source_ids]))
        with self.engine.connect() as conn:
            return pd.read_sql(query, conn)

    def sources_for_ingest(self) -> pd.DataFrame:
        """What ingest needs to recognise stored sources: ids, uid, path key, path, hashes."""
        cols = [sources.c.source_id, sources.c.source_uid, sources.c.path_key, sources.c.path,
                sources.c.content_hash, sources.c.settings_hash, sources.c.segmented_with]
        with self.engine.connect() as conn:
            return pd.read_sql(sa.select(*cols).order_by(sources.c.source_id), conn)

    def segments_frame(self, *, evidence_only: bool = False, conn: sa.Connection | None = None) -> pd.DataFrame:
        """Segments with who and where they come from (place, organisation type, role, speaker, question)."""
        query = (
            sa.select(
                segments,
                sources.c.source_uid,
                sources.c.path,
                sources.c.kind.label("source_kind"),
                sources.c.participant_id,
                sa.func.coalesce(respondents.c.place, sources.c.place).label(s.PLACE),
                sa.func.coalesce(respondents.c.organisation_type, sources.c.organisation_type).label(
                    s.ORGANISATION_TYPE
                ),
                sa.func.coalesce(respondents.c.role, sources.c.role).label(s.ROLE),
                sources.c.sector,
                turns.c.speaker,
                turns.c.start_time,
                respondents.c.respondent_key,
                survey_questions.c.question_text,
            )
            .join(sources, sources.c.source_id == segments.c.source_id)
            .outerjoin(turns, turns.c.turn_id == segments.c.turn_id)
            .outerjoin(text_answers, text_answers.c.text_answer_id == segments.c.text_answer_id)
            .outerjoin(respondents, respondents.c.respondent_id == text_answers.c.respondent_id)
            .outerjoin(survey_questions, survey_questions.c.question_id == text_answers.c.question_id)
            .order_by(sources.c.path, segments.c.start_char, segments.c.segment_id)
        )
        if evidence_only:
            query = query.where(segments.c.is_evidence.is_(True))
        return self._read(query, conn)

    def source_hashes(self) -> dict[str, str]:
        """``path -> content hash`` of every stored source."""
        with self.engine.connect() as conn:
            return dict(conn.execute(sa.select(sources.c.path, sources.c.content_hash)).all())

    def sources_frame(self) -> pd.DataFrame:
        """Sources without their text (cheap to list)."""
        cols = [c for c in sources.c if c.name != s.TEXT]
        with self.engine.connect() as conn:
            return pd.read_sql(sa.select(*cols).order_by(sources.c.path), conn)

    def place_summary(self) -> pd.DataFrame:
        """Per place: transcripts, turns, surveys and respondents."""
        with self.engine.connect() as conn:
            src = pd.read_sql(sa.select(sources.c.source_id, sources.c.place, sources.c.kind), conn)
            turn_counts = pd.read_sql(
                sa.select(turns.c.source_id, sa.func.count().label("turns")).group_by(turns.c.source_id), conn
            )
            resp = pd.read_sql(
                sa.select(respondents.c.place, sa.func.count().label("respondents")).group_by(respondents.c.place),
                conn,
            )
        columns = ["place", "transcripts", "turns", "surveys", "respondents"]
        if src.empty:
            return pd.DataFrame(columns=columns)
        src = src.merge(turn_counts, on=s.SOURCE_ID, how="left").fillna({"turns": 0})
        src[s.PLACE] = src[s.PLACE].fillna("(no place)")
        summary = src.groupby(s.PLACE).agg(
            transcripts=(s.KIND, lambda k: int((k == "transcript").sum())),
            turns=("turns", "sum"),
            surveys=(s.KIND, lambda k: int((k == "survey").sum())),
        )
        resp[s.PLACE] = resp[s.PLACE].fillna("(no place)")
        summary = summary.join(resp.set_index(s.PLACE), how="outer").fillna(0).astype(int)
        return summary.reset_index(names="place")[columns]

    def runs_frame(self, limit: int = 20) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return pd.read_sql(sa.select(runs).order_by(runs.c.started_at.desc()).limit(limit), conn)

    def changes(self) -> dict[str, str]:
        """``table -> token`` that every committed write of the table renews (:mod:`toolkit.store.changes`).

        One small indexed query: what caches compare to know that a table changed.
        """
        from toolkit.store.changes import read_changes

        with self.engine.connect() as conn:
            return read_changes(conn)

    def counts(self) -> dict[str, int]:
        """Row count of every table (``store_info``'s change tokens are bookkeeping, not counted)."""
        from toolkit.store.changes import PREFIX

        with self.engine.connect() as conn:
            counts = {}
            for name, table in TABLES.items():
                query = sa.select(sa.func.count()).select_from(table)
                if name == store_info.name:
                    query = query.where(~store_info.c.key.startswith(PREFIX))
                counts[name] = int(conn.execute(query).scalar())
            return counts

    def segments_by_key(self, keys: list[str]) -> pd.DataFrame:
        """``segment_key``, ``source_uid``, ``text`` of the segments with these keys (unknown keys left out)."""
        cols = [segments.c.segment_key, sources.c.source_uid, segments.c.text]
        frames = []
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                query = (sa.select(*cols).join(sources, sources.c.source_id == segments.c.source_id)
                         .where(segments.c.segment_key.in_(list(keys[start:start + 500]))))
                frames.append(pd.read_sql(query, conn))
        if not frames:
            return pd.DataFrame(columns=[s.SEGMENT_KEY, s.SOURCE_UID, s.TEXT])
        return pd.concat(frames, ignore_index=True)

    def machine_codings_of(self, keys: list[str]) -> pd.DataFrame:
        """Machine codings of these segments."""
        frames = []
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                query = sa.select(codings).where(codings.c.segment_key.in_(list(keys[start:start + 500])))
                frames.append(pd.read_sql(query, conn))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[c.name for c in codings.c])

    def segment_keys(self, *, evidence_only: bool = False) -> list[str]:
        """Every segment key in the store (``evidence_only``: the participants' segments only)."""
        query = sa.select(segments.c.segment_key)
        if evidence_only:
            query = query.where(segments.c.is_evidence.is_(True))
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def coded_segment_keys(self, coder: str) -> set[str]:
        """Keys of the segments a coder has seen (coded, or left without a theme)."""
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(codings.c.segment_key).where(codings.c.coder == coder).distinct()).scalars())
