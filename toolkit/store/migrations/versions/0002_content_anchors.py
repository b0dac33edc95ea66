"""Content anchors: sources keep a uid and a keyed path hash; human work remembers its text and source.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07

- ``sources``: ``source_uid`` (kept through edits and renames), ``path_key`` (a keyed hash of the
  raw file's path: the store no longer needs the raw name), ``settings_hash`` (the reading and
  pseudonymisation settings that produced the stored text), ``segmented_with``.
- ``segments``: ``prompt`` (the question a participant's segment answers).
- ``human_codings``: ``source_uid``, ``anchor``; ``practices`` and ``comments``: ``source_uid``,
  ``anchor_text``, ``anchor``.

Every new column is nullable: a store of 0.1.0 keeps its rows. On its next run, each source is
recognised again by its content (it gets a uid and a path key, like a renamed file), and every
decision, practice and comment is re-attached by its text.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_COLUMNS = {
    "sources": [
        sa.Column("source_uid", sa.String(length=40), nullable=True),
        sa.Column("path_key", sa.String(length=64), nullable=True),
        sa.Column("settings_hash", sa.String(length=40), nullable=True),
        sa.Column("segmented_with", sa.String(length=40), nullable=True),
    ],
    "segments": [sa.Column("prompt", sa.Text(), nullable=True)],
    "human_codings": [
        sa.Column("source_uid", sa.String(length=40), nullable=True),
        sa.Column("anchor", sa.String(length=20), nullable=True),
    ],
    "practices": [
        sa.Column("source_uid", sa.String(length=40), nullable=True),
        sa.Column("anchor_text", sa.Text(), nullable=True),
        sa.Column("anchor", sa.String(length=20), nullable=True),
    ],
    "comments": [
        sa.Column("source_uid", sa.String(length=40), nullable=True),
        sa.Column("anchor_text", sa.Text(), nullable=True),
        sa.Column("anchor", sa.String(length=20), nullable=True),
    ],
}


def upgrade() -> None:
    for table, columns in _COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.add_column(column)
    op.create_index(op.f("ix_sources_source_uid"), "sources", ["source_uid"], unique=False)
    op.create_index(op.f("ix_sources_path_key"), "sources", ["path_key"], unique=False)
    # Work made on a segment before anchors existed: its text is its anchor.
    op.execute("UPDATE practices SET anchor_text = (SELECT text FROM segments WHERE segments.segment_key = "
               "practices.segment_key) WHERE anchor_text IS NULL")
    op.execute("UPDATE comments SET anchor_text = (SELECT text FROM segments WHERE segments.segment_key = "
               "comments.segment_key) WHERE anchor_text IS NULL AND segment_key IS NOT NULL")


def downgrade() -> None:
    op.drop_index(op.f("ix_sources_path_key"), table_name="sources")
    op.drop_index(op.f("ix_sources_source_uid"), table_name="sources")
    for table, columns in _COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column in reversed(columns):
                batch.drop_column(column.name)
