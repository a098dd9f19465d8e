"""Every table of the console, in one place (SQLAlchemy 2, typed).

Portable types only: the same models run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints keep Alembic batch migrations (SQLite) and PostgreSQL in step.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def table(model: type[Base]) -> Table:
    """The Core table of a model, typed (for bulk statements)."""
    return cast(Table, model.__table__)


class Customer(Base):
    __tablename__ = "customers"

    customer_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str | None] = mapped_column(String(100), index=True)
    plan: Mapped[str | None] = mapped_column(String(50))
    segment_entered_on: Mapped[dt.date] = mapped_column(Date, index=True)
    entry_reason: Mapped[str | None] = mapped_column(String(50))
    mrr_usd: Mapped[float | None] = mapped_column(Float)
    extended_until: Mapped[dt.date | None] = mapped_column(Date)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="active")
    # The owner's own 1-5 read of the relationship, shown beside the computed health.
    relationship_rating: Mapped[int | None] = mapped_column(Integer)
    # Optimistic locking of the extension and the rating (lib.store.versions): bumped
    # explicitly by the writers that matter, not the mapper (imports write Core UPDATEs).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("customer_id", "product"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE")
    )
    product: Mapped[str] = mapped_column(String(50))
    billing_limit_usd: Mapped[float | None] = mapped_column(Float)


class ConfigValue(Base):
    __tablename__ = "config_values"

    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class Usage(Base):
    """One customer-day-metric. The primary key doubles as the index the
    per-customer window sums walk (customer, metric, date range).

    No foreign key to customers (migration 0003): on PostgreSQL its per-row
    check cost more than the rows themselves (1.25M rows: COPY 4.5 s, with the
    key 11.8 s). Every writer checks the customer exists first (lib.ingest.store
    refuses unknown customers; lib.demo writes its own), and customers are never
    deleted (lib.demo's --replace clears usage itself)."""

    __tablename__ = "usage"
    # SQLite: the table is its primary-key B-tree (migration 0004).
    __table_args__ = {"sqlite_with_rowid": False}

    customer_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Step(Base):
    """The recorded state of one program step; absent = computed from the timeline."""

    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("customer_id", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE"), index=True
    )
    step: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20))
    date: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # Optimistic locking: an edit based on an older version is refused (lib.store.versions).
    # Every ORM write takes a new one; steps.csv (a Core UPDATE) adds one itself.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # first | second
    owner: Mapped[str | None] = mapped_column(String(100), index=True)
    # Stored in UTC (naive); `timezone` is the zone the meeting was set in.
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    duration_min: Mapped[int] = mapped_column(Integer, default=30)
    attendees: Mapped[list[Any]] = mapped_column(JSON, default=list)
    agenda: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    notes: Mapped[str | None] = mapped_column(Text)
    fixed_rules: Mapped[list[Any]] = mapped_column(JSON, default=list)
    second_call_offered: Mapped[bool | None] = mapped_column(Boolean)
    second_call_accepted: Mapped[bool | None] = mapped_column(Boolean)
    created_by: Mapped[str | None] = mapped_column(String(100))
    updated_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # Optimistic locking: a save that read an older version is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Goal(Base):
    """A business goal or KPI the customer shared on the second call."""

    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(300))
    target: Mapped[str | None] = mapped_column(String(300))
    by_when: Mapped[dt.date | None] = mapped_column(Date)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class HomeworkAssignment(Base):
    __tablename__ = "homework_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # draft -> sent -> done (verified by data or ticked by hand)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    sent_on: Mapped[dt.date | None] = mapped_column(Date)
    done_on: Mapped[dt.date | None] = mapped_column(Date)
    verified_by: Mapped[str | None] = mapped_column(String(20))  # data | hand
    evidence: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # Optimistic locking: an edit based on an older version is refused (lib.store.versions).
    # Every write is the ORM's, so every write takes a new one.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class FindingState(Base):
    """What the team decided about one audit finding of one customer."""

    __tablename__ = "finding_states"

    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE"), primary_key=True
    )
    rule: Mapped[str] = mapped_column(String(50), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="open")  # open | fixed | dismissed
    first_seen_on: Mapped[dt.date | None] = mapped_column(Date)
    fixed_on: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    # The saving when the finding was identified, kept so "realised" stays countable
    # after the data stops showing it.
    est_monthly_saving_usd: Mapped[float] = mapped_column(Float, default=0.0)
    # Its share of the customer's combined saving (every open fix applied together, through
    # the tiers), as last synced: what Outcomes add up, so no dollar counts twice.
    counted_saving_usd: Mapped[float | None] = mapped_column(Float)
    updated_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # Optimistic locking of the decision (lib.store.versions): bumped explicitly when the
    # state, note or reason changes, not when an import refreshes the saving.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Refund(Base):
    """One refund on its way from a finding to the customer's bill (lib/refunds): proposed,
    requested by the customer, approved where the policy asks, then issued or declined."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE"), index=True
    )
    scenario: Mapped[str] = mapped_column(String(40))
    rule: Mapped[str | None] = mapped_column(String(50))
    # The amount proposed (at most ceiling_usd), lowered by revenue operations if at all.
    amount_usd: Mapped[float] = mapped_column(Float)
    per_product: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    billing_month: Mapped[dt.date | None] = mapped_column(Date)
    # lib.vocabulary.REFUND_STATUSES
    status: Mapped[str] = mapped_column(String(20), default="issued", index=True)
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(100))  # who proposed it
    recorded_on: Mapped[dt.date] = mapped_column(Date)  # the day it was proposed
    # The most the policy allows (the finding's assessment when proposed); null = unknown.
    ceiling_usd: Mapped[float | None] = mapped_column(Float)
    occurrence: Mapped[int | None] = mapped_column(Integer)  # the customer's refund number
    invoice_change: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    requested_on: Mapped[dt.date | None] = mapped_column(Date)  # the day the customer asked
    # Approved or declined: by whom ("policy" for the policy's own decline), when, why.
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    override_by: Mapped[str | None] = mapped_column(String(100))  # an admin, over the policy
    override_reason: Mapped[str | None] = mapped_column(Text)
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    issued_usd: Mapped[float | None] = mapped_column(Float)
    reference: Mapped[str | None] = mapped_column(String(100))  # the billing system's
    updated_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=utcnow)
    # Optimistic locking: a change based on an older version is refused (lib.errors.Conflict).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class Contact(Base):
    """A person at a customer (lib/contacts): who the program's emails greet and go to."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("customer_id", "email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), index=True)  # stored lower-case
    role: Mapped[str] = mapped_column(String(30), default="other")  # vocabulary.CONTACT_ROLES
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by: Mapped[str | None] = mapped_column(String(100))
    updated_by: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class EmailMessage(Base):
    """One email of the program, as it went or came: sent from the console (direction
    "out", exactly as sent) or a customer's answer ("in", from the mailbox or recorded by
    hand). `send_key` is unique: the claim that makes a second send of the same draft
    (a double click, two people at once) impossible."""

    __tablename__ = "email_messages"
    __table_args__ = (Index("ix_email_messages_customer_on", "customer_id", "on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(3))  # out | in
    # vocabulary.MESSAGE_KINDS: initial_outreach | homework | final_outreach |
    # meeting_invite | reply | manual_reply
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(10), default="sent")  # sending | sent
    send_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(998), unique=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[str | None] = mapped_column(Text)
    from_addr: Mapped[str | None] = mapped_column(String(320))
    to_addrs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    subject: Mapped[str | None] = mapped_column(String(998))
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[str | None] = mapped_column(Text)  # the whole message, headers and parts
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    on: Mapped[dt.date] = mapped_column(Date)  # sent or received (the program's date)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    by: Mapped[str | None] = mapped_column(String(100))  # who sent or recorded it


class StageOverride(Base):
    """A customer's engagement stage set by hand, over what the facts say, with a reason."""

    __tablename__ = "stage_overrides"

    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE"), primary_key=True
    )
    stage: Mapped[str] = mapped_column(String(40))  # vocabulary.STAGES
    reason: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str | None] = mapped_column(String(100))
    set_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class LoginSession(Base):
    """One signed-in browser: its cookie carries the id, checked on every run; a revoked
    or expired row signs the browser out on every server."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie's id
    username: Mapped[str] = mapped_column(String(100), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    client: Mapped[str | None] = mapped_column(String(100))  # the address that signed in


class SignInFailure(Base):
    """A failed sign-in, counted per name and per client address by every server."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_kind_key_at", "kind", "key", "failed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # name | address
    key: Mapped[str] = mapped_column(String(200))
    failed_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class AuditLog(Base):
    """Every write: who, when, what changed."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_customer_at", "customer_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))  # insert | update | delete | import | ...
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str | None] = mapped_column(String(200))
    customer_id: Mapped[str | None] = mapped_column(String(100))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class PostHogSyncState(Base):
    """How far each PostHog query has synced usage for each customer
    (lib.ingest.posthog_sync): a customer added later gets its history on the next sync."""

    __tablename__ = "posthog_sync_state"

    # PostHog host + project id (never the API key): another project starts afresh.
    project: Mapped[str] = mapped_column(String(300), primary_key=True)
    query: Mapped[str] = mapped_column(String(100), primary_key=True)  # the .sql file's name
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE"), primary_key=True
    )
    synced_through: Mapped[dt.date] = mapped_column(Date)
    synced_by: Mapped[str | None] = mapped_column(String(100))
    synced_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class CustomerUsageSummary(Base):
    """Per customer and metric: the usage window sums the report reads
    (lib.windows.AGGREGATES) as of one date. Derived from `usage` and refreshed
    inside every transaction that writes usage (lib.store.usage_summary), so pages
    read 19 rows a customer instead of summing 120 days of usage on each load.
    A customer without a row here has no usage in those windows."""

    __tablename__ = "customer_usage_summary"
    __table_args__ = {"sqlite_with_rowid": False}

    as_of: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("customers.customer_id", ondelete="CASCADE"), primary_key=True
    )
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_30: Mapped[int] = mapped_column(BigInteger)
    prior_90: Mapped[int] = mapped_column(BigInteger)
    max_day_30: Mapped[int] = mapped_column(BigInteger)
    days_30: Mapped[int] = mapped_column(Integer)
    last_7: Mapped[int] = mapped_column(BigInteger)
    prev_7: Mapped[int] = mapped_column(BigInteger)
    last_3: Mapped[int] = mapped_column(BigInteger)
    days_prior_90: Mapped[int] = mapped_column(Integer)


class UsageSummaryDate(Base):
    """The dates `customer_usage_summary` holds, complete for every customer."""

    __tablename__ = "usage_summary_dates"

    as_of: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    refreshed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
