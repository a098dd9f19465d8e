"""the morning digest's deliveries (one per person, day and channel) and the notices a
user marked read

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'digest_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=100), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('claimed_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_deliveries')),
        sa.UniqueConstraint('username', 'day', 'channel', name='uq_digest_deliveries_key'),
    )
    op.create_index(
        op.f('ix_digest_deliveries_day'), 'digest_deliveries', ['day'], unique=False
    )
    op.create_table(
        'notice_reads',
        sa.Column('username', sa.String(length=100), nullable=False),
        sa.Column('notice_key', sa.String(length=200), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('username', 'notice_key', name=op.f('pk_notice_reads')),
    )


def downgrade() -> None:
    op.drop_table('notice_reads')
    op.drop_index(op.f('ix_digest_deliveries_day'), table_name='digest_deliveries')
    op.drop_table('digest_deliveries')
