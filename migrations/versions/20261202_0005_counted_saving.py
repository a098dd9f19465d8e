"""finding_states.counted_saving_usd: a finding's share of its customer's combined saving
(every open fix applied together), what Outcomes add up

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 01:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('finding_states') as batch:
        batch.add_column(sa.Column('counted_saving_usd', sa.Float(), nullable=True))
    # Until the next sync shares out each customer's combined saving: the saving alone.
    op.execute('UPDATE finding_states SET counted_saving_usd = est_monthly_saving_usd')


def downgrade() -> None:
    with op.batch_alter_table('finding_states') as batch:
        batch.drop_column('counted_saving_usd')
