"""The store's tables, declared once (column names come from :mod:`toolkit.schema`).

These declarations are what the code reads and writes. The database itself is created and
changed only by the migrations in ``toolkit/store/migrations/versions`` (Alembic); a test
checks that the migrations at head build exactly these tables.
"""

from __future__ import annotations

import sqlalchemy as sa

from toolkit import schema as s
from toolkit.errors import InputDataError

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
    sa.Column(s.ATTRIBUTES, sa.Text),
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
    sa.Column(s.CONTEXT, sa.String(100)),
    sa.Column(s.BLIND, sa.Boolean),
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
    # 0004: topics beside the codebook (issue 19)
    sa.Column(s.LABEL_PASSAGE, sa.String(32)),
    sa.Column(s.THEME_AFFINITY, sa.Float),
    sa.Column(s.UNCODED_SHARE, sa.Float),
    sa.Column(s.RESTATES_THEME, sa.String(100)),
    sa.Column(s.CANDIDATE_KIND, sa.String(20)),
    sa.Column(s.CANDIDATE_PARENT, sa.String(100)),
    sa.Column(s.EVIDENCE, sa.Text),
    sa.Column(s.STABILITY, sa.Float),
)

segment_topics = sa.Table(
    s.SEGMENT_TOPICS,
    metadata,
    sa.Column(s.SEGMENT_KEY, sa.String(32), primary_key=True),
    sa.Column(s.TOPIC, sa.Integer, nullable=False, index=True),
    sa.Column(s.PROBABILITY, sa.Float),
    sa.Column(s.ASSIGNED_BY, sa.String(20), nullable=False),
    sa.Column(s.RUN_ID, sa.String(40)),
    # 0004: why a segment is in no topic, and the keyphrases it holds (the place view counts them)
    sa.Column(s.STRUCTURE, sa.String(40)),
    sa.Column(s.PHRASES, sa.Text),
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
    sa.Column(s.GROUP_ID, sa.String(40), index=True),
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

qa_samples = sa.Table(
    s.QA_SAMPLES,
    metadata,
    sa.Column(s.SAMPLE_ID, sa.String(40), primary_key=True),
    sa.Column(s.SEED, sa.Integer, nullable=False),
    sa.Column(s.TARGET_WIDTH, sa.Float),
    sa.Column(s.SETTINGS, sa.Text),
    sa.Column(s.AUTHOR, sa.String(100), nullable=False),
    sa.Column(s.CREATED_AT, sa.String(40), nullable=False),
)

qa_items = sa.Table(
    s.QA_ITEMS,
    metadata,
    sa.Column(s.ITEM_ID, sa.Integer, primary_key=True),
    sa.Column(s.SAMPLE_ID, sa.String(40), sa.ForeignKey(f"{s.QA_SAMPLES}.{s.SAMPLE_ID}", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column(s.SEGMENT_KEY, sa.String(32), nullable=False, index=True),
    sa.Column(s.STRATUM, sa.String(100), nullable=False),
    sa.Column(s.POSITION, sa.Integer, nullable=False),
    sa.Column(s.SOURCE_UID, sa.String(40)),
    sa.Column(s.ANCHOR_TEXT, sa.Text),
    sa.Column(s.ANCHOR, sa.String(20)),
)

assignments = sa.Table(
    s.ASSIGNMENTS,
    metadata,
    sa.Column(s.ASSIGNMENT_ID, sa.Integer, primary_key=True),
    sa.Column(s.BATCH_ID, sa.String(40), nullable=False, index=True),
    sa.Column(s.SEGMENT_KEY, sa.String(32), nullable=False, index=True),
    sa.Column(s.CODER, sa.String(100), nullable=False),
    sa.Column(s.AUTHOR, sa.String(100), nullable=False),
    sa.Column(s.CREATED_AT, sa.String(40), nullable=False),
    sa.Column(s.SOURCE_UID, sa.String(40)),
    sa.Column(s.ANCHOR_TEXT, sa.Text),
    sa.Column(s.ANCHOR, sa.String(20)),
)

memos = sa.Table(
    s.MEMOS,
    metadata,
    sa.Column(s.MEMO_ID, sa.Integer, primary_key=True),
    sa.Column(s.SCOPE, sa.String(20), nullable=False),
    sa.Column(s.TARGET, sa.String(300)),
    sa.Column(s.SEGMENT_KEY, sa.String(32), index=True),
    sa.Column(s.TITLE, sa.String(300)),
    sa.Column(s.TEXT, sa.Text, nullable=False),
    sa.Column(s.AUTHOR, sa.String(100), nullable=False),
    sa.Column(s.CREATED_AT, sa.String(40), nullable=False),
    sa.Column(s.SOURCE_UID, sa.String(40)),
    sa.Column(s.ANCHOR_TEXT, sa.Text),
    sa.Column(s.ANCHOR, sa.String(20)),
)

practice_groups = sa.Table(
    s.PRACTICE_GROUPS,
    metadata,
    sa.Column("practice_group_row", sa.Integer, primary_key=True),
    sa.Column(s.GROUP_ID, sa.String(40), nullable=False, index=True),
    sa.Column(s.TITLE, sa.String(300), nullable=False),
    sa.Column(s.DESCRIPTION, sa.Text),
    sa.Column(s.PLACE, sa.String(200)),
    sa.Column(s.WHO_RUNS, sa.Text),
    sa.Column(s.EVIDENCE, sa.Text),
    sa.Column(s.STATUS, sa.String(20), nullable=False),
    sa.Column(s.TRANSFERABILITY, sa.Text),
    sa.Column(s.THEME, sa.String(100)),
    sa.Column(s.AUTHOR, sa.String(100), nullable=False),
    sa.Column(s.CREATED_AT, sa.String(40), nullable=False),
)

store_info = sa.Table(
    "store_info",
    metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(200)),
)

TABLES: dict[str, sa.Table] = {t.name: t for t in metadata.sorted_tables}
CHILD_TABLES = (segments, likert_answers, text_answers, respondents, survey_questions, turns)

LIMITS: dict[str, dict[str, int]] = {
    t.name: {c.name: c.type.length for c in t.columns if isinstance(c.type, sa.String) and c.type.length}
    for t in metadata.sorted_tables
}
"""``table -> column -> the most characters the column keeps`` (PostgreSQL refuses more)."""


def check_lengths(table: sa.Table, rows: list[dict]) -> None:
    """Refuse, before anything is written, a value longer than its column keeps.

    SQLite keeps any length; PostgreSQL refuses the whole write. Checking here makes both
    backends behave alike, with a message that names the table, column, limit and length
    (never the value: it may be interview text).

    Examples
    --------
    >>> check_lengths(practices, [{"title": "x" * 301}])
    Traceback (most recent call last):
    ...
    toolkit.errors.InputDataError: practices.title: a value of 301 characters is longer than the 300 ...
    """
    limits = LIMITS.get(table.name, {})
    for index, row in enumerate(rows):
        for column, limit in limits.items():
            value = row.get(column)
            if isinstance(value, str) and len(value) > limit:
                where = f"row {index + 1} of {len(rows)}" if len(rows) > 1 else ""
                raise InputDataError(
                    f"{table.name}.{column}",
                    f"a value of {len(value)} characters is longer than the {limit} characters the store keeps "
                    "in this column; nothing was written.",
                    "Shorten it (a PostgreSQL store refuses longer values, so the store keeps SQLite to the same limit).",
                    where=where,
                )
