"""The digest in the database: the facts it reads besides the reports (replies, homework
check-ins, meetings, refunds), and its deliveries: one row per person, day and channel,
claimed ("sending") and committed before a server is called, then "sent" or "failed" with
the reason, so a second run the same day sends nothing twice (docs/rules.md, "The morning
digest"). In the caller's unit of work."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lib.digest.model import Facts, HomeworkFact, MeetingFact, ReplyFact
from lib.meetings.model import KIND_STEP, meeting_day, to_local
from lib.refunds import store as refund_store
from lib.store import models
from lib.store.digest_models import DigestDelivery

# A claim still "sending" after this long was left by a crash: the next run sends again.
STALE_AFTER = dt.timedelta(minutes=10)
CHECK_IN_DAYS = 14  # homework sent without a check-in day: checked in two weeks later
MAX_ERROR_CHARS = 2_000
_CHECK_IN = re.compile(r"next check-in (\d{4}-\d{2}-\d{2})")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# ------------------------------------------------------------------ facts


def _check_ins(session: Session, ids: Iterable[str] | None) -> dict[str, dt.date]:
    step = models.Step
    stmt = select(step.customer_id, step.note).where(
        step.step == "homework", step.note.is_not(None)
    )
    if ids is not None:
        stmt = stmt.where(step.customer_id.in_(list(ids)))
    found: dict[str, dt.date] = {}
    for customer_id, note in session.execute(stmt):
        match = _CHECK_IN.search(note or "")
        if match:
            try:
                found[customer_id] = dt.date.fromisoformat(match.group(1))
            except ValueError:
                continue
    return found


def facts(session: Session, as_of: dt.date, customer_ids: Iterable[str] | None = None) -> Facts:
    """Replies from yesterday and as-of, homework sent and not done, meetings booked from
    the day before as-of to three days after (local days are settled in Python), and the
    open refunds: of `customer_ids`, or everyone's."""
    ids = None if customer_ids is None else sorted(set(customer_ids))
    message = models.EmailMessage
    stmt = select(message.customer_id, message.on).where(
        message.direction == "in", message.on.between(as_of - dt.timedelta(days=1), as_of)
    )
    if ids is not None:
        stmt = stmt.where(message.customer_id.in_(ids))
    replies = [ReplyFact(cid, on) for cid, on in session.execute(stmt)]

    task = models.HomeworkAssignment
    stmt_hw = (
        select(task.customer_id, func.max(task.sent_on), func.count())
        .where(task.status == "sent", task.sent_on.is_not(None), task.sent_on <= as_of)
        .group_by(task.customer_id)
    )
    if ids is not None:
        stmt_hw = stmt_hw.where(task.customer_id.in_(ids))
    sent = session.execute(stmt_hw).all()
    named = _check_ins(session, [cid for cid, _, _ in sent])
    homework = [
        HomeworkFact(cid, sent_on, named.get(cid) or sent_on + dt.timedelta(CHECK_IN_DAYS), count)
        for cid, sent_on, count in sent
        if sent_on is not None
    ]

    meeting = models.Meeting
    start = dt.datetime.combine(as_of - dt.timedelta(days=1), dt.time())
    stmt_m = select(meeting).where(
        meeting.status == "scheduled",
        meeting.starts_at >= start,
        meeting.starts_at < start + dt.timedelta(days=4),
    )
    if ids is not None:
        stmt_m = stmt_m.where(meeting.customer_id.in_(ids))
    meetings = [
        MeetingFact(
            m.id,
            m.customer_id,
            KIND_STEP.get(m.kind, "first_meeting"),
            meeting_day(m.starts_at, m.timezone or "UTC"),
            f"{to_local(m.starts_at, m.timezone or 'UTC'):%H:%M} {m.timezone or 'UTC'}",
        )
        for m in session.scalars(stmt_m.order_by(meeting.starts_at, meeting.id))
    ]
    return Facts(
        replies=replies,
        homework=homework,
        meetings=meetings,
        open_refunds=refund_store.open_refunds(session),
        recorded_refunds=frozenset(refund_store.keys(session)),
    )


# ------------------------------------------------------------------ deliveries


@dataclass(frozen=True)
class Delivery:
    username: str
    day: dt.date
    channel: str
    kind: str
    status: str  # sending | sent | failed
    claimed_at: dt.datetime
    sent_at: dt.datetime | None
    attempts: int
    error: str | None

    def taken(self, now: dt.datetime) -> bool:
        """Sent, or being sent by another run (not stale): this run leaves it alone."""
        return self.status == "sent" or (
            self.status == "sending" and now - self.claimed_at < STALE_AFTER
        )


def _view(row: DigestDelivery) -> Delivery:
    return Delivery(
        row.username,
        row.day,
        row.channel,
        row.kind,
        row.status,
        row.claimed_at,
        row.sent_at,
        row.attempts,
        row.error,
    )


def _row(session: Session, username: str, day: dt.date, channel: str) -> DigestDelivery | None:
    return session.scalar(
        select(DigestDelivery).where(
            DigestDelivery.username == username,
            DigestDelivery.day == day,
            DigestDelivery.channel == channel,
        )
    )


def deliveries(session: Session, day: dt.date | None = None) -> list[Delivery]:
    stmt = select(DigestDelivery).order_by(
        DigestDelivery.day, DigestDelivery.username, DigestDelivery.channel
    )
    if day is not None:
        stmt = stmt.where(DigestDelivery.day == day)
    return [_view(row) for row in session.scalars(stmt)]


def claim(
    session: Session,
    username: str,
    day: dt.date,
    channel: str,
    kind: str,
    now: dt.datetime | None = None,
) -> int | None:
    """Claim today's digest of `username` through `channel` (the caller commits before
    sending). None when it was sent already or another run is sending it; a failed or
    stale claim is taken again."""
    now = now or utcnow()
    row = _row(session, username, day, channel)
    if row is not None:
        if _view(row).taken(now):
            return None
        row.status, row.claimed_at, row.error = "sending", now, None
        row.attempts = (row.attempts or 0) + 1
        row.kind = kind
        session.flush()
        return row.id
    row = DigestDelivery(
        username=username, day=day, channel=channel, kind=kind, status="sending", claimed_at=now
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # another run claimed it meanwhile
        return None
    return row.id


def finish(session: Session, claim_id: int, now: dt.datetime | None = None) -> None:
    row = session.get(DigestDelivery, claim_id)
    if row is not None:
        row.status, row.sent_at, row.error = "sent", now or utcnow(), None


def fail(session: Session, claim_id: int, error: str) -> None:
    """The send failed: kept as "failed" with the reason; the next run tries again."""
    row = session.get(DigestDelivery, claim_id)
    if row is not None:
        row.status, row.error = "failed", error[:MAX_ERROR_CHARS]
