"""customer usage summary: per-customer window sums as of a date, refreshed by imports;
usage without its per-row foreign key to customers (see lib.store.models.Usage)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 13:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'customer_usage_summary',
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('customer_id', sa.String(length=100), nullable=False),
        sa.Column('metric', sa.String(length=40), nullable=False),
        sa.Column('last_30', sa.BigInteger(), nullable=False),
        sa.Column('prior_90', sa.BigInteger(), nullable=False),
        sa.Column('max_day_30', sa.BigInteger(), nullable=False),
        sa.Column('days_30', sa.Integer(), nullable=False),
        sa.Column('last_7', sa.BigInteger(), nullable=False),
        sa.Column('prev_7', sa.BigInteger(), nullable=False),
        sa.Column('last_3', sa.BigInteger(), nullable=False),
        sa.Column('days_prior_90', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['customer_id'], ['customers.customer_id'],
            name=op.f('fk_customer_usage_summary_customer_id_customers'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint(
            'as_of', 'customer_id', 'metric', name=op.f('pk_customer_usage_summary')
        ),
    )
    op.create_table(
        'usage_summary_dates',
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('refreshed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('as_of', name=op.f('pk_usage_summary_dates')),
    )
    # usage.customer_id keeps its primary-key index but loses the per-row check.
    with op.batch_alter_table('usage') as batch:
        batch.drop_constraint('fk_usage_customer_id_customers', type_='foreignkey')


def downgrade() -> None:
    with op.batch_alter_table('usage') as batch:
        batch.create_foreign_key(
            'fk_usage_customer_id_customers', 'customers', ['customer_id'], ['customer_id'],
            ondelete='CASCADE',
        )
    op.drop_table('usage_summary_dates')
    op.drop_table('customer_usage_summary')
