"""The meeting tracker: schedule calls, log their outcome, keep the timeline in step.

Times are stored in UTC (naive) with the zone the meeting was set in; a
meeting's *day* is its local date in that zone (what the invite shows), and
that day is what the timeline's `scheduled` / `done` step records carry.

What each outcome does to the meeting's program step (first call ->
`first_meeting`, second call -> `second_meeting`), recomputed from all the
customer's meetings of that kind after every save:

- a held meeting: the step is `done` on the earliest held meeting's day;
- else a meeting still `scheduled`: the step is `scheduled` on the earliest
  such day (a day in the past reads `overdue` until its outcome is logged --
  CONTRACT timeline rule 3);
- `rescheduled`: the meeting keeps its history and a new meeting is created
  on the new date, so the step moves to that day;
- `no_show` / `cancelled`: the call did not happen and nothing is pending, so
  the `scheduled` record is removed and the step's window decides again
  (`due` inside it, `overdue` after it; the optional second call reads
  `optional` / `skipped`). The no-show stays visible in the meeting history.

A step recorded `done` or `skipped` by hand (steps page, steps.csv) is never
undone by a meeting; a step this module marked done is reverted when the
held meeting is corrected to another outcome.

Two people editing one meeting: the row carries a version (SQLAlchemy's
version_id_col). A save names the version it was based on; when someone else
saved in between, `MeetingConflict` is raised with what they changed, and
nothing is written.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from lib import db, findings, models

KINDS: tuple[str, ...] = ("first", "second")
KIND_LABELS: dict[str, str] = {"first": "First call", "second": "Second call"}
KIND_STEP: dict[str, str] = {"first": "first_meeting", "second": "second_meeting"}

STATUSES: tuple[str, ...] = ("scheduled", "held", "no_show", "rescheduled", "cancelled")
STATUS_LABELS: dict[str, str] = {
    "scheduled": "Scheduled",
    "held": "Held",
    "no_show": "No-show",
    "rescheduled": "Rescheduled",
    "cancelled": "Cancelled",
}
# Outcomes after which the meeting no longer waits for anything.
FINAL_STATUSES: frozenset[str] = frozenset({"held", "no_show", "rescheduled", "cancelled"})

DEFAULT_DURATION_MIN: dict[str, int] = {"first": 30, "second": 45}
MAX_DURATION_MIN = 8 * 60
MAX_AGENDA_FINDINGS = 5
SEVERITY_ORDER: dict[str, int] = {"high": 0, "medium": 1, "low": 2}

# Zones offered first in pickers; every IANA zone is accepted.
COMMON_TIMEZONES: tuple[str, ...] = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Madrid",
    "Europe/Amsterdam",
    "Europe/Warsaw",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)

_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
# A note this module leaves on a step it marked done, so a corrected outcome can undo it.
_STEP_NOTE = re.compile(r"\(meeting (\d+)\)$")


class MeetingError(ValueError):
    """Input the tracker refuses; the message says what and why."""


# ------------------------------------------------------------------ values


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str
    side: str = "customer"  # customer | team

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "email": self.email, "side": self.side}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Attendee:
        return cls(
            name=str(data.get("name") or ""),
            email=str(data.get("email") or ""),
            side=str(data.get("side") or "customer"),
        )

    def line(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass(frozen=True)
class GoalInput:
    """A business goal or KPI from the second call: name, target, by when."""

    name: str
    target: str | None = None
    by_when: dt.date | None = None

    def line(self) -> str:
        parts = [self.name, self.target or ""]
        if self.by_when:
            parts.append(self.by_when.isoformat())
        return " | ".join(parts).rstrip(" |")


def timezones() -> list[str]:
    """Common zones first, then every other IANA zone alphabetically."""
    rest = sorted(zoneinfo.available_timezones() - set(COMMON_TIMEZONES))
    return [*COMMON_TIMEZONES, *rest]


def zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise MeetingError(
            f"unknown time zone {name!r}: expected an IANA name such as Europe/Berlin"
        ) from None


def to_utc(local: dt.datetime, tz_name: str) -> dt.datetime:
    """A wall-clock time in `tz_name` -> naive UTC.

    A time the clocks skip (spring forward) is refused; a time that occurs
    twice (fall back) means its first occurrence.
    """
    tz = zone(tz_name)
    aware = local.replace(tzinfo=tz, fold=0)
    back = aware.astimezone(dt.UTC).astimezone(tz)
    if back.replace(tzinfo=None) != local.replace(tzinfo=None):
        raise MeetingError(
            f"{local:%Y-%m-%d %H:%M} does not exist in {tz_name} (the clocks skip it); "
            "pick another time"
        )
    return aware.astimezone(dt.UTC).replace(tzinfo=None)


def to_local(utc_naive: dt.datetime, tz_name: str) -> dt.datetime:
    """Naive UTC -> aware local time in `tz_name`."""
    return utc_naive.replace(tzinfo=dt.UTC).astimezone(zone(tz_name))


def meeting_day(starts_at_utc: dt.datetime, tz_name: str) -> dt.date:
    """The day a meeting happens, as its own time zone sees it."""
    return to_local(starts_at_utc, tz_name).date()


def parse_attendees(text: str, side: str = "customer") -> list[Attendee]:
    """One attendee per line: `Name <email>`, `Name, email` or just `email`."""
    attendees: list[Attendee] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        match = re.fullmatch(r"(.*?)\s*<([^<>]+)>", line)
        if match:
            name, email = match.group(1).strip(" ,;\"'"), match.group(2).strip()
        elif "," in line or ";" in line:
            name, _, email = re.split(r"([,;])", line, maxsplit=1)
            name, email = name.strip(), email.strip()
        else:
            name, email = "", line
        if not _EMAIL.match(email):
            raise MeetingError(
                f"attendee line {number}: {raw.strip()!r}: expected `Name <email>` with a valid email"
            )
        attendees.append(Attendee(name=name or email.split("@")[0], email=email, side=side))
    return attendees


def attendees_text(attendees: Iterable[Attendee], side: str = "customer") -> str:
    return "\n".join(a.line() for a in attendees if a.side == side)


def parse_goals(text: str) -> list[GoalInput]:
    """One goal per line: `name | target | YYYY-MM-DD` (target and date optional)."""
    goals: list[GoalInput] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        parts = [p.strip() for p in raw.split("|")]
        if len(parts) > 3 or not parts[0]:
            raise MeetingError(
                f"goal line {number}: {raw.strip()!r}: expected `name | target | YYYY-MM-DD`"
            )
        by_when = None
        if len(parts) == 3 and parts[2]:
            try:
                by_when = dt.date.fromisoformat(parts[2])
            except ValueError:
                raise MeetingError(
                    f"goal line {number}: {parts[2]!r} is not a date YYYY-MM-DD"
                ) from None
        target = parts[1] if len(parts) >= 2 and parts[1] else None
        goals.append(
            GoalInput(name=parts[0][:300], target=target[:300] if target else None, by_when=by_when)
        )
    return goals


def goals_text(goals: Iterable[GoalInput]) -> str:
    return "\n".join(g.line() for g in goals)


# ---------------------------------------------------------------- snapshots


@dataclass(frozen=True)
class MeetingView:
    """One meeting as plain values (safe to keep in a page's session state)."""

    id: int
    customer_id: str
    customer_name: str
    kind: str
    owner: str | None
    starts_at: dt.datetime  # UTC, naive
    timezone: str
    duration_min: int
    attendees: tuple[Attendee, ...]
    agenda: str
    status: str
    notes: str
    fixed_rules: tuple[str, ...]
    second_call_offered: bool | None
    second_call_accepted: bool | None
    goals: tuple[GoalInput, ...]
    version: int
    updated_by: str | None
    updated_at: dt.datetime | None

    @property
    def local_start(self) -> dt.datetime:
        return to_local(self.starts_at, self.timezone)

    @property
    def day(self) -> dt.date:
        return self.local_start.date()

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.duration_min)

    def needs_outcome(self, now: dt.datetime | None = None) -> bool:
        """Scheduled, started in the past, and nobody logged what happened."""
        return self.status == "scheduled" and self.starts_at <= (now or models.utcnow())

    def label(self, tz_name: str | None = None) -> str:
        local = to_local(self.starts_at, tz_name or self.timezone)
        return (
            f"{local:%a %d %b %Y %H:%M} {local.tzname()} - {self.customer_name} "
            f"({KIND_LABELS.get(self.kind, self.kind)}, {STATUS_LABELS.get(self.status, self.status)})"
        )


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


