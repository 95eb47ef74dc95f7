"""Issue #11 items 3 and 5: notices (in-app, optionally mailed), an e-mail address per account, and a
session's one-time message (a new password or token shown once after the redirect)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('sheet_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('title', sa.String(length=100), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('link', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.Column('mail', sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id']),
        sa.ForeignKeyConstraint(['sheet_id'], ['sheets.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notices_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('once', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_column('once')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_user_id'))
        batch_op.drop_index(batch_op.f('ix_notices_organisation_id'))
    op.drop_table('notices')
