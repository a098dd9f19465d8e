"""What a meeting write asks for (schedule, save), the checks it must pass (the times, and
the order of the first and second call), and what a save refused by a concurrent edit
reports: the fields the other person changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lib.errors import Conflict
from lib.meetings.model import (
    EMAIL,
    KIND_LABELS,
    KINDS,
    MAX_DURATION_MIN,
    STATUS_LABELS,
    STATUSES,
    Attendee,
    GoalInput,
    MeetingError,
    MeetingView,
    to_local,
    to_utc,
    utcnow,
)

# What a new meeting can be: booked, or a call that already took place logged at once.
NEW_STATUSES: tuple[str, ...] = ("scheduled", "held")
# The outcomes that put a call in the program's order (docs/rules.md, "Meetings").
COUNTED_STATUSES: frozenset[str] = frozenset({"scheduled", "held"})


@dataclass(frozen=True)
class ScheduleRequest:
    customer_id: str
    kind: str
    local_start: dt.datetime  # wall clock in `timezone`, naive
    timezone: str
    duration_min: int
    attendees: tuple[Attendee, ...] = ()
    agenda: str = ""
    owner: str | None = None  # default: the user scheduling it
    status: str = "scheduled"  # or "held": a call that already took place, logged at once
    notes: str = ""  # what happened, for a call logged as held


@dataclass(frozen=True)
class MeetingUpdate:
    """Everything the meeting form can change. Times are wall clock in `timezone`."""

    local_start: dt.datetime
    timezone: str
    duration_min: int
    attendees: tuple[Attendee, ...]
    agenda: str
    status: str
    notes: str = ""
    fixed_rules: tuple[str, ...] = ()
    second_call_offered: bool | None = None
    second_call_accepted: bool | None = None
    goals: tuple[GoalInput, ...] | None = None  # None = leave the customer's goals alone
    rescheduled_to: dt.datetime | None = None  # wall clock in `timezone`, for `rescheduled`


@dataclass(frozen=True)
class SaveResult:
    meeting: MeetingView
    new_meeting_id: int | None  # the follow-up meeting a reschedule created
    fixed: tuple[str, ...]  # rules newly marked fixed
    reopened: tuple[str, ...]  # rules no longer listed as fixed by this meeting


def check_schedule(req: ScheduleRequest) -> None:
    """Raise MeetingError when the request cannot be booked as it stands."""
    if req.kind not in KINDS:
        raise MeetingError(f"kind {req.kind!r}: expected one of {', '.join(KINDS)}")
    if req.status not in NEW_STATUSES:
        raise MeetingError(
            f"a new meeting is {' or '.join(NEW_STATUSES)}, not {req.status!r}: book it, "
            "then log its outcome"
        )
    if not 5 <= req.duration_min <= MAX_DURATION_MIN:
        raise MeetingError(f"duration {req.duration_min} min: expected 5 to {MAX_DURATION_MIN}")
    if not any(a.side == "customer" for a in req.attendees):
        raise MeetingError("add at least one attendee from the customer's side (name and email)")
    for a in req.attendees:
        if not EMAIL.match(a.email):
            raise MeetingError(f"attendee {a.name!r}: {a.email!r} is not an email address")


def _when(starts_at: dt.datetime, tz_name: str) -> str:
    local = to_local(starts_at, tz_name)
    return f"{local:%a %d %b %Y %H:%M} {local.tzname()}"


def check_time(
    status: str, starts_at: dt.datetime, tz_name: str, now: dt.datetime | None, *, booking: bool
) -> None:
    """A held call has started by `now`; a booking (`booking`: a new date for a call still
    to happen) does not start before `now`. Naive UTC; `now` None: no booking clock
    (history written by the demo, imports and tests), a held call is judged by the wall
    clock."""
    if status == "held" and starts_at > (now or utcnow()):
        raise MeetingError(
            f"{_when(starts_at, tz_name)} is still to come: a call can be logged as held only "
            "once it has started; set the date and time the call actually took place"
        )
    if booking and status == "scheduled" and now is not None and starts_at < now:
        raise MeetingError(
            f"{_when(starts_at, tz_name)} is in the past: book the call for a date and time "
            "from now on, or log a call that already took place as held"
        )


@dataclass(frozen=True)
class CallFact:
    """Another meeting of the customer, as the order of the calls sees it."""

    kind: str
    status: str
    starts_at: dt.datetime  # UTC, naive
    timezone: str = "UTC"


def check_order(
    kind: str,
    status: str,
    starts_at: dt.datetime,
    others: Sequence[CallFact],
    first_done_on: dt.date | None = None,
) -> None:
    """The second call comes after the first (docs/rules.md, "Meetings"): booked after a
    first call held or booked before it, held only after a first call held before it.
    `others`: the customer's other meetings; `first_done_on`: the day the first call's
    step was recorded done by hand (steps.csv, the step log), which counts as held."""
    if status not in COUNTED_STATUSES:
        return
    counted = [c for c in others if c.status in COUNTED_STATUSES]
    if kind == "first":
        earlier = sorted(
            (c for c in counted if c.kind == "second" and c.starts_at <= starts_at),
            key=lambda c: c.starts_at,
        )
        if earlier:
            second = earlier[0]
            raise MeetingError(
                f"the first call must come before the second call "
                f"({STATUS_LABELS[second.status].lower()}, {_when(second.starts_at, second.timezone)}): "
                "pick an earlier time, or move the second call first"
            )
        return
    if kind != "second":
        return
    firsts = [c for c in counted if c.kind == "first"]
    if first_done_on is not None and first_done_on <= starts_at.date():
        return
    if any(c.status == "held" and c.starts_at < starts_at for c in firsts):
        return
    label = KIND_LABELS["second"].lower()
    if status == "held":
        booked = [c for c in firsts if c.status == "scheduled"]
        hint = (
            "log the first call's outcome first" if booked else "log the first call as held first"
        )
        raise MeetingError(
            f"a {label} can be logged as held only after the first call was held: {hint}, "
            "dated before this one"
        )
    if any(c.status == "scheduled" and c.starts_at < starts_at for c in firsts):
        return
    later = sorted((c for c in firsts if c.starts_at >= starts_at), key=lambda c: c.starts_at)
    where = (
        f" (the first call is on {_when(later[0].starts_at, later[0].timezone)})" if later else ""
    )
    raise MeetingError(
        f"a {label} can be booked only after the first call{where}: book the first call, or "
        "log it as held, for an earlier time first"
    )


def check_update(
    update: MeetingUpdate,
    kind: str,
    current_status: str,
    starts_at: dt.datetime,
    now: dt.datetime | None,
    moved: bool = False,
) -> None:
    """Raise MeetingError when `update` cannot be saved on a meeting of `kind`. `moved`:
    the save gives the meeting a new start (a booking, judged by `now` as in check_time)."""
    if update.status not in STATUSES:
        raise MeetingError(f"outcome {update.status!r}: expected one of {', '.join(STATUSES)}")
    if not 5 <= update.duration_min <= MAX_DURATION_MIN:
        raise MeetingError(f"duration {update.duration_min} min: expected 5 to {MAX_DURATION_MIN}")
    check_time(update.status, starts_at, update.timezone, now, booking=moved)
    if update.status == "rescheduled" and current_status != "rescheduled":
        if update.rescheduled_to is None:  # only the move into rescheduled creates a meeting
            raise MeetingError("a rescheduled meeting needs its new date and time")
        new_start = to_utc(update.rescheduled_to, update.timezone)
        check_time("scheduled", new_start, update.timezone, now, booking=True)
    if kind != "second" and update.goals:
        raise MeetingError("goals and KPIs are recorded on the second call")
    if update.second_call_accepted and update.second_call_offered is False:
        raise MeetingError("a second call can be accepted only if it was offered")


def ticked(checked: Any, before: bool | None) -> bool | None:
    """A checkbox's answer; unticked stays "not recorded" when it was never recorded."""
    if checked:
        return True
    return None if before is None else False


