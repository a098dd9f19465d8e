"""posthog sync state: how far each PostHog query has synced usage per customer

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'posthog_sync_state',
        sa.Column('project', sa.String(length=300), nullable=False),
        sa.Column('query', sa.String(length=100), nullable=False),
        sa.Column('customer_id', sa.String(length=100), nullable=False),
        sa.Column('synced_through', sa.Date(), nullable=False),
        sa.Column('synced_by', sa.String(length=100), nullable=True),
        sa.Column('synced_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['customer_id'], ['customers.customer_id'],
            name=op.f('fk_posthog_sync_state_customer_id_customers'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('project', 'query', 'customer_id', name=op.f('pk_posthog_sync_state')),
    )


def downgrade() -> None:
    op.drop_table('posthog_sync_state')
