"""Issue #9, #13, #14: login attempts (the throttle), import previews, API tokens, sheet links,
and the author of each version — login attempts, import previews, API tokens, sheet links, the author of each version

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 16:41:03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=70), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempts_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_key'), ['key'], unique=False)

    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('hint', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_by', sa.String(length=100), nullable=True),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('last_audit_at', sa.DateTime(), nullable=True),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['section_id'], ['sections.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('import_previews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('claimed', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('import_previews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_previews_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_previews_user_id'), ['user_id'], unique=False)

    op.create_table('sheet_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('sheet_a', sa.Integer(), nullable=False),
    sa.Column('sheet_b', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('by_login', sa.String(length=50), nullable=False),
    sa.Column('by_name', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('sheet_a < sheet_b'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], ),
    sa.ForeignKeyConstraint(['sheet_a'], ['sheets.id'], ),
    sa.ForeignKeyConstraint(['sheet_b'], ['sheets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sheet_a', 'sheet_b')
    )
    with op.batch_alter_table('sheet_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sheet_links_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sheet_links_sheet_a'), ['sheet_a'], unique=False)
        batch_op.create_index(batch_op.f('ix_sheet_links_sheet_b'), ['sheet_b'], unique=False)

    with op.batch_alter_table('sheet_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_id', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('sheet_versions', schema=None) as batch_op:
        batch_op.drop_column('author_id')

    with op.batch_alter_table('sheet_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sheet_links_sheet_b'))
        batch_op.drop_index(batch_op.f('ix_sheet_links_sheet_a'))
        batch_op.drop_index(batch_op.f('ix_sheet_links_organisation_id'))

    op.drop_table('sheet_links')
    with op.batch_alter_table('import_previews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_previews_user_id'))
        batch_op.drop_index(batch_op.f('ix_import_previews_created_at'))

    op.drop_table('import_previews')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_organisation_id'))

    op.drop_table('api_tokens')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempts_key'))
        batch_op.drop_index(batch_op.f('ix_login_attempts_at'))

    op.drop_table('login_attempts')
