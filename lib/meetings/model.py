"""Meetings as plain values: kinds and outcomes, attendees and goals, time zones,
the meeting snapshot, what a refused save reports, and the pure rules of a save."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from lib.errors import UserError

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

EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


class MeetingError(UserError):
    """Input the tracker refuses; the message says what and why."""


def utcnow() -> dt.datetime:
    """Now, as naive UTC (how meeting times are stored)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


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
        if not EMAIL.match(email):
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
        return self.status == "scheduled" and self.starts_at <= (now or utcnow())

    def label(self, tz_name: str | None = None) -> str:
        local = to_local(self.starts_at, tz_name or self.timezone)
        return (
            f"{local:%a %d %b %Y %H:%M} {local.tzname()} - {self.customer_name} "
            f"({KIND_LABELS.get(self.kind, self.kind)}, {STATUS_LABELS.get(self.status, self.status)})"
        )


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

    def pending(self) -> MeetingView | None:
        """The booked call that waits for its outcome or its day: the earliest scheduled."""
        booked = [m for m in self.meetings if m.status == "scheduled"]
        return min(booked, key=lambda m: (m.starts_at, m.id)) if booked else None

    def last_people(self) -> list[Attendee]:
        """The customer's side of the last meeting that had one."""
        for view in sorted(self.meetings, key=lambda m: (m.starts_at, m.id), reverse=True):
            people = [a for a in view.attendees if a.side == "customer"]
            if people:
                return people
        return []


@dataclass(frozen=True)
class MeetingFilter:
    owner: str | None = None  # None = every owner
    kinds: tuple[str, ...] = ()  # empty = all
    statuses: tuple[str, ...] = ()  # empty = all
    customer_id: str | None = None
    start: dt.datetime | None = None  # UTC, inclusive
    end: dt.datetime | None = None  # UTC, exclusive
