"""The tables of the morning digest and the sidebar's notices (lib.digest, lib.notices):
kept apart from models.py to keep that file readable; lib/store/__init__.py imports this
module, so every reader of `models.Base.metadata` (Alembic, the tests) sees them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lib.store.models import Base, utcnow


class DigestDelivery(Base):
    """One digest to one person on one day through one channel: claimed ("sending")
    and committed before the mail or Slack server is called, then "sent" or "failed"
    (with the reason). The unique key makes a second run the same day send nothing."""

    __tablename__ = "digest_deliveries"
    __table_args__ = (
        UniqueConstraint("username", "day", "channel", name="uq_digest_deliveries_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    channel: Mapped[str] = mapped_column(String(20))  # email | slack
    kind: Mapped[str] = mapped_column(String(20), default="owner")  # owner | leadership
    status: Mapped[str] = mapped_column(String(20))  # sending | sent | failed
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str | None] = mapped_column(Text)


class NoticeRead(Base):
    """A notice in the sidebar a user marked read (lib.notices: its stable key)."""

    __tablename__ = "notice_reads"

    username: Mapped[str] = mapped_column(String(100), primary_key=True)
    notice_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    read_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
