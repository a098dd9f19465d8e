"""Meetings in the database: read, list, schedule, save (optimistic locking on the row's
version), the customer's goals, and the meeting's program step kept in step."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from lib.audit import finding_store
from lib.meetings.edit import (
    CallFact,
    MeetingUpdate,
    SaveResult,
    ScheduleRequest,
    check_order,
    check_schedule,
    check_time,
    check_update,
    conflict,
)
from lib.meetings.model import (
    KIND_LABELS,
    KIND_STEP,
    Attendee,
    CustomerMeetings,
    GoalInput,
    MeetingError,
    MeetingFilter,
    MeetingView,
    meeting_day,
    to_utc,
    utcnow,
)
from lib.store import journal, models

# A note this module leaves on a step it marked done, so a corrected outcome can undo it.
_STEP_NOTE = re.compile(r"\(meeting (\d+)\)$")


def _view(
    meeting: models.Meeting, customer_name: str, goals: Sequence[GoalInput] = ()
) -> MeetingView:
    return MeetingView(
        id=meeting.id,
        customer_id=meeting.customer_id,
        customer_name=customer_name,
        kind=meeting.kind,
        owner=meeting.owner,
        starts_at=meeting.starts_at,
        timezone=meeting.timezone or "UTC",
        duration_min=meeting.duration_min,
        attendees=tuple(Attendee.from_json(a) for a in (meeting.attendees or [])),
        agenda=meeting.agenda or "",
        status=meeting.status,
        notes=meeting.notes or "",
        fixed_rules=tuple(meeting.fixed_rules or ()),
        second_call_offered=meeting.second_call_offered,
        second_call_accepted=meeting.second_call_accepted,
        goals=tuple(goals),
        version=meeting.version,
        updated_by=meeting.updated_by,
        updated_at=meeting.updated_at,
    )


def _full_view(session: Session, meeting: models.Meeting) -> MeetingView:
    """The meeting with its customer's name and, on a second call, the customer's goals."""
    customer = session.get(models.Customer, meeting.customer_id)
    goals = customer_goals(session, meeting.customer_id) if meeting.kind == "second" else []
    return _view(meeting, customer.name if customer else meeting.customer_id, goals)


def get(session: Session, meeting_id: int) -> MeetingView:
    """One meeting; MeetingError when there is no such meeting."""
    meeting = session.get(models.Meeting, meeting_id)
    if meeting is None:
        raise MeetingError(f"meeting {meeting_id} does not exist")
    return _full_view(session, meeting)


def list_meetings(session: Session, flt: MeetingFilter | None = None) -> list[MeetingView]:
    """The meetings `flt` selects, by start time (goals left empty)."""
    flt = flt or MeetingFilter()
    meeting, customer = models.Meeting, models.Customer
    stmt = select(meeting, customer.name).join(
        customer, customer.customer_id == meeting.customer_id
    )
    if flt.owner is not None:
        stmt = stmt.where(meeting.owner == flt.owner)
    if flt.kinds:
        stmt = stmt.where(meeting.kind.in_(flt.kinds))
    if flt.statuses:
        stmt = stmt.where(meeting.status.in_(flt.statuses))
    if flt.customer_id is not None:
        stmt = stmt.where(meeting.customer_id == flt.customer_id)
    if flt.start is not None:
        stmt = stmt.where(meeting.starts_at >= flt.start)
    if flt.end is not None:
        stmt = stmt.where(meeting.starts_at < flt.end)
    stmt = stmt.order_by(meeting.starts_at, meeting.id)
    return [_view(m, name) for m, name in session.execute(stmt)]


def for_customer(session: Session, customer_id: str) -> CustomerMeetings:
    return CustomerMeetings(list_meetings(session, MeetingFilter(customer_id=customer_id)))


def owners(session: Session) -> list[str]:
    """Everyone who owns a meeting or a customer."""
    names = set(session.scalars(select(models.Meeting.owner).distinct()))
    names |= set(session.scalars(select(models.Customer.owner).distinct()))
    return sorted(n for n in names if n)


def customer_goals(session: Session, customer_id: str) -> list[GoalInput]:
    return [
        GoalInput(g.name, g.target, g.by_when)
        for g in session.scalars(
            select(models.Goal)
            .where(models.Goal.customer_id == customer_id)
            .order_by(models.Goal.id)
        )
    ]


# ------------------------------------------------------------------ writes


def _order_facts(
    session: Session, customer_id: str, leave_out: int | None = None
) -> tuple[list[CallFact], dt.date | None]:
    """The customer's other meetings and the day the first call's step was recorded done
    by hand (a meeting's own "done" is among the meetings), for check_order."""
    rows = session.scalars(select(models.Meeting).where(models.Meeting.customer_id == customer_id))
    others = [
        CallFact(m.kind, m.status, m.starts_at, m.timezone or "UTC")
        for m in rows
        if m.id != leave_out
    ]
    step = session.scalar(
        select(models.Step).where(
            models.Step.customer_id == customer_id, models.Step.step == KIND_STEP["first"]
        )
    )
    by_hand = (
        step is not None
        and step.status == "done"
        and not (step.note and _STEP_NOTE.search(step.note))
    )
    return others, step.date if by_hand and step is not None else None


def schedule(session: Session, req: ScheduleRequest, now: dt.datetime | None = None) -> int:
    """Create a scheduled meeting (or, with `req.status` "held", a call that already took
    place) and set its step; returns the meeting id.

    `now` (naive UTC) is the booking clock a page passes: a booking that starts before it
    is refused. History written without one (the demo, imports, tests) is not judged by
    it; a held call must have started by `now`, else by the wall clock."""
    check_schedule(req)
    starts_at = to_utc(req.local_start, req.timezone)
    if session.get(models.Customer, req.customer_id) is None:
        raise MeetingError(f"customer {req.customer_id!r} does not exist")
    check_time(req.status, starts_at, req.timezone, now, booking=True)
    check_order(req.kind, req.status, starts_at, *_order_facts(session, req.customer_id))
    user = journal.user_of(session)
    meeting = models.Meeting(
        customer_id=req.customer_id,
        kind=req.kind,
        owner=req.owner or user,
        starts_at=starts_at,
        timezone=req.timezone,
        duration_min=req.duration_min,
        attendees=[a.as_json() for a in req.attendees],
        agenda=req.agenda.strip() or None,
        status=req.status,
        notes=req.notes.strip() or None,
        fixed_rules=[],
        created_by=user,
        updated_by=user,
    )
    session.add(meeting)
    session.flush()
    sync_step(session, req.customer_id, req.kind)
    return meeting.id


def save(
    session: Session,
    meeting_id: int,
    base: MeetingView,
    update: MeetingUpdate,
    now: dt.datetime | None = None,
) -> SaveResult:
    """Save the meeting form, based on `base` (the version the user opened), with the
    findings it fixed or reopened, in the caller's unit of work.

    Raises MeetingConflict, having written nothing, when someone saved in between.
    """
    starts_at = to_utc(update.local_start, update.timezone)
    meeting = session.get(models.Meeting, meeting_id)
    if meeting is None:
        raise MeetingError(f"meeting {meeting_id} does not exist (deleted meanwhile?)")
    moved = starts_at != meeting.starts_at
    check_update(update, meeting.kind, meeting.status, starts_at, now, moved)
    if moved or update.status != meeting.status:
        facts = _order_facts(session, meeting.customer_id, leave_out=meeting.id)
        check_order(meeting.kind, update.status, starts_at, *facts)
        if update.status == "rescheduled" and update.rescheduled_to is not None:
            new_start = to_utc(update.rescheduled_to, update.timezone)
            check_order(meeting.kind, "scheduled", new_start, *facts)
    if meeting.version != base.version:
        raise conflict(base, _full_view(session, meeting), update, starts_at)
    user = journal.user_of(session)
    old_fixed = set(meeting.fixed_rules or ())
    follow_up_at = None  # only the move into rescheduled books the new date
    if update.status == "rescheduled" and meeting.status != "rescheduled":
        assert update.rescheduled_to is not None  # check_update made sure
        follow_up_at = to_utc(update.rescheduled_to, update.timezone)
    try:
        # The UPDATE names the version read above; a writer that committed since
        # (PostgreSQL, READ COMMITTED) makes it match no row. The savepoint keeps
        # the caller's transaction usable to read what they saved.
        with session.begin_nested():
            _write_fields(meeting, update, starts_at, user)
            session.flush()
    except StaleDataError:
        current = session.get(models.Meeting, meeting_id, populate_existing=True)
        if current is None:
            raise MeetingError(f"meeting {meeting_id} was deleted meanwhile") from None
        raise conflict(base, _full_view(session, current), update, starts_at) from None
    # From here on this transaction holds the row: nobody else can save it meanwhile.
    if update.goals is not None:
        _replace_goals(session, meeting, update.goals, user)
    new_id = None if follow_up_at is None else _book_follow_up(session, meeting, follow_up_at, user)
    session.flush()
    sync_step(session, meeting.customer_id, meeting.kind)
    view = _full_view(session, meeting)
    new_fixed = set(view.fixed_rules)
    fixed = tuple(sorted(new_fixed - old_fixed))
    reopened = tuple(sorted(old_fixed - new_fixed))
    _record_findings(session, view, fixed, reopened)
    return SaveResult(meeting=view, new_meeting_id=new_id, fixed=fixed, reopened=reopened)


def _write_fields(
    meeting: models.Meeting, update: MeetingUpdate, starts_at: dt.datetime, user: str
) -> None:
    meeting.starts_at = starts_at
    meeting.timezone = update.timezone
    meeting.duration_min = update.duration_min
    meeting.attendees = [a.as_json() for a in update.attendees]
    meeting.agenda = update.agenda.strip() or None
    meeting.status = update.status
    meeting.notes = update.notes.strip() or None
    meeting.fixed_rules = list(dict.fromkeys(update.fixed_rules))
    meeting.second_call_offered = update.second_call_offered
    meeting.second_call_accepted = update.second_call_accepted
    meeting.updated_by = user
    # Always touch the row so every save takes a new version (goals live elsewhere).
    meeting.updated_at = utcnow()


def _book_follow_up(
    session: Session, meeting: models.Meeting, starts_at: dt.datetime, user: str
) -> int:
    """The meeting a reschedule books on the new date (UTC); returns its id."""
    follow_up = models.Meeting(
        customer_id=meeting.customer_id,
        kind=meeting.kind,
        owner=meeting.owner,
        starts_at=starts_at,
        timezone=meeting.timezone,
        duration_min=meeting.duration_min,
        attendees=list(meeting.attendees),
        agenda=meeting.agenda,
        status="scheduled",
        fixed_rules=[],
        created_by=user,
        updated_by=user,
    )
    session.add(follow_up)
    session.flush()
    return follow_up.id


def _record_findings(
    session: Session, view: MeetingView, fixed: Sequence[str], reopened: Sequence[str]
) -> None:
    """Findings fixed on the call are fixed on its day; unlisted ones are open again."""
    label = KIND_LABELS.get(view.kind, view.kind).lower()
    for rule in fixed:
        finding_store.set_state(
            session,
            view.customer_id,
            rule,
            "fixed",
            on=view.day,
            note=f"Fixed during the {label} on {view.day.isoformat()} (meeting {view.id})",
        )
    for rule in reopened:
        finding_store.set_state(
            session,
            view.customer_id,
            rule,
            "open",
            note=f"No longer listed as fixed on the {label} (meeting {view.id})",
        )


def _replace_goals(
    session: Session, meeting: models.Meeting, goals: Sequence[GoalInput], user: str
) -> None:
    """The customer's goals become `goals` (kept rows keep their id and meeting)."""
    existing = list(
        session.scalars(
            select(models.Goal)
            .where(models.Goal.customer_id == meeting.customer_id)
            .order_by(models.Goal.id)
        )
    )
    by_key = {(g.name, g.target, g.by_when): g for g in existing}
    keep: set[int] = set()
    for goal in goals:
        row = by_key.get((goal.name, goal.target, goal.by_when))
        if row is not None and row.id not in keep:
            keep.add(row.id)
            continue
        session.add(
            models.Goal(
                customer_id=meeting.customer_id,
                name=goal.name,
                target=goal.target,
                by_when=goal.by_when,
                meeting_id=meeting.id,
                created_by=user,
            )
        )
    for row in existing:
        if row.id not in keep:
            session.delete(row)


# ------------------------------------------------------------ the timeline


def sync_step(session: Session, customer_id: str, kind: str) -> None:
    """Make the meeting's program step agree with the customer's meetings of that kind
    (docs/ has the rules); written as the session's user."""
    step_name = KIND_STEP[kind]
    meetings = list(
        session.scalars(
            select(models.Meeting).where(
                models.Meeting.customer_id == customer_id,
                models.Meeting.kind == kind,
                models.Meeting.status.in_(("held", "scheduled")),
            )
        )
    )
    step = session.scalar(
        select(models.Step).where(
            models.Step.customer_id == customer_id, models.Step.step == step_name
        )
    )
    held = sorted((m for m in meetings if m.status == "held"), key=lambda m: (m.starts_at, m.id))
    pending = sorted(
        (m for m in meetings if m.status == "scheduled"), key=lambda m: (m.starts_at, m.id)
    )
    ours = step is not None and bool(step.note and _STEP_NOTE.search(step.note))
    label = KIND_LABELS[kind]
    user = journal.user_of(session)

    def put(status: str, meeting: models.Meeting, note: str) -> None:
        nonlocal step
        day = meeting_day(meeting.starts_at, meeting.timezone or "UTC")
        note = f"{note} (meeting {meeting.id})"
        if step is None:
            step = models.Step(customer_id=customer_id, step=step_name)
            session.add(step)
        if (step.status, step.date, step.note) != (status, day, note):
            step.status, step.date, step.note, step.recorded_by = status, day, note, user

    if step is not None and not ours:
        # Recorded by hand (steps page, steps.csv): a meeting never undoes it, though
        # a meeting booked or held after a "skipped" revives the step.
        if step.status == "done" or (step.status == "skipped" and not (held or pending)):
            return
    if held:
        put("done", held[0], f"{label} held")
    elif pending:
        put("scheduled", pending[0], f"{label} scheduled")
    elif step is not None and (step.status == "scheduled" or ours):
        session.delete(step)
