"""Baseline: the schema of release 0.1.0 (``store_info.schema_version`` = 2).

Revision ID: 0001
Revises:
Create Date: 2026-12-07

A store written by release 0.1.0 already holds exactly this schema: it is stamped with this
revision, not re-created. The DDL is written out (frozen); later changes go in new revisions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('codings',
    sa.Column('coding_id', sa.Integer(), nullable=False),
    sa.Column('segment_key', sa.String(length=32), nullable=False),
    sa.Column('theme', sa.String(length=100), nullable=True),
    sa.Column('polarity', sa.String(length=20), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('good_practice', sa.Boolean(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('coder', sa.String(length=100), nullable=False),
    sa.Column('codebook_version', sa.String(length=40), nullable=True),
    sa.Column('run_id', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('coding_id')
    )
    op.create_index(op.f('ix_codings_segment_key'), 'codings', ['segment_key'], unique=False)

    op.create_table('comments',
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('segment_key', sa.String(length=32), nullable=True),
    sa.Column('theme', sa.String(length=100), nullable=True),
    sa.Column('topic', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('author_role', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('comment_id')
    )
    op.create_index(op.f('ix_comments_segment_key'), 'comments', ['segment_key'], unique=False)

    op.create_table('embeddings',
    sa.Column('text_hash', sa.String(length=40), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=False),
    sa.Column('dim', sa.Integer(), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('text_hash', 'model')
    )
    op.create_table('human_codings',
    sa.Column('coding_id', sa.Integer(), nullable=False),
    sa.Column('segment_key', sa.String(length=32), nullable=False),
    sa.Column('coder', sa.String(length=100), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('theme', sa.String(length=100), nullable=True),
    sa.Column('polarity', sa.String(length=20), nullable=True),
    sa.Column('good_practice', sa.Boolean(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('coding_id')
    )
    op.create_index(op.f('ix_human_codings_segment_key'), 'human_codings', ['segment_key'], unique=False)

    op.create_table('practices',
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('segment_key', sa.String(length=32), nullable=False),
    sa.Column('included', sa.Boolean(), nullable=False),
    sa.Column('theme', sa.String(length=100), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('practice_id')
    )
    op.create_index(op.f('ix_practices_segment_key'), 'practices', ['segment_key'], unique=False)

    op.create_table('runs',
    sa.Column('run_id', sa.String(length=40), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('started_at', sa.String(length=40), nullable=False),
    sa.Column('finished_at', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('toolkit_version', sa.String(length=20), nullable=True),
    sa.Column('config_hash', sa.String(length=20), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('run_id')
    )
    op.create_table('segment_topics',
    sa.Column('segment_key', sa.String(length=32), nullable=False),
    sa.Column('topic', sa.Integer(), nullable=False),
    sa.Column('probability', sa.Float(), nullable=True),
    sa.Column('assigned_by', sa.String(length=20), nullable=False),
    sa.Column('run_id', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('segment_key')
    )
    op.create_index(op.f('ix_segment_topics_topic'), 'segment_topics', ['topic'], unique=False)

    op.create_table('sources',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('encoding', sa.String(length=40), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('participant_id', sa.String(length=100), nullable=True),
    sa.Column('organisation_type', sa.String(length=200), nullable=True),
    sa.Column('sector', sa.String(length=100), nullable=True),
    sa.Column('role', sa.String(length=200), nullable=True),
    sa.Column('interview_date', sa.String(length=40), nullable=True),
    sa.Column('n_items', sa.Integer(), nullable=True),
    sa.Column('ingested_at', sa.String(length=40), nullable=True),
    sa.Column('run_id', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('source_id'),
    sa.UniqueConstraint('path')
    )
    op.create_index(op.f('ix_sources_place'), 'sources', ['place'], unique=False)

    op.create_table('store_info',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('summaries',
    sa.Column('summary_id', sa.Integer(), nullable=False),
    sa.Column('row_dimension', sa.String(length=40), nullable=False),
    sa.Column('row_value', sa.String(length=200), nullable=False),
    sa.Column('theme', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('summary_id')
    )
    op.create_table('topic_edits',
    sa.Column('edit_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('topic_label', sa.String(length=300), nullable=True),
    sa.Column('members', sa.Text(), nullable=False),
    sa.Column('parts', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('edit_id')
    )
    op.create_table('topics',
    sa.Column('topic', sa.Integer(), nullable=False),
    sa.Column('topic_label', sa.String(length=300), nullable=False),
    sa.Column('auto_label', sa.String(length=300), nullable=False),
    sa.Column('keywords', sa.Text(), nullable=True),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('representative', sa.Text(), nullable=True),
    sa.Column('seeded_theme', sa.String(length=100), nullable=True),
    sa.Column('nearest_theme', sa.String(length=100), nullable=True),
    sa.Column('theme_similarity', sa.Float(), nullable=True),
    sa.Column('coded_theme', sa.String(length=100), nullable=True),
    sa.Column('coded_share', sa.Float(), nullable=True),
    sa.Column('candidate_new', sa.Boolean(), nullable=False),
    sa.Column('x', sa.Float(), nullable=True),
    sa.Column('y', sa.Float(), nullable=True),
    sa.Column('run_id', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('topic')
    )
    op.create_table('respondents',
    sa.Column('respondent_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('respondent_key', sa.String(length=100), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('role', sa.String(length=200), nullable=True),
    sa.Column('organisation_type', sa.String(length=200), nullable=True),
    sa.Column('attributes', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.source_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('respondent_id')
    )
    op.create_index(op.f('ix_respondents_place'), 'respondents', ['place'], unique=False)
    op.create_index(op.f('ix_respondents_source_id'), 'respondents', ['source_id'], unique=False)

    op.create_table('segments',
    sa.Column('segment_id', sa.Integer(), nullable=False),
    sa.Column('segment_key', sa.String(length=32), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('turn_id', sa.Integer(), nullable=True),
    sa.Column('text_answer_id', sa.Integer(), nullable=True),
    sa.Column('segment_index', sa.Integer(), nullable=False),
    sa.Column('start_char', sa.Integer(), nullable=False),
    sa.Column('end_char', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('speaker_role', sa.String(length=20), nullable=False),
    sa.Column('is_evidence', sa.Boolean(), nullable=False),
    sa.Column('lemmas', sa.Text(), nullable=True),
    sa.Column('run_id', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.source_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('segment_id'),
    sa.UniqueConstraint('segment_key')
    )
    op.create_index(op.f('ix_segments_source_id'), 'segments', ['source_id'], unique=False)

    op.create_table('survey_questions',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('question_key', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('question_text', sa.Text(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('scale', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['source_id'], ['sources.source_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id')
    )
    op.create_index(op.f('ix_survey_questions_source_id'), 'survey_questions', ['source_id'], unique=False)

    op.create_table('turns',
    sa.Column('turn_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('turn_index', sa.Integer(), nullable=False),
    sa.Column('speaker', sa.String(length=200), nullable=True),
    sa.Column('speaker_role', sa.String(length=20), nullable=False),
    sa.Column('start_char', sa.Integer(), nullable=False),
    sa.Column('end_char', sa.Integer(), nullable=False),
    sa.Column('start_time', sa.Float(), nullable=True),
    sa.Column('end_time', sa.Float(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.source_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('turn_id')
    )
    op.create_index(op.f('ix_turns_source_id'), 'turns', ['source_id'], unique=False)

    op.create_table('likert_answers',
    sa.Column('respondent_id', sa.Integer(), nullable=True),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('value', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['question_id'], ['survey_questions.question_id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['respondent_id'], ['respondents.respondent_id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['sources.source_id'], ondelete='CASCADE')
    )
    op.create_index(op.f('ix_likert_answers_source_id'), 'likert_answers', ['source_id'], unique=False)

    op.create_table('text_answers',
    sa.Column('text_answer_id', sa.Integer(), nullable=False),
    sa.Column('respondent_id', sa.Integer(), nullable=True),
    sa.Column('question_id', sa.Integer(), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['survey_questions.question_id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['respondent_id'], ['respondents.respondent_id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_id'], ['sources.source_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('text_answer_id')
    )
    op.create_index(op.f('ix_text_answers_source_id'), 'text_answers', ['source_id'], unique=False)

    store_info = sa.table("store_info", sa.column("key", sa.String), sa.column("value", sa.String))
    op.bulk_insert(store_info, [{"key": "schema_version", "value": "2"}])


def downgrade() -> None:
    op.drop_index(op.f('ix_text_answers_source_id'), table_name='text_answers')
    op.drop_table('text_answers')
    op.drop_index(op.f('ix_likert_answers_source_id'), table_name='likert_answers')
    op.drop_table('likert_answers')
    op.drop_index(op.f('ix_turns_source_id'), table_name='turns')
    op.drop_table('turns')
    op.drop_index(op.f('ix_survey_questions_source_id'), table_name='survey_questions')
    op.drop_table('survey_questions')
    op.drop_index(op.f('ix_segments_source_id'), table_name='segments')
    op.drop_table('segments')
    op.drop_index(op.f('ix_respondents_source_id'), table_name='respondents')
    op.drop_index(op.f('ix_respondents_place'), table_name='respondents')
    op.drop_table('respondents')
    op.drop_table('topics')
    op.drop_table('topic_edits')
    op.drop_table('summaries')
    op.drop_table('store_info')
    op.drop_index(op.f('ix_sources_place'), table_name='sources')
    op.drop_table('sources')
    op.drop_index(op.f('ix_segment_topics_topic'), table_name='segment_topics')
    op.drop_table('segment_topics')
    op.drop_table('runs')
    op.drop_index(op.f('ix_practices_segment_key'), table_name='practices')
    op.drop_table('practices')
    op.drop_index(op.f('ix_human_codings_segment_key'), table_name='human_codings')
    op.drop_table('human_codings')
    op.drop_table('embeddings')
    op.drop_index(op.f('ix_comments_segment_key'), table_name='comments')
    op.drop_table('comments')
    op.drop_index(op.f('ix_codings_segment_key'), table_name='codings')
    op.drop_table('codings')
