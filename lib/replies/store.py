"""Replies in the database: what matching compares with (`known`), recording the replies a
check found (idempotent by Message-ID) and the ones recorded by hand, and a customer's
conversation (every email of the program, sent and received, newest first). In the
caller's unit of work; a refusal raises ReplyError and writes nothing."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lib.errors import UserError
from lib.replies.matching import (
    MANUAL_SUBJECT,
    Known,
    address,
    first_lines,
    html_to_text,
    message_id,
)
from lib.replies.sync import Reply
from lib.store import journal, models

MAX_NOTE_CHARS = 5_000
RECEIVED = "received"  # EmailMessage.status of a customer's answer


class ReplyError(UserError):
    """A reply that cannot be recorded; the message says why."""


def known(session: Session, own: Iterable[str] = ()) -> Known:
    """The console's sent messages, the contacts' addresses, the team's addresses (`own`
    and every address the console sent from) and the replies already recorded."""
    message = models.EmailMessage
    sent: dict[str, str] = {}
    senders: set[str] = {address(a) for a in own}
    for customer_id, mid, from_addr in session.execute(
        select(message.customer_id, message.message_id, message.from_addr).where(
            message.direction == "out"
        )
    ):
        if mid:
            sent[message_id(mid)] = customer_id
        if from_addr:
            senders.add(address(from_addr))
    contacts: dict[str, set[str]] = defaultdict(set)
    for customer_id, email in session.execute(
        select(models.Contact.customer_id, models.Contact.email)
    ):
        contacts[address(email) or email.strip().lower()].add(customer_id)
    recorded = {
        message_id(mid)
        for mid in session.scalars(
            select(message.message_id).where(
                message.direction == "in", message.message_id.is_not(None)
            )
        )
        if mid
    }
    return Known(
        sent=sent,
        contacts={a: frozenset(ids) for a, ids in contacts.items()},
        own=frozenset(a for a in senders if a),
        recorded=frozenset(recorded),
    )


def record(session: Session, replies: Iterable[Reply], today: dt.date) -> list[models.EmailMessage]:
    """Record the replies a check found, each once: a Message-ID already stored (an
    earlier or a simultaneous check) or a customer removed meanwhile is left out."""
    user = journal.user_of(session)
    wanted = list(replies)
    stored = set(
        session.scalars(
            select(models.EmailMessage.message_id).where(
                models.EmailMessage.message_id.in_([r.message.message_id for r in wanted])
            )
        )
    )
    customers = set(
        session.scalars(
            select(models.Customer.customer_id).where(
                models.Customer.customer_id.in_({r.customer_id for r in wanted})
            )
        )
    )
    rows: list[models.EmailMessage] = []
    for reply in wanted:
        incoming = reply.message
        if incoming.message_id in stored or reply.customer_id not in customers:
            continue
        stored.add(incoming.message_id)
        rows.append(
            models.EmailMessage(
                customer_id=reply.customer_id,
                direction="in",
                kind="reply",
                status=RECEIVED,
                message_id=incoming.message_id[:998],
                in_reply_to=incoming.in_reply_to[:998] or None,
                references=incoming.references or None,
                from_addr=incoming.from_addr[:320] or None,
                to_addrs=list(incoming.to_addrs),
                subject=incoming.subject[:998],
                body_text=incoming.text or (html_to_text(incoming.html) if incoming.html else ""),
                body_html=incoming.html or None,
                raw=incoming.raw or None,
                on=incoming.on or today,
                at=incoming.at or dt.datetime.combine(today, dt.time()),
                by=user,
            )
        )
    session.add_all(rows)
    return rows


def record_manual(
    session: Session, customer_id: str, on: dt.date, today: dt.date, note: str | None = None
) -> models.EmailMessage:
    """'Customer replied' by hand (no mailbox, or they answered by phone): the day, and
    what they said if given. The same day twice is refused (a double click)."""
    if session.get(models.Customer, customer_id) is None:
        raise ReplyError(f"customer {customer_id!r}: no such customer")
    if not isinstance(on, dt.date) or isinstance(on, dt.datetime):
        raise ReplyError(f"date {on!r}: expected a date")
    if on > today:
        raise ReplyError(f"{on.isoformat()}: the day they replied cannot be in the future")
    text = (note or "").strip()
    if len(text) > MAX_NOTE_CHARS:
        raise ReplyError(f"note: expected at most {MAX_NOTE_CHARS} characters")
    message = models.EmailMessage
    twice = session.scalar(
        select(message.id).where(
            message.customer_id == customer_id, message.kind == "manual_reply", message.on == on
        )
    )
    if twice is not None:
        raise ReplyError(f"a reply on {on.isoformat()} is already recorded for this customer")
    row = models.EmailMessage(
        customer_id=customer_id,
        direction="in",
        kind="manual_reply",
        status=RECEIVED,
        subject=MANUAL_SUBJECT,
        body_text=text or None,
        to_addrs=[],
        on=on,
        by=journal.user_of(session),
    )
    session.add(row)
    return row


def remove_manual(session: Session, customer_id: str, row_id: int) -> None:
    """Take back a reply recorded by hand (one from the mailbox stays: it happened)."""
    row = session.get(models.EmailMessage, row_id)
    if row is None or row.customer_id != customer_id or row.kind != "manual_reply":
        raise ReplyError("only a reply recorded by hand can be removed, and this is not one")
    session.delete(row)


# ------------------------------------------------------------ the conversation


@dataclass(frozen=True)
class MessageView:
    """One email of a customer's conversation, as the Emails tab shows it (text only)."""

    id: int
    direction: str  # out | in
    kind: str
    status: str
    on: dt.date
    at: dt.datetime | None
    sender: str  # the From as written, or who recorded it
    to: tuple[str, ...]
    subject: str
    text: str  # the plain text (an HTML-only message as text: never rendered)
    by: str | None

    @property
    def opening(self) -> str:
        return first_lines(self.text)


def conversation(session: Session, customer_id: str) -> list[MessageView]:
    """Every email of the program with a customer, sent and received, newest first."""
    message = models.EmailMessage
    rows = session.scalars(
        select(message)
        .where(message.customer_id == customer_id)
        .order_by(message.on.desc(), message.at.desc(), message.id.desc())
    )
    return [
        MessageView(
            id=m.id,
            direction=m.direction,
            kind=m.kind,
            status=m.status,
            on=m.on,
            at=m.at,
            sender=m.from_addr or (f"recorded by {m.by}" if m.by else ""),
            to=tuple(str(a) for a in (m.to_addrs or [])),
            subject=m.subject or "",
            text=m.body_text or (html_to_text(m.body_html) if m.body_html else ""),
            by=m.by,
        )
        for m in rows
    ]
