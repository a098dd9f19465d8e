"""The engagement stage in the database: set it by hand over the facts (always with a
reason), clear that, and skip to the final outreach when a customer never replied; in
the caller's unit of work, a refusal raises StageError and writes nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from lib.errors import UserError
from lib.program import step_store
from lib.program.stage import MAX_REASON_CHARS, STAGE_LABELS, Override
from lib.store import journal, models
from lib.vocabulary import STAGES

# What "skip to final outreach" records skipped (the steps between the outreach and it).
SKIPPED_TO_FINAL: tuple[str, ...] = ("first_meeting", "second_meeting", "homework")
SKIP_NOTE = "No reply to the initial outreach: skipped to the final outreach"


class StageError(UserError):
    """A stage change that cannot be made; the message says why."""


def _customer(session: Session, customer_id: str) -> models.Customer:
    customer = session.get(models.Customer, customer_id)
    if customer is None:
        raise StageError(f"customer {customer_id!r}: no such customer")
    return customer


def override_of(session: Session, customer_id: str) -> Override | None:
    row = session.get(models.StageOverride, customer_id)
    return Override(row.stage, row.reason, row.set_by, row.set_at) if row else None


def set_override(session: Session, customer_id: str, stage: str, reason: str) -> None:
    """Set the customer's stage by hand; the reason is required and kept (and logged)."""
    if stage not in STAGES:
        raise StageError(f"stage {stage!r}: expected one of {', '.join(STAGES)}")
    reason = (reason or "").strip()
    if not reason:
        raise StageError(f"{STAGE_LABELS[stage]}: say why the stage is set by hand")
    if len(reason) > MAX_REASON_CHARS:
        raise StageError(f"reason: expected at most {MAX_REASON_CHARS} characters")
    _customer(session, customer_id)
    user = journal.user_of(session)
    row = session.get(models.StageOverride, customer_id)
    if row is None:
        session.add(
            models.StageOverride(
                customer_id=customer_id,
                stage=stage,
                reason=reason,
                set_by=user,
                set_at=models.utcnow(),
            )
        )
    else:
        row.stage, row.reason, row.set_by, row.set_at = stage, reason, user, models.utcnow()


def clear_override(session: Session, customer_id: str) -> bool:
    """Let the facts decide again; False when no stage was set by hand."""
    _customer(session, customer_id)
    row = session.get(models.StageOverride, customer_id)
    if row is None:
        return False
    session.delete(row)
    return True


def skip_to_final(
    session: Session, customer_id: str, on: dt.date
) -> dict[str, step_store.Recorded | None]:
    """Record the first and second call and homework skipped `on` a day (those not
    recorded yet), so the final outreach is next. Returns what each step had before
    (step_store.restore puts it back: the undo)."""
    _customer(session, customer_id)
    already = step_store.recorded(session, customer_id)
    if not already.get("initial_outreach") or already["initial_outreach"].status != "done":
        raise StageError("skip to final outreach: record the initial outreach as sent first")
    if already.get("final_outreach") and already["final_outreach"].status == "done":
        raise StageError("skip to final outreach: the final outreach is done already")
    before: dict[str, step_store.Recorded | None] = {}
    for step in SKIPPED_TO_FINAL:
        if step in already:
            continue
        before[step] = step_store.record(session, customer_id, step, "skipped", on, SKIP_NOTE)
    if not before:
        raise StageError("skip to final outreach: every step before it is recorded already")
    return before
