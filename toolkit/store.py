"""The project store: every table the analysis reads, and all SQL in one place.

An embedded SQLite file by default (``store/study.sqlite`` in the study folder);
any SQLAlchemy URL works, so a team can point the same code at PostgreSQL. Only
pseudonymised text is ever written here. Writes happen inside one transaction:
a failure leaves the store exactly as it was.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from toolkit import schema as s
from toolkit.errors import StoreError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
"""2: segments.lemmas; topics, segment_topics, topic_edits, summaries, practices, comments."""

metadata = sa.MetaData()

sources = sa.Table(
    s.SOURCES,
    metadata,
    sa.Column(s.SOURCE_ID, sa.Integer, primary_key=True),
    sa.Column(s.SOURCE_UID, sa.String(40), index=True),
    sa.Column(s.PATH_KEY, sa.String(64), index=True),
    sa.Column(s.PATH, sa.String(1024), nullable=False, unique=True),
    sa.Column(s.PLACE, sa.String(200), index=True),
    sa.Column(s.KIND, sa.String(20), nullable=False),
    sa.Column(s.FORMAT, sa.String(20), nullable=False),
    sa.Column(s.CONTENT_HASH, sa.String(64), nullable=False),
    sa.Column(s.SIZE_BYTES, sa.Integer),
    sa.Column(s.ENCODING, sa.String(40)),
    sa.Column(s.TEXT, sa.Text),
    sa.Column(s.PARTICIPANT_ID, sa.String(100)),
    sa.Column(s.ORGANISATION_TYPE, sa.String(200)),
    sa.Column(s.SECTOR, sa.String(100)),
    sa.Column(s.ROLE, sa.String(200)),
    sa.Column(s.INTERVIEW_DATE, sa.String(40)),
    sa.Column(s.N_ITEMS, sa.Integer),
    sa.Column(s.INGESTED_AT, sa.String(40)),
    sa.Column(s.RUN_ID, sa.String(40)),
    sa.Column(s.SETTINGS_HASH, sa.String(40)),
    sa.Column(s.SEGMENTED_WITH, sa.String(40)),
)

turns = sa.Table(
    s.TURNS,
    metadata,
    sa.Column(s.TURN_ID, sa.Integer, primary_key=True),
    sa.Column(s.SOURCE_ID, sa.Integer, sa.ForeignKey(f"{s.SOURCES}.{s.SOURCE_ID}", ondelete="CASCADE"), index=True),
    sa.Column(s.TURN_INDEX, sa.Integer, nullable=False),
    sa.Column(s.SPEAKER, sa.String(200)),
    sa.Column(s.SPEAKER_ROLE, sa.String(20), nullable=False),
    sa.Column(s.START_CHAR, sa.Integer, nullable=False),
    sa.Column(s.END_CHAR, sa.Integer, nullable=False),
    sa.Column(s.START_TIME, sa.Float),
    sa.Column(s.END_TIME, sa.Float),
    sa.Column(s.TEXT, sa.Text, nullable=False),
)

survey_questions = sa.Table(
    s.SURVEY_QUESTIONS,
    metadata,
    sa.Column(s.QUESTION_ID, sa.Integer, primary_key=True),
    sa.Column(s.SOURCE_ID, sa.Integer, sa.ForeignKey(f"{s.SOURCES}.{s.SOURCE_ID}", ondelete="CASCADE"), index=True),
    sa.Column(s.QUESTION_KEY, sa.String(200), nullable=False),
    sa.Column(s.POSITION, sa.Integer, nullable=False),
    sa.Column(s.QUESTION_TEXT, sa.Text),
    sa.Column(s.KIND, sa.String(40), nullable=False),
    sa.Column(s.SCALE, sa.Text),
)

respondents = sa.Table(
    s.RESPONDENTS,
    metadata,
    sa.Column(s.RESPONDENT_ID, sa.Integer, primary_key=True),
    sa.Column(s.SOURCE_ID, sa.Integer, sa.ForeignKey(f"{s.SOURCES}.{s.SOURCE_ID}", ondelete="CASCADE"), index=True),
    sa.Column(s.RESPONDENT_KEY, sa.String(100), nullable=False),
    sa.Column(s.ROW_NUMBER, sa.Integer),
    sa.Column(s.PLACE, sa.String(200), index=True),
    sa.Column(s.ROLE, sa.String(200)),
    sa.Column(s.ORGANISATION_TYPE, sa.String(200)),
    sa.Column(s.ATTRIBUTES, sa.Text),
)

likert_answers = sa.Table(
    s.LIKERT_ANSWERS,
    metadata,
    sa.Column(s.RESPONDENT_ID, sa.Integer, sa.ForeignKey(f"{s.RESPONDENTS}.{s.RESPONDENT_ID}", ondelete="CASCADE")),
    sa.Column(s.QUESTION_ID, sa.Integer, sa.ForeignKey(f"{s.SURVEY_QUESTIONS}.{s.QUESTION_ID}", ondelete="CASCADE")),
    sa.Column(s.SOURCE_ID, sa.Integer, sa.ForeignKey(f"{s.SOURCES}.{s.SOURCE_ID}", ondelete="CASCADE"), index=True),
    sa.Column(s.LABEL, sa.String(200)),
    sa.Column(s.VALUE, sa.Float),
)

text_answers = sa.Table(
    s.TEXT_ANSWERS,
    metadata,
    sa.Column(s.TEXT_ANSWER_ID, sa.Integer, primary_key=True),
    sa.Column(s.RESPONDENT_ID, sa.Integer, sa.ForeignKey(f"{s.RESPONDENTS}.{s.RESPONDENT_ID}", ondelete="CASCADE")),
    sa.Column(s.QUESTION_ID, sa.Integer, sa.ForeignKey(f"{s.SURVEY_QUESTIONS}.{s.QUESTION_ID}", ondelete="CASCADE")),
    sa.Column(s.SOURCE_ID, sa.Integer, sa.ForeignKey(f"{s.SOURCES}.{s.SOURCE_ID}", ondelete="CASCADE"), index=True),
    sa.Column(s.TEXT, sa.Text, nullable=False),
)

runs = sa.Table(
    s.RUNS,
    metadata,
    sa.Column(s.RUN_ID, sa.String(40), primary_key=True),
    sa.Column(s.STAGE, sa.String(40), nullable=False),
    sa.Column(s.STARTED_AT, sa.String(40), nullable=False),
    sa.Column(s.FINISHED_AT, sa.String(40)),
    sa.Column(s.STATUS, sa.String(20), nullable=False),
    sa.Column(s.TOOLKIT_VERSION, sa.String(20)),
    sa.Column(s.CONFIG_HASH, sa.String(20)),
    sa.Column(s.SUMMARY, sa.Text),
)

segments = sa.Table(
    s.SEGMENTS,
    metadata,
    sa.Column(s.SEGMENT_ID, sa.Integer, primary_key=True),
    sa.Column(s.SEGMENT_KEY, sa.String(32), nullable=False, unique=True),
    sa.Column(s.SOURCE_ID, sa.Integer, sa.ForeignKey(f"{s.SOURCES}.{s.SOURCE_ID}", ondelete="CASCADE"), index=True),
    sa.Column(s.TURN_ID, sa.Integer),
    sa.Column(s.TEXT_ANSWER_ID, sa.Integer),
    sa.Column(s.SEGMENT_INDEX, sa.Integer, nullable=False),
    sa.Column(s.START_CHAR, sa.Integer, nullable=False),
    sa.Column(s.END_CHAR, sa.Integer, nullable=False),
    sa.Column(s.TEXT, sa.Text, nullable=False),
    sa.Column(s.SPEAKER_ROLE, sa.String(20), nullable=False),
    sa.Column(s.IS_EVIDENCE, sa.Boolean, nullable=False),
    sa.Column(s.LEMMAS, sa.Text),
    sa.Column(s.PROMPT, sa.Text),
    sa.Column(s.RUN_ID, sa.String(40)),
)

codings = sa.Table(
    s.CODINGS,
    metadata,
    sa.Column(s.CODING_ID, sa.Integer, primary_key=True),
    sa.Column(s.SEGMENT_KEY, sa.String(32), nullable=False, index=True),
    sa.Column(s.THEME, sa.String(100)),
    sa.Column(s.POLARITY, sa.String(20)),
    sa.Column(s.CONFIDENCE, sa.Float),
    sa.Column(s.RANK, sa.Integer, nullable=False),
    sa.Column(s.GOOD_PRACTICE, sa.Boolean, nullable=False),
    sa.Column(s.EVIDENCE, sa.Text),
    sa.Column(s.CODER, sa.String(100), nullable=False),
    sa.Column(s.CODEBOOK_VERSION, sa.String(40)),
    sa.Column(s.RUN_ID, sa.String(40)),
)

human_codings = sa.Table(
    s.HUMAN_CODINGS,
    metadata,
    sa.Column(s.CODING_ID, sa.Integer, primary_key=True),
    sa.Column(s.SEGMENT_KEY, sa.String(32), nullable=False, index=True),
    sa.Column(s.CODER, sa.String(100), nullable=False),
    sa.Column(s.DECISION, sa.String(20), nullable=False),
    sa.Column(s.THEME, sa.String(100)),
    sa.Column(s.POLARITY, sa.String(20)),
    sa.Column(s.GOOD_PRACTICE, sa.Boolean),
    sa.Column(s.NOTE, sa.Text),
    sa.Column(s.TEXT, sa.Text),
    sa.Column(s.CREATED_AT, sa.String(40), nullable=False),
    sa.Column(s.SOURCE_UID, sa.String(40)),
    sa.Column(s.ANCHOR, sa.String(20)),
)

embeddings = sa.Table(
    s.EMBEDDINGS,
    metadata,
    sa.Column(s.TEXT_HASH, sa.String(40), primary_key=True),
    sa.Column(s.MODEL, sa.String(100), primary_key=True),
    sa.Column(s.DIM, sa.Integer, nullable=False),
    sa.Column(s.VECTOR, sa.LargeBinary, nullable=False),
)

topics = sa.Table(
    s.TOPICS,
    metadata,
    sa.Column(s.TOPIC, sa.Integer, primary_key=True),
    sa.Column(s.TOPIC_LABEL, sa.String(300), nullable=False),
    sa.Column(s.AUTO_LABEL, sa.String(300), nullable=False),
    sa.Column(s.KEYWORDS, sa.Text),
    sa.Column(s.SIZE, sa.Integer, nullable=False),
    sa.Column(s.REPRESENTATIVE, sa.Text),
    sa.Column(s.SEEDED_THEME, sa.String(100)),
    sa.Column(s.NEAREST_THEME, sa.String(100)),
    sa.Column(s.THEME_SIMILARITY, sa.Float),
    sa.Column(s.CODED_THEME, sa.String(100)),
    sa.Column(s.CODED_SHARE, sa.Float),
    sa.Column(s.CANDIDATE_NEW, sa.Boolean, nullable=False),
    sa.Column(s.MAP_X, sa.Float),
    sa.Column(s.MAP_Y, sa.Float),
    sa.Column(s.RUN_ID, sa.String(40)),
)

segment_topics = sa.Table(
    s.SEGMENT_TOPICS,
    metadata,
    sa.Column(s.SEGMENT_KEY, sa.String(32), primary_key=True),
    sa.Column(s.TOPIC, sa.Integer, nullable=False, index=True),
    sa.Column(s.PROBABILITY, sa.Float),
    sa.Column(s.ASSIGNED_BY, sa.String(20), nullable=False),
    sa.Column(s.RUN_ID, sa.String(40)),
)

topic_edits = sa.Table(
    s.TOPIC_EDITS,
    metadata,
    sa.Column(s.EDIT_ID, sa.Integer, primary_key=True),
    sa.Column(s.ACTION, sa.String(20), nullable=False),
    sa.Column(s.TOPIC_LABEL, sa.String(300)),
    sa.Column(s.MEMBERS, sa.Text, nullable=False),
    sa.Column(s.PARTS, sa.Integer),
    sa.Column(s.AUTHOR, sa.String(100), nullable=False),
    sa.Column(s.NOTE, sa.Text),
    sa.Column(s.CREATED_AT, sa.String(40), nullable=False),
)

summaries = sa.Table(
    s.SUMMARIES,
    metadata,
    sa.Column("summary_id", sa.Integer, primary_key=True),
    sa.Column(s.ROW_DIMENSION, sa.String(40), nullable=False),
    sa.Column(s.ROW_VALUE, sa.String(200), nullable=False),
    sa.Column(s.THEME, sa.String(100), nullable=False),
    sa.Column(s.TEXT, sa.Text, nullable=False),
    sa.Column(s.AUTHOR, sa.String(100), nullable=False),
    sa.Column(s.CREATED_AT, sa.String(40), nullable=False),
)

practices = sa.Table(
    s.PRACTICES,
    metadata,
    sa.Column("practice_id", sa.Integer, primary_key=True),
    sa.Column(s.SEGMENT_KEY, sa.String(32), nullable=False, index=True),
    sa.Column(s.INCLUDED, sa.Boolean, nullable=False),
    sa.Column(s.THEME, sa.String(100)),
    sa.Column(s.TITLE, sa.String(300)),
    sa.Column(s.NOTE, sa.Text),
    sa.Column(s.AUTHOR, sa.String(100), nullable=False),
    sa.Column(s.CREATED_AT, sa.String(40), nullable=False),
    sa.Column(s.SOURCE_UID, sa.String(40)),
    sa.Column(s.ANCHOR_TEXT, sa.Text),
    sa.Column(s.ANCHOR, sa.String(20)),
)

comments = sa.Table(
    s.COMMENTS,
    metadata,
    sa.Column(s.COMMENT_ID, sa.Integer, primary_key=True),
    sa.Column(s.SEGMENT_KEY, sa.String(32), index=True),
    sa.Column(s.THEME, sa.String(100)),
    sa.Column(s.TOPIC, sa.Integer),
    sa.Column(s.TEXT, sa.Text, nullable=False),
    sa.Column(s.AUTHOR, sa.String(100), nullable=False),
    sa.Column(s.AUTHOR_ROLE, sa.String(20), nullable=False),
    sa.Column(s.CREATED_AT, sa.String(40), nullable=False),
    sa.Column(s.SOURCE_UID, sa.String(40)),
    sa.Column(s.ANCHOR_TEXT, sa.Text),
    sa.Column(s.ANCHOR, sa.String(20)),
)

store_info = sa.Table(
    "store_info",
    metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(200)),
)

TABLES: dict[str, sa.Table] = {t.name: t for t in metadata.sorted_tables}
CHILD_TABLES = (segments, likert_answers, text_answers, respondents, survey_questions, turns)


def now() -> str:
    """The current UTC time as an ISO string (what the store records)."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class Store:
    """A connection to a study's project store.

    Examples
    --------
    >>> store = Store("sqlite://")  # an in-memory store
    >>> store.table(s.SOURCES).empty
    True
    """

    def __init__(self, url: str):
        self.url = url
        try:
            if url.startswith("sqlite:///"):
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            self.engine = sa.create_engine(url, future=True)
            if self.engine.dialect.name == "sqlite":
                sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            metadata.create_all(self.engine)
            self._check_version()
        except SQLAlchemyError as exc:
            raise StoreError(f"Cannot open the project store at {url}: {exc.__class__.__name__}: {exc.args[0]}") from None
        except OSError as exc:
            raise StoreError(f"Cannot create the project store at {url}: {exc.strerror}.") from None

    def _check_version(self) -> None:
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(store_info.c.value).where(store_info.c.key == "schema_version")).first()
            if row is None:
                conn.execute(store_info.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
            elif int(row[0]) > SCHEMA_VERSION:
                raise StoreError(
                    f"The store at {self.url} was written by a newer toolkit (schema {row[0]}). Upgrade the toolkit."
                )
            elif int(row[0]) < SCHEMA_VERSION:
                _add_missing_columns(conn)
                conn.execute(
                    store_info.update().where(store_info.c.key == "schema_version").values(value=str(SCHEMA_VERSION))
                )

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ writing
    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """One transaction: committed if the block succeeds, rolled back if it raises."""
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

    def add_human_codings(self, frame: pd.DataFrame) -> int:
        """Append human decisions (never updates: the latest decision of a coder on a segment wins).

        Appending only means several reviewers working at once never overwrite each other.
        """
        rows = _records(frame, human_codings)
        for row in rows:
            row.setdefault(s.CREATED_AT, now())
            if row.get(s.DECISION) not in s.DECISIONS:
                raise StoreError(f"Unknown decision {row.get(s.DECISION)!r}; expected one of {', '.join(s.DECISIONS)}.")
        if rows:
            with self.transaction() as conn:
                conn.execute(human_codings.insert(), rows)
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
        conn.execute(topics.delete())
        conn.execute(segment_topics.delete())
        for table, data in ((topics, frame), (segment_topics, assignments)):
            rows = _records(data, table, run_id=run_id)
            if rows:
                conn.execute(table.insert(), rows)

    def _append(self, table: sa.Table, row: dict[str, Any]) -> int:
        row = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict, tuple)) else v) for k, v in row.items()}
        row.setdefault(s.CREATED_AT, now())
        with self.transaction() as conn:
            return int(conn.execute(table.insert().values(**row)).inserted_primary_key[0])

    def add_topic_edit(
        self, action: str, members: list[list[str]], *, author: str, label: str | None = None,
        parts: int | None = None, note: str | None = None,
    ) -> int:
        """Record a researcher's edit of topics (append-only; replayed on every topic run).

        ``members`` holds, for each topic the edit names, the segment keys it had when
        the edit was made: edits find their topics again by content, not by number.
        """
        if action not in s.TOPIC_ACTIONS:
            raise StoreError(f"Unknown topic edit {action!r}; expected one of {', '.join(s.TOPIC_ACTIONS)}.")
        if not members or not all(members):
            raise StoreError("A topic edit must name at least one topic with segments in it.")
        if not author or not str(author).strip():
            raise StoreError("A topic edit needs the name of the researcher who made it.")
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
        anchor_text: str | None = None,
    ) -> int:
        """Add a quote to (or take it out of) the good-practice library (append-only: the latest wins)."""
        return self._append(
            practices, {s.SEGMENT_KEY: segment_key, s.INCLUDED: bool(included), s.THEME: theme, s.TITLE: title,
                        s.NOTE: note, s.AUTHOR: author, s.SOURCE_UID: source_uid, s.ANCHOR_TEXT: anchor_text,
                        s.ANCHOR: "attached"},
        )

    def add_comment(
        self, text: str, *, author: str, author_role: str, segment_key: str | None = None,
        theme: str | None = None, topic: int | None = None, source_uid: str | None = None,
        anchor_text: str | None = None,
    ) -> int:
        """Save a comment on a segment, theme or topic (reviewers and researchers both comment)."""
        if author_role not in s.ROLES:
            raise StoreError(f"Unknown role {author_role!r}; expected one of {', '.join(s.ROLES)}.")
        if not str(text).strip():
            raise StoreError("A comment needs some text.")
        return self._append(
            comments, {s.TEXT: text, s.AUTHOR: author, s.AUTHOR_ROLE: author_role, s.SEGMENT_KEY: segment_key,
                       s.THEME: theme, s.TOPIC: topic, s.SOURCE_UID: source_uid, s.ANCHOR_TEXT: anchor_text,
                       s.ANCHOR: "attached" if segment_key else None},
        )

    # ------------------------------------------------------------------ reading
    def latest(self, name: str, keys: list[str]) -> pd.DataFrame:
        """The latest row of an append-only table per ``keys`` (summaries, practices)."""
        frame = self.table(name)
        if frame.empty:
            return frame
        return frame.sort_values(s.CREATED_AT, kind="stable").drop_duplicates(keys, keep="last").reset_index(drop=True)

    def table(self, name: str, *, conn: sa.Connection | None = None) -> pd.DataFrame:
        """A whole table as a DataFrame (``conn``: read inside that open transaction)."""
        if name not in TABLES:
            raise StoreError(f"No table '{name}' in the store. Tables: {', '.join(sorted(TABLES))}.")
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
        if ids:
            conn.execute(segments.delete().where(segments.c.source_id.in_(ids)))
        rows = _records(frame, segments, run_id=run_id)
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
        query = codings.delete().where(codings.c.coder == coder)
        if segment_keys is not None:
            for start in range(0, len(segment_keys), 500):
                conn.execute(query.where(codings.c.segment_key.in_(segment_keys[start:start + 500])))
        else:
            conn.execute(query)
        rows = _records(frame, codings, coder=coder, run_id=run_id)
        if rows:
            conn.execute(codings.insert(), rows)

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

    def segment_keys(self) -> list[str]:
        """Every segment key in the store."""
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(segments.c.segment_key)).scalars())

    def coded_segment_keys(self, coder: str) -> set[str]:
        """Keys of the segments a coder has seen (coded, or left without a theme)."""
        with self.engine.connect() as conn:
            return set(conn.execute(sa.select(codings.c.segment_key).where(codings.c.coder == coder).distinct()).scalars())

    def update_rows(self, conn: sa.Connection, name: str, frame: pd.DataFrame, columns: list[str]) -> int:
        """Update ``columns`` of rows of a table, matched by its primary key (a column of ``frame``)."""
        table = TABLES[name]
        (pk,) = [c.name for c in table.primary_key.columns]
        rows = _records(frame[[pk, *columns]], table)
        for row in rows:
            key = row.pop(pk)
            conn.execute(table.update().where(table.c[pk] == key).values(**row))
        return len(rows)

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

    def counts(self) -> dict[str, int]:
        """Row count of every table."""
        with self.engine.connect() as conn:
            return {
                name: int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar())
                for name, table in TABLES.items()
            }


def _records(frame: pd.DataFrame, table: sa.Table, **fixed: Any) -> list[dict[str, Any]]:
    """Rows of ``frame`` restricted to the table's columns, NaN as NULL, dicts as JSON."""
    if frame is None or frame.empty:
        return []
    names = [c.name for c in table.columns if c.name in frame.columns and c.name not in fixed]
    out = []
    for row in frame[names].to_dict("records"):
        clean = {}
        for key, value in row.items():
            if isinstance(value, (dict, list, tuple)):
                value = json.dumps(value, default=str, ensure_ascii=False)
            elif value is not None and not isinstance(value, str) and pd.isna(value):
                value = None
            elif hasattr(value, "item"):
                value = value.item()
            clean[key] = value
        clean.update(fixed)
        out.append(clean)
    return out


def _add_missing_columns(conn: sa.Connection) -> None:
    """Upgrade an older store in place: new tables exist already (create_all); add new nullable columns."""
    inspector = sa.inspect(conn)
    for table in metadata.sorted_tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present and column.nullable:
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(sa.text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
                log.info("store upgraded: added %s.%s", table.name, column.name)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
