"""Issue #10: each version keeps its rule findings and the rules' version they were computed with

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing versions get None: their findings are computed (and stored) the first time a page reads them.
    with op.batch_alter_table('sheet_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('findings', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('rules_version', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sheet_versions', schema=None) as batch_op:
        batch_op.drop_column('rules_version')
        batch_op.drop_column('findings')