# ------------------------------------------------------------ conflicts

# Fields compared when a save is refused, with the words the page shows.
FIELD_LABELS: dict[str, str] = {
    "starts_at": "Date and time",
    "timezone": "Time zone",
    "duration_min": "Duration",
    "attendees": "Attendees",
    "agenda": "Agenda",
    "status": "Outcome",
    "notes": "Notes",
    "fixed_rules": "Findings fixed",
    "second_call_offered": "Second call offered",
    "second_call_accepted": "Second call accepted",
    "goals": "Goals and KPIs",
}


def _shown(name: str, value: Any) -> str:
    if value is None or value == () or value == "":
        return "(empty)"
    if name == "attendees":
        return "; ".join(a.line() for a in value)
    if name == "goals":
        return "; ".join(g.line() for g in value)
    if name == "fixed_rules":
        return ", ".join(value)
    if name == "status":
        return STATUS_LABELS.get(value, value)
    if name == "starts_at":
        return f"{value:%Y-%m-%d %H:%M} UTC"
    if name == "duration_min":
        return f"{value} min"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    before: str  # when you opened the meeting
    now: str  # as saved by the other person
    yours: str | None = None  # what your refused save said


class MeetingConflict(Conflict):
    """Someone saved the meeting after you opened it; nothing of yours was written."""

    def __init__(
        self, current: MeetingView, changes: list[FieldChange], yours_version: int
    ) -> None:
        self.current = current
        self.changes = changes
        self.yours_version = yours_version
        who = current.updated_by or "someone"
        when = f"{current.updated_at:%Y-%m-%d %H:%M} UTC" if current.updated_at else "meanwhile"
        fields = ", ".join(c.label for c in changes) or "nothing visible (saved again unchanged)"
        super().__init__(
            f"{who} saved this meeting at {when} after you opened it (version "
            f"{yours_version} -> {current.version}); they changed: {fields}. "
            "Your save was not applied; your text is still in the form."
        )


