"""Review loop and framework analysis: QA samples, double coding, memos, case attributes, practices.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

- ``qa_samples`` / ``qa_items``: a quality-assurance sample, fixed by its seed and stored, and
  the segments in it (anchored like all human work).
- ``assignments``: segments given to coders for double coding, in batches.
- ``human_codings``: ``context`` (where a coding was made: review, an import, a QA sample, a
  double-coding batch, a resolution) and ``blind`` (made before seeing the machine's coding).
- ``memos``: project, case, theme, cell, source and passage memos.
- ``sources.attributes``: a case's attributes from the manifest's own columns (JSON).
- ``practice_groups`` (versions of curated practices; the latest per ``group_id`` wins) and
  ``practices.group_id`` (the practice a passage is evidence for).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qa_samples",
        sa.Column("sample_id", sa.String(length=40), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("target_width", sa.Float(), nullable=True),
        sa.Column("settings", sa.Text(), nullable=True),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("sample_id"),
    )
    op.create_table(
        "qa_items",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("sample_id", sa.String(length=40), nullable=False),
        sa.Column("segment_key", sa.String(length=32), nullable=False),
        sa.Column("stratum", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source_uid", sa.String(length=40), nullable=True),
        sa.Column("anchor_text", sa.Text(), nullable=True),
        sa.Column("anchor", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["sample_id"], ["qa_samples.sample_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("item_id"),
    )
    op.create_index(op.f("ix_qa_items_sample_id"), "qa_items", ["sample_id"], unique=False)
    op.create_index(op.f("ix_qa_items_segment_key"), "qa_items", ["segment_key"], unique=False)
    op.create_table(
        "assignments",
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("segment_key", sa.String(length=32), nullable=False),
        sa.Column("coder", sa.String(length=100), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("source_uid", sa.String(length=40), nullable=True),
        sa.Column("anchor_text", sa.Text(), nullable=True),
        sa.Column("anchor", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("assignment_id"),
    )
    op.create_index(op.f("ix_assignments_batch_id"), "assignments", ["batch_id"], unique=False)
    op.create_index(op.f("ix_assignments_segment_key"), "assignments", ["segment_key"], unique=False)
    op.create_table(
        "memos",
        sa.Column("memo_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=True),
        sa.Column("segment_key", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("source_uid", sa.String(length=40), nullable=True),
        sa.Column("anchor_text", sa.Text(), nullable=True),
        sa.Column("anchor", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("memo_id"),
    )
    op.create_index(op.f("ix_memos_segment_key"), "memos", ["segment_key"], unique=False)
    op.create_table(
        "practice_groups",
        sa.Column("practice_group_row", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("who_runs", sa.Text(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("transferability", sa.Text(), nullable=True),
        sa.Column("theme", sa.String(length=100), nullable=True),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("practice_group_row"),
    )
    op.create_index(op.f("ix_practice_groups_group_id"), "practice_groups", ["group_id"], unique=False)
    with op.batch_alter_table("human_codings") as batch:
        batch.add_column(sa.Column("context", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("blind", sa.Boolean(), nullable=True))
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("attributes", sa.Text(), nullable=True))
    with op.batch_alter_table("practices") as batch:
        batch.add_column(sa.Column("group_id", sa.String(length=40), nullable=True))
    op.create_index(op.f("ix_practices_group_id"), "practices", ["group_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_practices_group_id"), table_name="practices")
    with op.batch_alter_table("practices") as batch:
        batch.drop_column("group_id")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("attributes")
    with op.batch_alter_table("human_codings") as batch:
        batch.drop_column("blind")
        batch.drop_column("context")
    for table, indexes in (("practice_groups", ["group_id"]), ("memos", ["segment_key"]),
                           ("assignments", ["segment_key", "batch_id"]), ("qa_items", ["segment_key", "sample_id"])):
        for column in indexes:
            op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
        op.drop_table(table)
    op.drop_table("qa_samples")
