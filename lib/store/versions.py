"""Optimistic locking for the hand edits two people can make at once (a step, a customer's
extension and rating, a finding's decision, a homework item): the form names the version it
showed, and a save based on another one is refused with `EditConflict`, saying who changed
it, when, and what it is now. Version 0 means "nothing was there": creating a row someone
else created meanwhile is refused the same way.

Writers queue on one lock (lib.store.db.write_session), so the version read inside the unit
of work is the stored one; `check` compares it with the one the form showed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from lib.errors import Conflict
from lib.store import models

NOTHING = 0  # the version of a row that does not exist (yet, or any more)


@dataclass(frozen=True)
class Stored:
    """What is stored now, as a refusal tells it."""

    version: int  # NOTHING when the row is gone
    now: str  # what it is now, in words ("done on 2026-03-04, note: ...")
    who: str | None = None
    when: dt.datetime | None = None


class EditConflict(Conflict):
    """Someone changed, created or removed the thing after you opened it; nothing of yours
    was written (your text stays in the form)."""

    def __init__(self, what: str, yours_version: int, current: Stored) -> None:
        self.what = what
        self.yours_version = yours_version
        self.current = current
        who = current.who or "someone"
        when = f" at {current.when:%Y-%m-%d %H:%M} UTC" if current.when else ""
        if yours_version == NOTHING:
            done = f"{who} recorded {what}{when} while you had it open (it was empty then)"
        elif current.version == NOTHING:
            done = f"{who} removed {what}{when} after you opened it"
        else:
            done = (
                f"{who} changed {what}{when} after you opened it (version {yours_version} "
                f"-> {current.version})"
            )
        super().__init__(
            f"{done}; it is now: {current.now}. Nothing of yours was written and your text "
            "is still in the form: reload to see theirs, then apply yours again."
        )


def check(what: str, yours: int | None, stored: int, now: Callable[[], Stored]) -> None:
    """Refuse (EditConflict, saying `now()`) a save based on version `yours` when version
    `stored` is in the database; None = the caller does not check (an import, a meeting
    keeping its step in step)."""
    if yours is not None and yours != stored:
        raise EditConflict(what, yours, now())


def last_change(
    session: Session, entity: str, entity_id: str, customer_id: str | None
) -> tuple[str | None, dt.datetime | None]:
    """Who last wrote the row and when, from the audit log (every ORM write is there)."""
    log = models.AuditLog
    stmt = select(log.user, log.at).where(log.entity == entity, log.entity_id == entity_id)
    if customer_id is not None:  # the log's index is (customer_id, at)
        stmt = stmt.where(log.customer_id == customer_id)
    row = session.execute(stmt.order_by(log.at.desc(), log.id.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (None, None)


def bump(row: models.Customer | models.FindingState) -> None:
    """A new version for a row whose mapper does not count them (explicit locking)."""
    row.version = (row.version or 1) + 1


def customer_now(session: Session, customer: models.Customer) -> Stored:
    """The customer's hand-set fields as stored now (the extension, the rating)."""
    until = customer.extended_until
    extension = (
        f"extended to {until.isoformat()} ({customer.extension_reason or 'no reason'})"
        if until
        else "not extended"
    )
    rating = customer.relationship_rating
    who, when = last_change(session, "customers", customer.customer_id, customer.customer_id)
    return Stored(
        customer.version or 1,
        f"{extension}; relationship {f'rated {rating} of 5' if rating else 'not rated'}",
        who,
        when or customer.updated_at,
    )
