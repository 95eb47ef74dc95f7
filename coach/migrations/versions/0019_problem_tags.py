"""Issue #14: LLM problem tags of submitted sheets, with the text and the tagger they belong to

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-27 04:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sheet_problem_tags',
    sa.Column('sheet_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('tagger', sa.String(length=120), nullable=False),
    sa.Column('tags', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['sheet_id'], ['sheets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sheet_id')
    )


def downgrade() -> None:
    op.drop_table('sheet_problem_tags')
