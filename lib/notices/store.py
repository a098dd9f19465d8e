"""Notices from the database: the replies of a user's customers, refunds of theirs that
someone else decided, refunds waiting for an approver, customers assigned to them (an
owner change in the change log), from the last WINDOW and not marked read; marking read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lib.notices.model import WINDOW, Notice, unread
from lib.store import models
from lib.store.digest_models import NoticeRead


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def read_keys(session: Session, username: str) -> set[str]:
    return set(
        session.scalars(select(NoticeRead.notice_key).where(NoticeRead.username == username))
    )


def for_user(
    session: Session, username: str, approver: bool = False, now: dt.datetime | None = None
) -> list[Notice]:
    """`username`'s unread notices of the last WINDOW, newest first."""
    since = (now or utcnow()) - WINDOW
    customer, message, refund = models.Customer, models.EmailMessage, models.Refund
    found: list[Notice] = []
    for row_id, cid, name, at, sender in session.execute(
        select(message.id, message.customer_id, customer.name, message.at, message.from_addr)
        .join(customer, customer.customer_id == message.customer_id)
        .where(message.direction == "in", message.at >= since, customer.owner == username)
    ):
        found.append(
            Notice(
                f"reply:{row_id}",
                "reply",
                at,
                cid,
                name,
                "replied" if sender else "replied (recorded by hand)",
                {"id": cid, "tab": "Emails"},
            )
        )
    # Only the refunds that can make a notice (not every refund of the window: 10,000
    # customers have thousands).
    decided_mine = and_(customer.owner == username, refund.status.in_(("approved", "declined")))
    waiting = refund.status == "needs_approval"
    rows = session.execute(
        select(refund, customer.name, customer.owner)
        .join(customer, customer.customer_id == refund.customer_id)
        .where(refund.updated_at >= since, or_(decided_mine, waiting) if approver else decided_mine)
    ).all()
    for row, name, owner in rows:
        changed_at = row.updated_at or since
        query = {"id": row.customer_id, "tab": "Refunds"}
        if approver and row.status == "needs_approval" and row.recorded_by != username:
            text = f"refund #{row.id} waits for approval"
            found.append(
                Notice(
                    f"approval:{row.id}",
                    "approval",
                    changed_at,
                    row.customer_id,
                    name,
                    text,
                    query,
                )
            )
        decided = row.status in ("approved", "declined") and row.decided_by
        if owner == username and decided and row.decided_by != username:
            text = f"refund #{row.id} {row.status} by {row.decided_by}"
            found.append(
                Notice(
                    f"refund:{row.id}:{row.status}",
                    "refund",
                    changed_at,
                    row.customer_id,
                    name,
                    text,
                    query,
                )
            )
    log = models.AuditLog
    assigned = []
    for entry in session.scalars(
        select(log).where(log.entity == "customers", log.action == "update", log.at >= since)
    ):
        change = (entry.changes or {}).get("owner")
        cid = entry.customer_id or entry.entity_id or ""
        if isinstance(change, list) and len(change) == 2 and change[1] == username and cid:
            assigned.append((entry, cid, change[0]))
    wanted = {cid for _, cid, _ in assigned}
    names = dict(
        session.execute(
            select(customer.customer_id, customer.name).where(customer.customer_id.in_(wanted))
        ).all()
        if wanted
        else []
    )
    for entry, cid, before in assigned:
        text = f"assigned to you by {entry.user}" + (f" (was {before})" if before else "")
        found.append(
            Notice(
                f"assigned:{entry.id}",
                "assigned",
                entry.at,
                cid,
                names.get(cid, cid),
                text,
                {"id": cid},
            )
        )
    return unread(found, read_keys(session, username))


def mark_read(
    session: Session, username: str, keys: Iterable[str], now: dt.datetime | None = None
) -> int:
    """Mark notices read (each once; a key read already is left as it is)."""
    done = read_keys(session, username)
    added = 0
    for key in dict.fromkeys(keys):
        if key in done:
            continue
        try:
            with session.begin_nested():
                session.add(NoticeRead(username=username, notice_key=key, read_at=now or utcnow()))
            added += 1
        except IntegrityError:  # marked read meanwhile (another tab)
            continue
    return added
