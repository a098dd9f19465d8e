"""Sending in the database. An email's row is its claim: inserted with status "sending"
and its send key (unique) in a unit of work of its own, committed before the mail server
is called, so a second send of the same key (a double click, two people at once) is
refused saying who sent it and when. After the server took the message the row becomes
"sent" and the program step is recorded done on the send date; after a failure the claim
is removed and nothing is recorded. docs/rules.md, "Sending"."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lib.errors import Conflict, NotFound
from lib.homework import store as homework_store
from lib.mail import compose, transport
from lib.mail.compose import Outgoing
from lib.mail.settings import SmtpSettings
from lib.program import step_store
from lib.store import journal, models

# A claim still "sending" after this long was left by a crash (the server process died
# between claiming and recording): the email may be sent again, with a warning.
STALE_AFTER = dt.timedelta(minutes=10)
STEP_OF: dict[str, str] = {k: k for k in ("initial_outreach", "homework", "final_outreach")}
MAX_NOTE_ADDRESSES = 5

log = logging.getLogger(__name__)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class AlreadySent(Conflict):
    """This email was sent (or is being sent) already; nothing was sent again."""


@dataclass(frozen=True)
class SentView:
    """An email sent from the console (or being sent), as the pages show it."""

    id: int
    customer_id: str
    kind: str
    send_key: str
    status: str  # sending | sent
    on: dt.date
    at: dt.datetime  # UTC, naive: when it was claimed, then when the server took it
    by: str | None
    subject: str | None
    to_addrs: tuple[str, ...]
    message_id: str | None

    def stale(self, now: dt.datetime | None = None) -> bool:
        """A claim left "sending" by a crash: it may be sent again."""
        return self.status == "sending" and (now or utcnow()) - self.at >= STALE_AFTER


@dataclass(frozen=True)
class SendResult:
    sent: SentView
    refused: dict[str, str] = field(default_factory=dict)  # recipients the server refused
    step: str | None = None  # the program step recorded done by this send


def _view(row: models.EmailMessage) -> SentView:
    return SentView(
        id=row.id,
        customer_id=row.customer_id,
        kind=row.kind,
        send_key=row.send_key or "",
        status=row.status,
        on=row.on,
        at=row.at,
        by=row.by,
        subject=row.subject,
        to_addrs=tuple(str(a) for a in row.to_addrs or ()),
        message_id=row.message_id,
    )


def _by_key(session: Session, send_key: str) -> models.EmailMessage | None:
    return session.scalar(
        select(models.EmailMessage).where(models.EmailMessage.send_key == send_key)
    )


def find(session: Session, send_key: str) -> SentView | None:
    """The email sent (or being sent) under `send_key`, if any."""
    row = _by_key(session, send_key)
    return _view(row) if row else None


def for_keys(session: Session, send_keys: Iterable[str]) -> dict[str, SentView]:
    keys = list(send_keys)
    if not keys:
        return {}
    rows = session.scalars(
        select(models.EmailMessage).where(models.EmailMessage.send_key.in_(keys))
    )
    return {row.send_key or "": _view(row) for row in rows}


def refusal(view: SentView, now: dt.datetime | None = None) -> str:
    """Why a second send of the same email is refused: who sent it, when, to whom."""
    if view.status == "sent":
        to = ", ".join(view.to_addrs) or "the customer"
        return (
            f"Already sent: {view.by or 'someone'} sent this email to {to} on "
            f"{view.on:%d %b %Y} (at {view.at:%H:%M} UTC). It is not sent twice."
        )
    again = view.at + STALE_AFTER
    return (
        f"{view.by or 'Someone'} is sending this email right now (started at "
        f"{view.at:%H:%M:%S} UTC); it is not sent twice. If that send never finishes, it can "
        f"be sent again from {again:%H:%M} UTC."
    )


def claim(
    session: Session,
    outgoing: Outgoing,
    now: dt.datetime | None = None,
    raw: bytes | None = None,
) -> int:
    """Insert the email's row, status "sending", with everything the message holds and
    `raw`, the bytes that go to the server (the caller commits it before calling the
    server). AlreadySent when its key is taken; a stale claim (STALE_AFTER) is replaced."""
    now = now or utcnow()
    raw = raw if raw is not None else compose.serialize(outgoing.message)
    if session.get(models.Customer, outgoing.customer_id) is None:
        raise NotFound(f"customer {outgoing.customer_id!r}: no such customer")
    if outgoing.meeting_id is not None and session.get(models.Meeting, outgoing.meeting_id) is None:
        raise NotFound(f"meeting {outgoing.meeting_id}: no such meeting")
    existing = _by_key(session, outgoing.send_key)
    if existing is not None:
        view = _view(existing)
        if not view.stale(now):
            raise AlreadySent(refusal(view, now))
        session.delete(existing)
        session.flush()
    message = outgoing.message
    row = models.EmailMessage(
        customer_id=outgoing.customer_id,
        direction="out",
        kind=outgoing.kind,
        status="sending",
        send_key=outgoing.send_key,
        message_id=str(message["Message-ID"]),
        from_addr=str(message["From"]),
        to_addrs=[str(a) for a in message["To"].addresses],
        subject=str(message["Subject"]),
        body_text=compose.text_part(message, "plain"),
        body_html=compose.text_part(message, "html"),
        raw=raw.decode("utf-8"),
        meeting_id=outgoing.meeting_id,
        on=outgoing.on,
        at=now,
        by=journal.user_of(session),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # taken meanwhile (the writers' lock makes this rare)
        taken = _by_key(session, outgoing.send_key)
        raise AlreadySent(
            refusal(_view(taken), now) if taken else "This email is being sent already."
        ) from None
    return row.id


def _record_step(
    session: Session, row: models.EmailMessage, note: str, check_in_on: dt.date | None
) -> str | None:
    step = STEP_OF.get(row.kind)
    if step is None:
        return None
    if step == "homework":
        try:
            homework_store.mark_sent(session, row.customer_id, row.on, check_in_on)
            return step
        except homework_store.HomeworkError:
            pass  # no draft homework left (marked sent by hand meanwhile): the step only
    recorded = step_store.recorded(session, row.customer_id).get(step)
    if recorded is not None and recorded.status == "done":
        return None  # done already (by hand, or before): its date stays
    step_store.record(session, row.customer_id, step, "done", row.on, note)
    return step


def finish(
    session: Session,
    claim_id: int,
    now: dt.datetime | None = None,
    check_in_on: dt.date | None = None,
) -> SendResult | None:
    """The server took the message: the row becomes "sent" (at `now`) and the program step
    is recorded done on the send date, unless it is done already (initial and final
    outreach; homework: its draft tasks become sent, with the next check-in `check_in_on`).
    None when the claim is gone (the customer was removed)."""
    row = session.get(models.EmailMessage, claim_id)
    if row is None:
        return None
    row.status, row.at = "sent", now or utcnow()
    to = [str(a) for a in row.to_addrs or ()]
    shown = ", ".join(to[:MAX_NOTE_ADDRESSES]) + (
        " and others" if len(to) > MAX_NOTE_ADDRESSES else ""
    )
    step = _record_step(session, row, f"Email sent from the console to {shown}", check_in_on)
    session.flush()
    return SendResult(_view(row), step=step)


def release(session: Session, claim_id: int) -> None:
    """The send failed: remove the claim, so nothing is recorded and it may be tried again."""
    row = session.get(models.EmailMessage, claim_id)
    if row is not None and row.status == "sending":
        session.delete(row)


UnitOfWork = Callable[[], AbstractContextManager[Session]]


def send(
    unit: UnitOfWork,
    outgoing: Outgoing,
    settings: SmtpSettings,
    now: Callable[[], dt.datetime] = utcnow,
) -> SendResult:
    """Claim, send, record: three units of work opened by `unit()` (the caller's, so the
    caller still owns every transaction: a page passes `access.writing`, a test
    `db.write_session`). The claim is committed before the server is called; a failure
    removes it and raises (SendFailed says what happened); the server's acceptance is
    then recorded. AlreadySent when the email was sent or is being sent."""
    message = outgoing.message
    raw = compose.serialize(message)
    envelope_from = compose.addresses_of([str(message["From"])])[0]
    recipients = compose.addresses_of([str(message["To"])])
    with unit() as session:
        claim_id = claim(session, outgoing, now(), raw)
    try:
        refused = transport.deliver(settings, envelope_from, recipients, raw)
    except BaseException:
        try:
            with unit() as session:
                release(session, claim_id)
        except Exception:  # the claim turns stale and may be sent again after STALE_AFTER
            log.exception("could not remove the claim %s of a failed send", claim_id)
        raise
    with unit() as session:
        result = finish(session, claim_id, now(), outgoing.check_in_on)
    if result is None:
        raise NotFound(f"customer {outgoing.customer_id!r} was removed while the email went out")
    return SendResult(result.sent, refused, result.step)
