"""Recording program steps (done, scheduled, skipped), clearing them and extending a
customer's window, in the caller's unit of work; bad input raises StepError.

A form passes the `version` it showed (0: nothing was recorded then); a save based on
another one raises lib.store.versions.EditConflict and writes nothing. Callers that keep
no form (imports, meetings, emails sent) pass none and are not checked."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lib.errors import UserError
from lib.program import timeline
from lib.store import journal, models, versions
from lib.store.versions import NOTHING, Stored

MAX_NOTE_CHARS = 5_000


class StepError(UserError):
    """A step write that cannot be done; the message says why."""


@dataclass(frozen=True)
class Recorded:
    """What was recorded for a step before a write (to undo it)."""

    status: str
    date: dt.date
    note: str | None


@dataclass(frozen=True)
class Entry:
    """A recorded step as the step log shows it."""

    step: str
    status: str
    date: dt.date
    note: str | None
    recorded_by: str | None
    recorded_at: dt.datetime
    version: int = 1  # what a form based on this entry names when it saves


@dataclass(frozen=True)
class CustomerEdits:
    """The customer's fields the team sets by hand, and the version they were read at."""

    customer_id: str
    extended_until: dt.date | None
    extension_reason: str | None
    relationship_rating: int | None
    version: int


def recorded(session: Session, customer_id: str) -> dict[str, Entry]:
    """What is recorded for each step of a customer (steps absent: nothing recorded)."""
    rows = session.scalars(select(models.Step).where(models.Step.customer_id == customer_id))
    return {
        r.step: Entry(r.step, r.status, r.date, r.note, r.recorded_by, r.recorded_at, r.version)
        for r in rows
    }


def versions_of(entries: dict[str, Entry]) -> dict[str, int]:
    """step -> the version a form showing `entries` names (0: nothing recorded)."""
    return {step: entries[step].version if step in entries else NOTHING for step in timeline.STEPS}


def customer_edits(session: Session, customer_id: str) -> CustomerEdits:
    """The extension and the relationship rating as stored now, with their version."""
    c = _customer(session, customer_id)
    return CustomerEdits(
        c.customer_id, c.extended_until, c.extension_reason, c.relationship_rating, c.version
    )


def _customer(session: Session, customer_id: str) -> models.Customer:
    customer = session.get(models.Customer, customer_id)
    if customer is None:
        raise StepError(f"customer {customer_id!r}: no such customer")
    return customer


def _clean_note(note: str | None) -> str | None:
    if note is None:
        return None
    note = note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise StepError(f"note: expected at most {MAX_NOTE_CHARS} characters")
    return note or None


def _check(step: str, status: str) -> None:
    if step not in timeline.STEPS:
        raise StepError(f"step {step!r}: expected one of {', '.join(timeline.STEPS)}")
    if status not in timeline.RECORDED_STATUSES:
        raise StepError(
            f"status {status!r}: expected one of {', '.join(timeline.RECORDED_STATUSES)}"
        )


def _recorded(session: Session, customer_id: str, step: str) -> models.Step | None:
    return session.scalar(
        select(models.Step).where(models.Step.customer_id == customer_id, models.Step.step == step)
    )


def _what(step: str) -> str:
    return f"the {timeline.STEP_LABELS[step]} step"


def _stored(session: Session, customer_id: str, step: str, row: models.Step | None) -> Stored:
    """The step as stored now, for a refusal (who cleared it: the audit log)."""
    if row is not None:
        now = f"{row.status} on {row.date.isoformat()}"
        if row.note:
            now += f", note: \u201c{row.note}\u201d"
        return Stored(row.version, now, row.recorded_by, row.recorded_at)
    log = models.AuditLog
    deletes = session.scalars(
        select(log)
        .where(log.customer_id == customer_id, log.entity == "steps", log.action == "delete")
        .order_by(log.at.desc(), log.id.desc())
        .limit(50)
    )
    gone = next((e for e in deletes if (e.changes or {}).get("step") == step), None)
    return Stored(
        NOTHING,
        "nothing recorded (computed from the timeline)",
        gone.user if gone else None,
        gone.at if gone else None,
    )


def _check_version(
    session: Session, customer_id: str, step: str, row: models.Step | None, version: int | None
) -> None:
    if version is not None and version != (NOTHING if row is None else row.version):
        raise versions.EditConflict(_what(step), version, _stored(session, customer_id, step, row))