class MeetingConflict(Exception):
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


def _view(session: Session, meeting: models.Meeting) -> MeetingView:
    customer = session.get(models.Customer, meeting.customer_id)
    goals: tuple[GoalInput, ...] = ()
    if meeting.kind == "second":
        goals = tuple(
            GoalInput(g.name, g.target, g.by_when)
            for g in session.scalars(
                select(models.Goal)
                .where(models.Goal.customer_id == meeting.customer_id)
                .order_by(models.Goal.id)
            )
        )
    return MeetingView(
        id=meeting.id,
        customer_id=meeting.customer_id,
        customer_name=customer.name if customer else meeting.customer_id,
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
        goals=goals,
        version=meeting.version,
        updated_by=meeting.updated_by,
        updated_at=meeting.updated_at,
    )


def get(engine: Engine, meeting_id: int) -> MeetingView:
    with db.read_session(engine) as session:
        meeting = session.get(models.Meeting, meeting_id)
        if meeting is None:
            raise MeetingError(f"meeting {meeting_id} does not exist")
        return _view(session, meeting)


# ------------------------------------------------------------------ listing


@dataclass(frozen=True)
class MeetingFilter:
    owner: str | None = None  # None = every owner
    kinds: tuple[str, ...] = ()  # empty = all
    statuses: tuple[str, ...] = ()  # empty = all
    customer_id: str | None = None
    start: dt.datetime | None = None  # UTC, inclusive
    end: dt.datetime | None = None  # UTC, exclusive


