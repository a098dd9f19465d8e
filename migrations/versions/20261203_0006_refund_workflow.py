"""refunds move through a workflow: proposed -> requested -> needs_approval -> approved ->
issued or declined, with the dates, people, reasons and reference of each step, and a
version for optimistic locking

Old rows keep what they said: `pending_approval` becomes `needs_approval`; a refund
recorded before the workflow was given (issued) or waiting on the day it was recorded,
so that day is its request date, and for an issued one its issue date and amount.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _new_columns() -> list[sa.Column]:
    return [
        sa.Column('ceiling_usd', sa.Float(), nullable=True),
        sa.Column('occurrence', sa.Integer(), nullable=True),
        sa.Column('invoice_change', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('requested_on', sa.Date(), nullable=True),
        sa.Column('decided_by', sa.String(length=100), nullable=True),
        sa.Column('decided_on', sa.Date(), nullable=True),
        sa.Column('decision_reason', sa.Text(), nullable=True),
        sa.Column('override_by', sa.String(length=100), nullable=True),
        sa.Column('override_reason', sa.Text(), nullable=True),
        sa.Column('issued_on', sa.Date(), nullable=True),
        sa.Column('issued_usd', sa.Float(), nullable=True),
        sa.Column('reference', sa.String(length=100), nullable=True),
        sa.Column('updated_by', sa.String(length=100), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
        sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table('refunds') as batch:
        for column in _new_columns():
            batch.add_column(column)
        batch.create_index('ix_refunds_status', ['status'], unique=False)
    op.execute("UPDATE refunds SET status = 'needs_approval' WHERE status = 'pending_approval'")
    op.execute(
        "UPDATE refunds SET ceiling_usd = amount_usd, updated_by = recorded_by, "
        "requested_on = CASE WHEN status = 'declined' THEN NULL ELSE recorded_on END"
    )
    op.execute(
        "UPDATE refunds SET issued_on = recorded_on, issued_usd = amount_usd "
        "WHERE status = 'issued'"
    )
    op.execute("UPDATE refunds SET decided_on = recorded_on WHERE status = 'declined'")


def downgrade() -> None:
    # The old statuses: issued, pending_approval, declined (every open state waits).
    op.execute(
        "UPDATE refunds SET status = 'pending_approval' "
        "WHERE status IN ('proposed', 'requested', 'needs_approval', 'approved')"
    )
    op.execute(
        "UPDATE refunds SET amount_usd = issued_usd "
        "WHERE status = 'issued' AND issued_usd IS NOT NULL"
    )
    with op.batch_alter_table('refunds') as batch:
        batch.drop_index('ix_refunds_status')
        for column in reversed(_new_columns()):
            batch.drop_column(column.name)