def record(
    session: Session,
    customer_id: str,
    step: str,
    status: str,
    on: dt.date,
    note: str | None = None,
    *,
    version: int | None = None,
) -> Recorded | None:
    """Record that `step` was done / is scheduled / was skipped `on` a date.

    Replaces what was recorded before for that step, and returns that (None
    when nothing was), so a caller can `restore` it. A note given replaces the
    old note; None keeps it. `version`: the one the form showed (0: nothing).
    """
    user = journal.user_of(session)
    _check(step, status)
    if not isinstance(on, dt.date) or isinstance(on, dt.datetime):
        raise StepError(f"date {on!r}: expected a date")
    cleaned = _clean_note(note)
    _customer(session, customer_id)
    row = _recorded(session, customer_id, step)
    _check_version(session, customer_id, step, row, version)
    if row is None:
        new = models.Step(
            customer_id=customer_id,
            step=step,
            status=status,
            date=on,
            note=cleaned,
            recorded_by=user,
        )
        try:
            with session.begin_nested():  # a writer outside the lock: a conflict, no traceback
                session.add(new)
                session.flush()
        except IntegrityError:
            first = _recorded(session, customer_id, step)
            raise versions.EditConflict(
                _what(step), NOTHING, _stored(session, customer_id, step, first)
            ) from None
        return None
    previous = Recorded(row.status, row.date, row.note)
    row.status = status
    row.date = on
    if note is not None:
        row.note = cleaned
    row.recorded_by = user
    return previous


def restore(session: Session, customer_id: str, step: str, previous: Recorded | None) -> None:
    """Undo a `record`: put back what it returned (None: nothing was recorded)."""
    if previous is None:
        clear(session, customer_id, step)
    else:
        record(session, customer_id, step, previous.status, previous.date, previous.note or "")


def set_note(
    session: Session,
    customer_id: str,
    step: str,
    note: str | None,
    *,
    version: int | None = None,
) -> None:
    """Change the note of a recorded step (an empty note removes it)."""
    _check(step, "done")
    cleaned = _clean_note(note or "")
    _customer(session, customer_id)
    row = _recorded(session, customer_id, step)
    _check_version(session, customer_id, step, row, version)
    if row is None:
        raise StepError(
            f"{timeline.STEP_LABELS[step]}: nothing recorded yet; record it first, with the note"
        )
    row.note = cleaned
    row.recorded_by = journal.user_of(session)  # who wrote the entry last (a refusal names them)


def clear(session: Session, customer_id: str, step: str, *, version: int | None = None) -> bool:
    """Forget what was recorded for `step` (it is computed from the timeline again).

    Returns False when nothing was recorded.
    """
    _check(step, "done")
    _customer(session, customer_id)
    row = _recorded(session, customer_id, step)
    _check_version(session, customer_id, step, row, version)
    if row is None:
        return False
    session.delete(row)
    return True


def extend(
    session: Session,
    customer_id: str,
    until: dt.date | None,
    reason: str,
    *,
    version: int | None = None,
    as_of: dt.date | None = None,
) -> None:
    """Extend the customer's program (final outreach's window) to `until`.

    `until` must be after final outreach's own window end and, with `as_of` (a form's
    day), not before it: an extension to a day already past changes nothing. None
    removes the extension. A reason is always required: it is kept with the customer
    and in the audit log. `version`: the customer's, as the form showed it.
    """
    reason = (reason or "").strip()
    if not reason:
        raise StepError("reason: say why the window changes (it is kept in the log)")
    if len(reason) > MAX_NOTE_CHARS:
        raise StepError(f"reason: expected at most {MAX_NOTE_CHARS} characters")
    customer = _customer(session, customer_id)
    versions.check(
        "this customer's extension",
        version,
        customer.version,
        lambda: versions.customer_now(session, customer),
    )
    if until is not None:
        _, own_end = timeline.window("final_outreach", customer.segment_entered_on)
        if until <= own_end:
            raise StepError(
                f"extend until {until.isoformat()}: expected a date after final outreach's "
                f"window end ({own_end.isoformat()})"
            )
        if as_of is not None and until < as_of:
            raise StepError(
                f"extend until {until.isoformat()}: that day is already past (as of "
                f"{as_of.isoformat()}); pick today or a later day"
            )
    customer.extended_until = until
    customer.extension_reason = reason
    versions.bump(customer)
