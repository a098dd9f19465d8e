"""What a new call's form starts with (pure): which call comes next, a day and time for
it, and who from the customer is invited (docs/rules.md, "Meetings and the timeline")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING

from lib.meetings.model import KIND_STEP, Attendee

if TYPE_CHECKING:
    from lib.program.report import CustomerReport

BOOKING_TIME = dt.time(10, 0)  # a new booking's time of day, in the user's zone
QUARTER = 15  # minutes: a call logged as held starts on a quarter hour


def next_call_kind(first_call_status: str | None) -> str:
    """The call to book next: the second once the first call's step is done, else the
    first (also while the first is only booked)."""
    return "second" if first_call_status == "done" else "first"


def working_day_from(day: dt.date) -> dt.date:
    """`day`, or the Monday after it when it falls on a weekend."""
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def default_start(as_of: dt.date, window_start: dt.date | None = None) -> dt.datetime:
    """A booking's wall-clock start: the next working day after `as_of` at 10:00, or the
    first working day of the step's window when the window opens later."""
    day = working_day_from(as_of + dt.timedelta(days=1))
    if window_start is not None and window_start > day:
        day = working_day_from(window_start)
    return dt.datetime.combine(day, BOOKING_TIME)


def default_held_start(now_local: dt.datetime) -> dt.datetime:
    """A call that already took place, logged now (wall clock in the user's zone): today
    at 10:00 once that has passed, else the last quarter hour."""
    ten = dt.datetime.combine(now_local.date(), BOOKING_TIME)
    if now_local >= ten:
        return ten
    return now_local.replace(
        minute=now_local.minute - now_local.minute % QUARTER, second=0, microsecond=0
    )


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def suggested_people(
    contacts: Sequence[Attendee],
    last_call: Sequence[Attendee],
    team: Collection[str],
) -> tuple[list[Attendee], list[Attendee]]:
    """Who from the customer a new call invites: (contacts, others).

    `contacts` are the customer's contacts, primary first; `last_call` the people of the
    customer's last meeting; `team` the team's own addresses (lower-case). The contacts
    who were on the last call are invited, else the primary one. Others from the last
    call are suggested only when they share a contact's email domain: the team's people
    (the owner, the organiser, whoever was listed on the wrong side) never are.
    """
    team = {t.lower() for t in team}
    known = [c for c in contacts if c.email.lower() not in team]
    known_emails = {c.email.lower() for c in known}
    on_last = {a.email.lower() for a in last_call}
    chosen = [c for c in known if c.email.lower() in on_last] or known[:1]
    domains = {_domain(c.email) for c in known}
    others: list[Attendee] = []
    for person in last_call:
        email = person.email.lower()
        if email in known_emails or email in team or _domain(email) not in domains:
            continue
        if all(o.email.lower() != email for o in others):
            others.append(Attendee(person.name, person.email, "customer"))
    return chosen, others


CALL_STEPS: tuple[str, ...] = tuple(KIND_STEP.values())


def most_urgent_call(reports: Iterable[CustomerReport], owner: str | None = None) -> str | None:
    """The customer whose call to book is most urgent: `owner`'s customers before the
    others, a call step overdue before one due, the earliest window end, then the name;
    churned and completed customers, and calls already booked, left out. None when no
    call is due."""
    ranked = []
    for rep in reports:
        line = rep.timeline
        if rep.customer.status == "churned" or line.program_status in ("churned", "completed"):
            continue
        for step in CALL_STEPS:
            state = line.steps[step]
            # A call booked and past (overdue, rule 3) waits for its outcome, not a booking.
            if state.status in ("overdue", "due") and state.date is None:
                ranked.append(
                    (
                        rep.customer.owner != owner,
                        state.status != "overdue",
                        state.window_end,
                        rep.customer.name,
                        rep.customer_id,
                    )
                )
    return min(ranked)[-1] if ranked else None
