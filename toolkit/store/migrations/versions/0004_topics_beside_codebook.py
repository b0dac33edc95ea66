"""Topics beside the codebook (issue 19): evidence for candidate new themes, stability, structure, keyphrases.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08

- ``topics``: ``label_passage`` (the segment key of the passage the label was built from),
  ``theme_affinity`` (the nearest theme's affinity, in standard deviations above the study's
  average), ``uncoded_share``, ``restates_theme``, ``candidate_kind`` (theme or sub_theme) and
  ``candidate_parent``, ``evidence`` (JSON: uncoded share against the study's, distinctive places,
  coded themes, what a restating topic adds, the reasons it is a candidate) and ``stability``
  (the topic's mean best match across other seeds).
- ``segment_topics``: ``structure`` (why a segment is in no topic: introduction, logistics,
  time_date, ...) and ``phrases`` (JSON: the keyphrases it holds, for the place view).

All columns are nullable: a store's topics from before this revision read as "not measured"
until the topics are fitted again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TOPIC_COLUMNS = (
    ("label_passage", sa.String(length=32)),
    ("theme_affinity", sa.Float()),
    ("uncoded_share", sa.Float()),
    ("restates_theme", sa.String(length=100)),
    ("candidate_kind", sa.String(length=20)),
    ("candidate_parent", sa.String(length=100)),
    ("evidence", sa.Text()),
    ("stability", sa.Float()),
)
SEGMENT_TOPIC_COLUMNS = (
    ("structure", sa.String(length=40)),
    ("phrases", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("topics") as batch:
        for name, kind in TOPIC_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    with op.batch_alter_table("segment_topics") as batch:
        for name, kind in SEGMENT_TOPIC_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("segment_topics") as batch:
        for name, _ in reversed(SEGMENT_TOPIC_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table("topics") as batch:
        for name, _ in reversed(TOPIC_COLUMNS):
            batch.drop_column(name)
