"""The program timeline exactly as docs/interface.md defines it (pure): weeks, windows,
step status, next action, program status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lib.store import models

STEPS: tuple[str, ...] = (
    "initial_outreach",
    "first_meeting",
    "second_meeting",
    "homework",
    "final_outreach",
)

# Inclusive program weeks of each step's window.
STEP_WINDOWS: dict[str, tuple[int, int]] = {
    "initial_outreach": (1, 1),
    "first_meeting": (2, 3),
    "second_meeting": (4, 5),
    "homework": (5, 6),
    "final_outreach": (7, 8),
}

STEP_LABELS: dict[str, str] = {
    "initial_outreach": "Initial outreach",
    "first_meeting": "First call",
    "second_meeting": "Second call",
    "homework": "Homework",
    "final_outreach": "Final outreach",
}

MEETING_STEPS: frozenset[str] = frozenset({"first_meeting", "second_meeting"})
OPTIONAL_STEPS: frozenset[str] = frozenset({"second_meeting"})

RECORDED_STATUSES: tuple[str, ...] = ("done", "scheduled", "skipped")
CUSTOMER_STATUSES: tuple[str, ...] = ("active", "paused", "churned")
PROGRAM_STATUSES: tuple[str, ...] = ("in_progress", "extended", "overdue", "completed", "churned")
STEP_STATUSES: tuple[str, ...] = (
    "done",
    "skipped",
    "scheduled",
    "overdue",
    "due",
    "optional",
    "upcoming",
)


@dataclass(frozen=True)
class RecordedStep:
    status: str  # done | scheduled | skipped
    date: dt.date


@dataclass(frozen=True)
class StepState:
    step: str
    status: str
    window_start: dt.date
    window_end: dt.date
    date: dt.date | None

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "date": self.date.isoformat() if self.date else None,
        }


@dataclass(frozen=True)
class NextAction:
    step: str
    status: str
    due_on: dt.date

    def as_json(self) -> dict[str, Any]:
        return {"step": self.step, "status": self.status, "due_on": self.due_on.isoformat()}


@dataclass(frozen=True)
class Timeline:
    as_of: dt.date
    program_week: int
    program_status: str
    steps: dict[str, StepState] = field(default_factory=dict)
    next_action: NextAction | None = None


def program_week(entered_on: dt.date, as_of: dt.date) -> int:
    return (as_of - entered_on).days // 7 + 1


def window(
    step: str, entered_on: dt.date, extended_until: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    first_week, last_week = STEP_WINDOWS[step]
    start = entered_on + dt.timedelta(days=7 * (first_week - 1))
    end = entered_on + dt.timedelta(days=7 * last_week - 1)
    if step == "final_outreach" and extended_until is not None and extended_until > end:
        end = extended_until
    return start, end


def step_status(
    step: str,
    recorded: RecordedStep | None,
    window_start: dt.date,
    window_end: dt.date,
    as_of: dt.date,
) -> str:
    """The contract's first-match rules, with the optional second meeting."""
    if recorded is not None and recorded.status in ("done", "skipped"):
        return recorded.status
    if recorded is not None and recorded.status == "scheduled":
        return "scheduled" if recorded.date >= as_of else "overdue"
    if as_of < window_start:
        return "upcoming"
    by_window = "due" if as_of <= window_end else "overdue"
    if step in OPTIONAL_STEPS:
        return "optional" if by_window == "due" else "skipped"
    return by_window


def compute(
    entered_on: dt.date,
    as_of: dt.date,
    recorded: dict[str, RecordedStep] | None = None,
    extended_until: dt.date | None = None,
    customer_status: str = "active",
) -> Timeline:
    recorded = recorded or {}
    steps: dict[str, StepState] = {}
    for step in STEPS:
        start, end = window(step, entered_on, extended_until)
        record = recorded.get(step)
        status = step_status(step, record, start, end, as_of)
        steps[step] = StepState(
            step=step,
            status=status,
            window_start=start,
            window_end=end,
            date=record.date if record is not None else None,
        )

    final_end = steps["final_outreach"].window_end
    if customer_status == "churned":
        status = "churned"
    elif steps["final_outreach"].status == "done":
        status = "completed"
    elif extended_until is not None and extended_until >= as_of:
        status = "extended"
    elif as_of > final_end:
        status = "overdue"
    else:
        status = "in_progress"

    return Timeline(
        as_of=as_of,
        program_week=program_week(entered_on, as_of),
        program_status=status,
        steps=steps,
        next_action=None if status in ("churned", "completed") else _next_action(steps),
    )


def _next_action(steps: dict[str, StepState]) -> NextAction | None:
    for wanted in ("overdue", "due"):
        candidates = [s for s in steps.values() if s.status == wanted]
        if candidates:
            # min() keeps the first of equal window ends: program order breaks ties.
            first = min(candidates, key=lambda s: s.window_end)
            return NextAction(step=first.step, status=first.status, due_on=first.window_end)
    return None


def of_customer(
    customer: models.Customer, recorded: Mapping[str, tuple[str, dt.date]], as_of: dt.date
) -> Timeline:
    """A stored customer's timeline from its recorded steps, step -> (status, date)."""
    return compute(
        entered_on=customer.segment_entered_on,
        as_of=as_of,
        recorded={step: RecordedStep(*row) for step, row in recorded.items()},
        extended_until=customer.extended_until,
        customer_status=customer.status,
    )


EXTENSION_STEP_DAYS = 14  # an extension suggested two weeks past the current end


def extension_dates(
    entered_on: dt.date, extended_until: dt.date | None, as_of: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """(earliest, suggested) date to extend a program to: after final outreach's own window
    end, suggested two weeks past the current end. With `as_of`, never a day already past:
    the earliest is as-of at the soonest, and a current end already past suggests two weeks
    from as-of."""
    own_end = window("final_outreach", entered_on)[1]
    current = max(extended_until or own_end, own_end)
    earliest = own_end + dt.timedelta(days=1)
    if as_of is not None:
        earliest, current = max(earliest, as_of), max(current, as_of)
    return earliest, current + dt.timedelta(days=EXTENSION_STEP_DAYS)
