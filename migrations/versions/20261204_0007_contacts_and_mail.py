"""contacts per customer, the program's emails as sent and the customers' answers, and a
customer's engagement stage set by hand

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'contacts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('role', sa.String(length=30), nullable=False),
        sa.Column('is_primary', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('created_by', sa.String(length=100), nullable=True),
        sa.Column('updated_by', sa.String(length=100), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['customer_id'], ['customers.customer_id'],
            name=op.f('fk_contacts_customer_id_customers'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
        sa.UniqueConstraint('customer_id', 'email', name=op.f('uq_contacts_customer_id')),
    )
    op.create_index(op.f('ix_contacts_customer_id'), 'contacts', ['customer_id'], unique=False)
    op.create_index(op.f('ix_contacts_email'), 'contacts', ['email'], unique=False)
    op.create_table(
        'email_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.String(length=100), nullable=False),
        sa.Column('direction', sa.String(length=3), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('send_key', sa.String(length=300), nullable=True),
        sa.Column('message_id', sa.String(length=998), nullable=True),
        sa.Column('in_reply_to', sa.String(length=998), nullable=True),
        sa.Column('references', sa.Text(), nullable=True),
        sa.Column('from_addr', sa.String(length=320), nullable=True),
        sa.Column('to_addrs', sa.JSON(), nullable=False),
        sa.Column('subject', sa.String(length=998), nullable=True),
        sa.Column('body_text', sa.Text(), nullable=True),
        sa.Column('body_html', sa.Text(), nullable=True),
        sa.Column('raw', sa.Text(), nullable=True),
        sa.Column('meeting_id', sa.Integer(), nullable=True),
        sa.Column('on', sa.Date(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('by', sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ['customer_id'], ['customers.customer_id'],
            name=op.f('fk_email_messages_customer_id_customers'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['meeting_id'], ['meetings.id'],
            name=op.f('fk_email_messages_meeting_id_meetings'), ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_messages')),
        sa.UniqueConstraint('message_id', name=op.f('uq_email_messages_message_id')),
        sa.UniqueConstraint('send_key', name=op.f('uq_email_messages_send_key')),
    )
    op.create_index(
        op.f('ix_email_messages_customer_id'), 'email_messages', ['customer_id'], unique=False
    )
    op.create_index(
        'ix_email_messages_customer_on', 'email_messages', ['customer_id', 'on'], unique=False
    )
    op.create_table(
        'stage_overrides',
        sa.Column('customer_id', sa.String(length=100), nullable=False),
        sa.Column('stage', sa.String(length=40), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('set_by', sa.String(length=100), nullable=True),
        sa.Column('set_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['customer_id'], ['customers.customer_id'],
            name=op.f('fk_stage_overrides_customer_id_customers'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_stage_overrides')),
    )


def downgrade() -> None:
    op.drop_table('stage_overrides')
    op.drop_index('ix_email_messages_customer_on', table_name='email_messages')
    op.drop_index(op.f('ix_email_messages_customer_id'), table_name='email_messages')
    op.drop_table('email_messages')
    op.drop_index(op.f('ix_contacts_email'), table_name='contacts')
    op.drop_index(op.f('ix_contacts_customer_id'), table_name='contacts')
    op.drop_table('contacts')