def list_meetings(session: Session, flt: MeetingFilter | None = None) -> list[MeetingView]:
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
    views = []
    for m, name in session.execute(stmt):
        views.append(
            MeetingView(
                id=m.id,
                customer_id=m.customer_id,
                customer_name=name,
                kind=m.kind,
                owner=m.owner,
                starts_at=m.starts_at,
                timezone=m.timezone or "UTC",
                duration_min=m.duration_min,
                attendees=tuple(Attendee.from_json(a) for a in (m.attendees or [])),
                agenda=m.agenda or "",
                status=m.status,
                notes=m.notes or "",
                fixed_rules=tuple(m.fixed_rules or ()),
                second_call_offered=m.second_call_offered,
                second_call_accepted=m.second_call_accepted,
                goals=(),
                version=m.version,
                updated_by=m.updated_by,
                updated_at=m.updated_at,
            )
        )
    return views


def owners(session: Session) -> list[str]:
    """Everyone who owns a meeting or a customer."""
    names = set(session.scalars(select(models.Meeting.owner).distinct()))
    names |= set(session.scalars(select(models.Customer.owner).distinct()))
    return sorted(n for n in names if n)


def split_upcoming(
    meetings: Sequence[MeetingView], now: dt.datetime | None = None
) -> tuple[list[MeetingView], list[MeetingView]]:
    """(upcoming soonest first, past latest first). A meeting is past once it ended."""
    now = now or models.utcnow()
    upcoming = [m for m in meetings if m.ends_at > now]
    past = [m for m in meetings if m.ends_at <= now]
    return (
        sorted(upcoming, key=lambda m: (m.starts_at, m.id)),
        sorted(past, key=lambda m: (m.starts_at, m.id), reverse=True),
    )


