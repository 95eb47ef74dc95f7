"""Issue #10: the index outbox — pending updates of the similar-sheet index, one row per sheet

Every existing sheet is queued once, so a vector left stale by an earlier release (a save while the
vector store was down) is caught up by the first drain after the upgrade.

Revision ID: 0012
Revises: 0002
Create Date: 2026-11-27 10:00:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('index_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('sheet_updated_at', sa.DateTime(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('queued_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sheet_id')
    )
    with op.batch_alter_table('index_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_index_outbox_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_index_outbox_organisation_id'), ['organisation_id'], unique=False)
    _queue_every_sheet()


def _queue_every_sheet() -> None:
    at = sa.literal(datetime.now(UTC).replace(tzinfo=None), sa.DateTime())
    sheets = sa.table('sheets', sa.column('id'), sa.column('organisation_id'), sa.column('version'),
                      sa.column('updated_at'))
    outbox = sa.table('index_outbox', *(sa.column(c) for c in (
        'sheet_id', 'organisation_id', 'version', 'sheet_updated_at', 'generation', 'attempts', 'queued_at',
        'updated_at', 'next_attempt_at')))
    rows = sa.select(sheets.c.id, sheets.c.organisation_id, sheets.c.version, sheets.c.updated_at, sa.literal(1),
                     sa.literal(0), at, at, at)
    op.execute(outbox.insert().from_select(list(outbox.c.keys()), rows))


def downgrade() -> None:
    with op.batch_alter_table('index_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_index_outbox_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_index_outbox_next_attempt_at'))
    op.drop_table('index_outbox')
