"""The morning worklist: what one owner (or everyone) must do, most urgent first (pure;
docs/rules.md, "Today's worklist")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lib.program import settings, timeline
from lib.program.report import CustomerReport

WEEK = dt.timedelta(days=6)  # as-of plus six days: seven calendar days

# Steps that are done when an email is sent: one click records them done.
ONE_CLICK_DONE: dict[str, str] = {
    "initial_outreach": "Outreach sent",
    "homework": "Homework sent",
    "final_outreach": "Final outreach sent",
}


@dataclass(frozen=True)
class WorkItem:
    customer_id: str
    name: str
    owner: str | None
    customer_status: str
    program_week: int
    program_status: str
    step: str
    status: str  # overdue | due
    due_on: dt.date
    projected_monthly_bill_usd: float
    est_monthly_saving_usd: float
    as_of: dt.date

    @property
    def step_label(self) -> str:
        return timeline.STEP_LABELS[self.step]

    @property
    def done_action(self) -> str | None:
        """The one-click "done" label when the step is an email, else None."""
        return ONE_CLICK_DONE.get(self.step)

    @property
    def on_hold(self) -> bool:
        """Paused, or given more time (program extended past as-of): listed last."""
        return self.customer_status == "paused" or self.program_status == "extended"

    @property
    def free(self) -> bool:
        """The projected bill rounds to $0 (nothing to pay at the current usage)."""
        return round(self.projected_monthly_bill_usd, 2) <= 0

    @property
    def rank(self) -> int:
        """The band Today lists the item in (docs/rules.md, "Today's worklist"): 0 overdue
        with a bill, 1 overdue with a $0 bill, 2 due, 3 on hold (paused or extended)."""
        if self.on_hold:
            return 3
        if self.status != "overdue":
            return 2
        return 1 if self.free else 0

    @property
    def urgency(self) -> tuple[int, int, dt.date, str, str]:
        """The sort key: the band; in it overdue before due, the longest overdue (the
        earliest due) first; then the name and the id."""
        late = 0 if self.status == "overdue" else 1
        return (self.rank, late, self.due_on, self.name, self.customer_id)


@dataclass(frozen=True)
class Call:
    customer_id: str
    name: str
    owner: str | None
    step: str
    on: dt.date


@dataclass(frozen=True)
class NoReply:
    """No answer to the initial outreach after the setting's days: skip to the final
    outreach (docs/rules.md, "Today's worklist")."""

    customer_id: str
    name: str
    owner: str | None
    program_week: int
    outreach_on: dt.date
    days: int  # since the initial outreach


# Steps after the initial outreach: one recorded (done, booked or skipped) means the
# customer is past the no-reply question.
LATER_STEPS: tuple[str, ...] = timeline.STEPS[1:]
WAITING_STAGES: frozenset[str] = frozenset({"new_account", "onboarding_initiated"})


def no_reply_of(report: CustomerReport, as_of: dt.date, days: int) -> NoReply | None:
    """The skip item of a customer whose initial outreach went out `days`+ days ago with no
    reply since, no later step recorded and no stage set past it; else None."""
    line = report.timeline
    outreach = line.steps["initial_outreach"]
    if line.program_status in ("completed", "churned") or report.customer.status == "churned":
        return None
    if outreach.status != "done" or outreach.date is None:
        return None
    waited = (as_of - outreach.date).days
    replied = report.last_customer_reply_on
    if waited < days or (replied is not None and replied >= outreach.date):
        return None
    if any(line.steps[step].date is not None for step in LATER_STEPS):
        return None
    if report.stage.stage not in WAITING_STAGES:
        return None
    customer = report.customer
    return NoReply(
        customer.customer_id,
        customer.name,
        customer.owner,
        line.program_week,
        outreach.date,
        waited,
    )


@dataclass(frozen=True)
class Worklist:
    as_of: dt.date
    owner: str | None  # None: everyone
    customers: int  # customers in scope (the owner's, or all)
    items: tuple[WorkItem, ...]
    new_entrants: tuple[str, ...]  # customer ids
    calls: tuple[Call, ...]  # scheduled calls from as-of through the week, by day
    # No reply to the initial outreach: skip to the final outreach, the longest waiting first.
    no_reply: tuple[NoReply, ...] = ()
    no_reply_days: int = settings.DEFAULT_NO_REPLY_DAYS

    @property
    def overdue(self) -> int:
        return sum(1 for i in self.items if i.status == "overdue")

    @property
    def due_this_week(self) -> int:
        end = self.as_of + WEEK
        return sum(1 for i in self.items if i.status == "due" and i.due_on <= end)

    @property
    def calls_today(self) -> int:
        return sum(1 for c in self.calls if c.on == self.as_of)

    @property
    def calls_this_week(self) -> int:
        return len(self.calls)


def in_scope(reports: Iterable[CustomerReport], owner: str | None) -> list[CustomerReport]:
    return [r for r in reports if owner is None or r.customer.owner == owner]


def owners(reports: Iterable[CustomerReport]) -> list[str]:
    """Every owner named on a customer, sorted."""
    return sorted({r.customer.owner for r in reports if r.customer.owner})


def item_of(report: CustomerReport) -> WorkItem | None:
    action = report.timeline.next_action
    if action is None:
        return None
    customer = report.customer
    return WorkItem(
        customer_id=customer.customer_id,
        name=customer.name,
        owner=customer.owner,
        customer_status=customer.status,
        program_week=report.timeline.program_week,
        program_status=report.timeline.program_status,
        step=action.step,
        status=action.status,
        due_on=action.due_on,
        projected_monthly_bill_usd=report.projected_monthly_bill_usd,
        est_monthly_saving_usd=report.est_monthly_saving_usd,
        as_of=report.timeline.as_of,
    )


def calls_of(report: CustomerReport, as_of: dt.date) -> list[Call]:
    """Meetings scheduled from as-of through the week."""
    end = as_of + WEEK
    return [
        Call(
            report.customer.customer_id, report.customer.name, report.customer.owner, s.step, s.date
        )
        for s in report.timeline.steps.values()
        if s.step in timeline.MEETING_STEPS
        and s.status == "scheduled"
        and s.date is not None
        and as_of <= s.date <= end
    ]


def build(
    reports: Sequence[CustomerReport],
    as_of: dt.date,
    owner: str | None = None,
    no_reply_days: int | None = None,
) -> Worklist:
    """The worklist of `owner` (None: everyone) as of a date; `no_reply_days` defaults to
    data/program.toml's."""
    days = settings.load().no_reply_days if no_reply_days is None else no_reply_days
    scoped = in_scope(reports, owner)
    items = sorted(
        (item for item in map(item_of, scoped) if item is not None), key=lambda i: i.urgency
    )
    week_ago = as_of - WEEK
    new = tuple(
        r.customer.customer_id
        for r in sorted(scoped, key=lambda r: (r.customer.segment_entered_on, r.customer.name))
        if week_ago <= r.customer.segment_entered_on <= as_of
    )
    calls = sorted(
        (c for r in scoped for c in calls_of(r, as_of)), key=lambda c: (c.on, c.name, c.step)
    )
    waiting = sorted(
        (found for r in scoped if (found := no_reply_of(r, as_of, days)) is not None),
        key=lambda n: (n.outreach_on, n.name, n.customer_id),
    )
    return Worklist(
        as_of=as_of,
        owner=owner,
        customers=len(scoped),
        items=tuple(items),
        new_entrants=new,
        calls=tuple(calls),
        no_reply=tuple(waiting),
        no_reply_days=days,
    )
