"""sign-in sessions a server can revoke, failed sign-ins shared by every server, and a
version on every row two people can edit at once (optimistic locking)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

VERSIONED = ('customers', 'steps', 'homework_assignments', 'finding_states')


def upgrade() -> None:
    op.create_table(
        'login_sessions',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('username', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('client', sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_sessions')),
    )
    op.create_index(
        op.f('ix_login_sessions_username'), 'login_sessions', ['username'], unique=False
    )
    op.create_table(
        'sign_in_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('failed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failures')),
    )
    op.create_index(
        'ix_sign_in_failures_kind_key_at',
        'sign_in_failures',
        ['kind', 'key', 'failed_at'],
        unique=False,
    )
    op.create_index(
        op.f('ix_sign_in_failures_failed_at'), 'sign_in_failures', ['failed_at'], unique=False
    )
    for name in VERSIONED:
        with op.batch_alter_table(name) as batch:
            batch.add_column(
                sa.Column('version', sa.Integer(), server_default='1', nullable=False)
            )


def downgrade() -> None:
    for name in VERSIONED:
        # SQLite (3.35+) drops a column in place: copying `customers` would cascade-delete
        # every row that refers to it (foreign keys are on).
        with op.batch_alter_table(name, recreate='never') as batch:
            batch.drop_column('version')
    op.drop_index(op.f('ix_sign_in_failures_failed_at'), table_name='sign_in_failures')
    op.drop_index('ix_sign_in_failures_kind_key_at', table_name='sign_in_failures')
    op.drop_table('sign_in_failures')
    op.drop_index(op.f('ix_login_sessions_username'), table_name='login_sessions')
    op.drop_table('login_sessions')
