"""Issue #10: each version keeps the keyword map's words and the extractor's version they were computed with

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing versions get None: their words are extracted (and stored) the first time the overview reads them.
    with op.batch_alter_table('sheet_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keywords', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('keywords_version', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sheet_versions', schema=None) as batch_op:
        batch_op.drop_column('keywords_version')
        batch_op.drop_column('keywords')
