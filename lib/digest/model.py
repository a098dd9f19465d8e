"""What a digest holds (pure): an owner's sections of items, each linking to its page, or
leadership's weekly figures beside the week before's; and the facts the builder reads
from the database besides the reports (lib.digest.store.facts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lib.refunds.model import RefundView

OWNER, LEADERSHIP = "owner", "leadership"

# The owner's sections in the order the digest shows them: key -> title.
SECTIONS: dict[str, str] = {
    "overdue": "Overdue",
    "due": "Due this week",
    "calls": "Calls today and tomorrow",
    "replies": "Replies since yesterday",
    "homework": "Homework check-ins due",
    "refunds": "Refunds waiting for you",
    "no_reply": "No reply: skip to the final outreach",
}
EMPTY: dict[str, str] = {
    "overdue": "Nothing overdue.",
    "due": "Nothing else due in the next 7 days.",
    "calls": "No calls booked for today or tomorrow.",
    "replies": "No replies since yesterday.",
    "homework": "No homework check-in due.",
    "refunds": "No refund waits for you.",
    "no_reply": "Nobody is waiting past the no-reply days.",
}


@dataclass(frozen=True)
class Item:
    """One line: what (a customer's name, the task), a detail (dates), the page it opens."""

    title: str
    detail: str
    url: str
    customer_id: str | None = None


@dataclass(frozen=True)
class Section:
    key: str
    items: tuple[Item, ...] = ()

    @property
    def title(self) -> str:
        return SECTIONS[self.key]

    @property
    def empty(self) -> str:
        return EMPTY[self.key]


@dataclass(frozen=True)
class Figure:
    """A leadership figure: this week's value beside the week before's, as text."""

    label: str
    this_week: str
    week_before: str


@dataclass(frozen=True)
class Digest:
    kind: str  # OWNER | LEADERSHIP
    username: str
    name: str
    as_of: dt.date
    url: str  # the page the digest summarises (Today, or Outcomes)
    sections: tuple[Section, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)
    figures: tuple[Figure, ...] = ()
    week: tuple[dt.date, dt.date] | None = None  # leadership: the week's first and last day

    @property
    def subject(self) -> str:
        if self.kind == LEADERSHIP:
            assert self.week is not None
            start, end = self.week
            return f"Onboarding: the week {start:%d %b}-{end:%d %b %Y}"
        count = sum(self.counts.get(k, 0) for k in ("overdue", "due"))
        return f"Onboarding: your morning digest for {self.as_of:%a %d %b %Y} ({count} to do)"

    @property
    def summary(self) -> str:
        """One line of counts, the same figures as the Today page."""
        if self.kind == LEADERSHIP:
            return f"The program's week ending {self.as_of:%a %d %b %Y}, beside the week before."
        c = self.counts
        return (
            f"{c.get('overdue', 0)} overdue, {c.get('due_this_week', 0)} due this week "
            f"({c.get('due_today', 0)} today), {c.get('calls_today', 0)} call(s) today and "
            f"{c.get('calls_tomorrow', 0)} tomorrow, {c.get('replies', 0)} new repl"
            f"{'y' if c.get('replies', 0) == 1 else 'ies'}, {c.get('homework', 0)} homework "
            f"check-in(s), {c.get('refunds', 0)} refund(s) waiting, {c.get('no_reply', 0)} "
            "without a reply."
        )

    @property
    def is_empty(self) -> bool:
        return self.kind == OWNER and not any(s.items for s in self.sections)


# ------------------------------------------------------------ facts from the database


@dataclass(frozen=True)
class ReplyFact:
    customer_id: str
    on: dt.date


@dataclass(frozen=True)
class HomeworkFact:
    customer_id: str
    sent_on: dt.date
    check_in_on: dt.date  # the day named when it was sent, else sent_on + CHECK_IN_DAYS
    open_tasks: int


@dataclass(frozen=True)
class MeetingFact:
    id: int
    customer_id: str
    step: str  # first_meeting | second_meeting
    day: dt.date  # the meeting's local day
    time: str  # "14:30 Europe/Berlin"


@dataclass(frozen=True)
class Facts:
    """What the digest reads besides the reports: replies, homework, meetings, refunds."""

    replies: Sequence[ReplyFact] = ()
    homework: Sequence[HomeworkFact] = ()
    meetings: Sequence[MeetingFact] = ()
    open_refunds: Sequence[RefundView] = ()
    recorded_refunds: frozenset[tuple[str, dt.date | None, str]] = frozenset()
