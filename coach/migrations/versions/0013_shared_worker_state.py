"""Issue #10 item 4: state several workers share — the AI coach's jobs and the LLM's answer cache

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('deep_jobs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('sheet_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('deadline_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['sheet_id'], ['sheets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deep_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deep_jobs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_deep_jobs_sheet_id'), ['sheet_id'], unique=False)

    op.create_table('llm_cache',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('llm_cache', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_llm_cache_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('llm_cache', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_llm_cache_created_at'))
    op.drop_table('llm_cache')
    with op.batch_alter_table('deep_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deep_jobs_sheet_id'))
        batch_op.drop_index(batch_op.f('ix_deep_jobs_created_at'))
    op.drop_table('deep_jobs')