def _comparable(view: MeetingView) -> dict[str, Any]:
    data = {name: getattr(view, name) for name in FIELD_LABELS}
    data["notes"] = (data["notes"] or "").strip()
    data["agenda"] = (data["agenda"] or "").strip()
    return data


def proposed(update: MeetingUpdate, starts_at: dt.datetime, base: MeetingView) -> dict[str, Any]:
    """The fields as `update` would save them (starts_at in UTC), comparable to a view."""
    return {
        "starts_at": starts_at,
        "timezone": update.timezone,
        "duration_min": update.duration_min,
        "attendees": update.attendees,
        "agenda": update.agenda.strip(),
        "status": update.status,
        "notes": update.notes.strip(),
        "fixed_rules": tuple(update.fixed_rules),
        "second_call_offered": update.second_call_offered,
        "second_call_accepted": update.second_call_accepted,
        "goals": update.goals if update.goals is not None else base.goals,
    }


def conflict_changes(
    base: MeetingView, current: MeetingView, yours: dict[str, Any] | None = None
) -> list[FieldChange]:
    """What the other person changed between `base` (what you opened) and `current`."""
    before, now = _comparable(base), _comparable(current)
    return [
        FieldChange(
            field=name,
            label=label,
            before=_shown(name, before[name]),
            now=_shown(name, now[name]),
            yours=_shown(name, yours[name]) if yours is not None else None,
        )
        for name, label in FIELD_LABELS.items()
        if before[name] != now[name]
    ]


def conflict(
    base: MeetingView, current: MeetingView, update: MeetingUpdate, starts_at: dt.datetime
) -> MeetingConflict:
    """The refusal of `update` (based on `base`) now that `current` is stored."""
    return MeetingConflict(
        current, conflict_changes(base, current, proposed(update, starts_at, base)), base.version
    )


def merge_notes(mine: str, theirs: str, who: str | None) -> str:
    """My notes with theirs appended under a `--- from <who> ---` line (unless mine
    already hold them)."""
    if theirs.strip() and theirs.strip() not in mine:
        return f"{mine.rstrip()}\n\n--- from {who or 'the other person'} ---\n{theirs}"
    return mine
