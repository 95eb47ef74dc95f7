"""Issue #10/#11: the review cycle's state machine — the version last accepted, kept through a revision

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accepted_version', sa.Integer(), nullable=True))
    # a sheet accepted before this revision: its accepted version is the one submitted
    op.execute("UPDATE reviews SET accepted_version = submitted_version WHERE state = 'accepted'")


def downgrade() -> None:
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('accepted_version')