def group_by_day(
    meetings: Sequence[MeetingView], tz_name: str
) -> list[tuple[dt.date, list[MeetingView]]]:
    """Meetings grouped by their day as `tz_name` sees it, in the given order."""
    groups: dict[dt.date, list[MeetingView]] = {}
    for m in meetings:
        groups.setdefault(to_local(m.starts_at, tz_name).date(), []).append(m)
    return list(groups.items())


def week_start(day: dt.date) -> dt.date:
    """The Monday of `day`'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def week_range_utc(monday: dt.date, tz_name: str) -> tuple[dt.datetime, dt.datetime]:
    """The UTC bounds of the seven local days starting on `monday`."""
    tz = zone(tz_name)
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(monday + dt.timedelta(days=7), dt.time(0), tzinfo=tz)
    return (
        start.astimezone(dt.UTC).replace(tzinfo=None),
        end.astimezone(dt.UTC).replace(tzinfo=None),
    )


def week_view(
    meetings: Sequence[MeetingView], monday: dt.date, tz_name: str
) -> dict[dt.date, list[MeetingView]]:
    """Seven local days from `monday`, each with its meetings by start time."""
    days: dict[dt.date, list[MeetingView]] = {monday + dt.timedelta(days=i): [] for i in range(7)}
    for m in sorted(meetings, key=lambda m: (m.starts_at, m.id)):
        day = to_local(m.starts_at, tz_name).date()
        if day in days:
            days[day].append(m)
    return days


# ------------------------------------------------------------------ agenda


def agenda_from_findings(
    findings: Iterable[Any], kind: str = "first", goals: Iterable[GoalInput] = ()
) -> str:
    """A Markdown agenda from the customer's open findings (most severe, then costliest first).

    `findings` are lib.audit.Finding objects (or anything with rule, title,
    severity, state, fix and est_monthly_saving_usd).
    """
    open_findings = [f for f in findings if getattr(f, "state", "open") == "open"]
    open_findings.sort(
        key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), -float(f.est_monthly_saving_usd or 0))
    )
    lines: list[str] = []
    if kind == "second":
        lines.append("1. Your business goals and the KPIs that show them")
        goal_list = list(goals)
        for goal in goal_list:
            lines.append(f"   - {goal.line()}")
        lines.append("2. How to track them in PostHog (dashboards, funnels, retention)")
        if open_findings:
            lines.append("3. Open points from the audit:")
            for f in open_findings[:MAX_AGENDA_FINDINGS]:
                lines.append(f"   - {f.title}")
        return "\n".join(lines)
    lines.append("Hands-on fixes from the account audit:")
    for number, f in enumerate(open_findings[:MAX_AGENDA_FINDINGS], start=1):
        saving = float(f.est_monthly_saving_usd or 0)
        money = f" (about ${saving:,.0f}/month)" if saving >= 1 else ""
        lines.append(f"{number}. {f.title}{money}: {f.fix}")
    if len(open_findings) > MAX_AGENDA_FINDINGS:
        lines.append(f"- and {len(open_findings) - MAX_AGENDA_FINDINGS} smaller points")
    if not open_findings:
        lines.append("1. Walk through the setup together; the audit found nothing open")
    lines.append("")
    lines.append("Questions, and whether a second call on your goals would help.")
    return "\n".join(lines)


# ------------------------------------------------------------------ writes


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


def _check_schedule(req: ScheduleRequest) -> None:
    if req.kind not in KINDS:
        raise MeetingError(f"kind {req.kind!r}: expected one of {', '.join(KINDS)}")
    if not 5 <= req.duration_min <= MAX_DURATION_MIN:
        raise MeetingError(f"duration {req.duration_min} min: expected 5 to {MAX_DURATION_MIN}")
    if not any(a.side == "customer" for a in req.attendees):
        raise MeetingError("add at least one attendee from the customer's side (name and email)")
    for a in req.attendees:
        if not _EMAIL.match(a.email):
            raise MeetingError(f"attendee {a.name!r}: {a.email!r} is not an email address")


def schedule(engine: Engine, user: str, req: ScheduleRequest) -> int:
    """Create a scheduled meeting and set its step to `scheduled`; returns the meeting id."""
    _check_schedule(req)
    starts_at = to_utc(req.local_start, req.timezone)
    with db.write_session(engine, user) as session:
        if session.get(models.Customer, req.customer_id) is None:
            raise MeetingError(f"customer {req.customer_id!r} does not exist")
        meeting = models.Meeting(
            customer_id=req.customer_id,
            kind=req.kind,
            owner=req.owner or user,
            starts_at=starts_at,
            timezone=req.timezone,
            duration_min=req.duration_min,
            attendees=[a.as_json() for a in req.attendees],
            agenda=req.agenda.strip() or None,
            status="scheduled",
            fixed_rules=[],
            created_by=user,
            updated_by=user,
        )
        session.add(meeting)
        session.flush()
        sync_step(session, req.customer_id, req.kind, user)
        return meeting.id


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


def _comparable(view: MeetingView) -> dict[str, Any]:
    data = {name: getattr(view, name) for name in FIELD_LABELS}
    data["notes"] = (data["notes"] or "").strip()
    data["agenda"] = (data["agenda"] or "").strip()
    return data


def _proposed(update: MeetingUpdate, starts_at: dt.datetime, base: MeetingView) -> dict[str, Any]:
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


def _check_update(
    update: MeetingUpdate, kind: str, current_status: str, starts_at: dt.datetime, now: dt.datetime
) -> None:
    if update.status not in STATUSES:
        raise MeetingError(f"outcome {update.status!r}: expected one of {', '.join(STATUSES)}")
    if not 5 <= update.duration_min <= MAX_DURATION_MIN:
        raise MeetingError(f"duration {update.duration_min} min: expected 5 to {MAX_DURATION_MIN}")
    if update.status == "held" and starts_at > now:
        raise MeetingError(
            "a meeting can be logged as held only once it has started: set the date and "
            "time the call actually took place"
        )
    if update.status == "rescheduled" and current_status != "rescheduled":
        if update.rescheduled_to is None:  # only the move into rescheduled creates a meeting
            raise MeetingError("a rescheduled meeting needs its new date and time")
    if kind != "second" and update.goals:
        raise MeetingError("goals and KPIs are recorded on the second call")
    if update.second_call_accepted and update.second_call_offered is False:
        raise MeetingError("a second call can be accepted only if it was offered")


def save(
    engine: Engine,
    user: str,
    meeting_id: int,
    base: MeetingView,
    update: MeetingUpdate,
    now: dt.datetime | None = None,
) -> SaveResult:
    """Save the meeting form, based on `base` (the version the user opened).

    Raises MeetingConflict, writing nothing, when someone saved in between.
    Fixed findings are recorded through lib.findings.set_state after the
    meeting is saved (their own transaction).
    """
    now = now or models.utcnow()
    starts_at = to_utc(update.local_start, update.timezone)
    try:
        with db.write_session(engine, user) as session:
            meeting = session.get(models.Meeting, meeting_id)
            if meeting is None:
                raise MeetingError(f"meeting {meeting_id} does not exist (deleted meanwhile?)")
            _check_update(update, meeting.kind, meeting.status, starts_at, now)
            if meeting.version != base.version:
                current = _view(session, meeting)
                raise MeetingConflict(
                    current,
                    conflict_changes(base, current, _proposed(update, starts_at, base)),
                    base.version,
                )
            old_fixed = set(meeting.fixed_rules or ())
            becomes_rescheduled = update.status == "rescheduled" and meeting.status != "rescheduled"
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
            meeting.updated_at = models.utcnow()
            if update.goals is not None:
                _replace_goals(session, meeting, update.goals, user)
            new_id = None
            if becomes_rescheduled:
                assert update.rescheduled_to is not None
                follow_up = models.Meeting(
                    customer_id=meeting.customer_id,
                    kind=meeting.kind,
                    owner=meeting.owner,
                    starts_at=to_utc(update.rescheduled_to, update.timezone),
                    timezone=update.timezone,
                    duration_min=update.duration_min,
                    attendees=list(meeting.attendees),
                    agenda=meeting.agenda,
                    status="scheduled",
                    fixed_rules=[],
                    created_by=user,
                    updated_by=user,
                )
                session.add(follow_up)
                session.flush()
                new_id = follow_up.id
            session.flush()
            sync_step(session, meeting.customer_id, meeting.kind, user)
            view = _view(session, meeting)
    except StaleDataError:
        # Someone committed between our read and our write (PostgreSQL, READ COMMITTED).
        current = get(engine, meeting_id)
        raise MeetingConflict(
            current,
            conflict_changes(base, current, _proposed(update, starts_at, base)),
            base.version,
        ) from None

    new_fixed = set(view.fixed_rules)
    fixed = tuple(sorted(new_fixed - old_fixed))
    reopened = tuple(sorted(old_fixed - new_fixed))
    _apply_findings(engine, user, view, fixed, reopened)
    return SaveResult(meeting=view, new_meeting_id=new_id, fixed=fixed, reopened=reopened)


def _apply_findings(
    engine: Engine, user: str, view: MeetingView, fixed: Sequence[str], reopened: Sequence[str]
) -> None:
    if not fixed and not reopened:
        return

    label = KIND_LABELS.get(view.kind, view.kind).lower()
    for rule in fixed:
        findings.set_state(
            engine,
            user,
            view.customer_id,
            rule,
            "fixed",
            on=view.day,
            note=f"Fixed during the {label} on {view.day.isoformat()} (meeting {view.id})",
        )
    for rule in reopened:
        findings.set_state(
            engine,
            user,
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


def customer_goals(session: Session, customer_id: str) -> list[GoalInput]:
    return [
        GoalInput(g.name, g.target, g.by_when)
        for g in session.scalars(
            select(models.Goal)
            .where(models.Goal.customer_id == customer_id)
            .order_by(models.Goal.id)
        )
    ]


# ------------------------------------------------------------ the timeline


def sync_step(session: Session, customer_id: str, kind: str, user: str) -> None:
    """Make the meeting's program step agree with the customer's meetings of that kind.

    See the module docstring for the rules.
    """
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


# ------------------------------------------------------------------ helpers


def as_session_dict(view: MeetingView) -> dict[str, Any]:
    """Plain JSON-ish values for st.session_state (never ORM objects there)."""
    return asdict(view)


def from_session_dict(data: dict[str, Any]) -> MeetingView:
    values = dict(data)
    values["attendees"] = tuple(
        a if isinstance(a, Attendee) else Attendee(**a) for a in values["attendees"]
    )
    values["goals"] = tuple(
        g if isinstance(g, GoalInput) else GoalInput(**g) for g in values["goals"]
    )
    values["fixed_rules"] = tuple(values["fixed_rules"])
    return MeetingView(**values)


@dataclass
class CustomerMeetings:
    """A customer's meetings, for the customer page and the homework recap."""

    meetings: list[MeetingView] = field(default_factory=list)

    def last_held(self, kind: str | None = None) -> MeetingView | None:
        held = [m for m in self.meetings if m.status == "held" and (kind is None or m.kind == kind)]
        return max(held, key=lambda m: (m.starts_at, m.id)) if held else None


def for_customer(session: Session, customer_id: str) -> CustomerMeetings:
    return CustomerMeetings(list_meetings(session, MeetingFilter(customer_id=customer_id)))
