"""What the outcomes read (OutcomesData), the filters every chart shares, the period
presets, and the definitions shown under each chart (pure)."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from lib import labels

RETENTION_TARGET = 0.9
RETENTION_MIN_DAYS = 90  # three months after the first forecast bill
ACTIVE_WINDOW_DAYS = 30  # "still using the product": events in the last 30 days
FIRST_MONTH_DAYS = 30  # the first forecast bill's month: days 0-29 after entry
SPEED_PERCENTILE = 0.8
UNASSIGNED = "(unassigned)"

# Milestones of the speed chart: the step whose done date ends each one.
MILESTONES: dict[str, str] = {
    "initial_outreach": "Entry to initial outreach",
    "first_meeting": "Entry to first call",
    "final_outreach": "Entry to completion",
}

SPEED_WORDS: dict[str, str] = {
    "initial_outreach": "to outreach",
    "first_meeting": "to first call",
    "final_outreach": "to completion",
}

RETENTION_GROUPS: dict[str, str] = {
    "all": "All customers 90+ days in",
    "completed": "Completed the program",
    "engaged": "Engaged, not completed",
    "not_engaged": "Did not engage",
}

CUSTOMER_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "owner",
    "plan",
    "entry_reason",
    "segment_entered_on",
    "extended_until",
    "status",
    "events_last_30",
    "first_month_spend_usd",
    "latest_spend_usd",
    "stage",  # the engagement stage as of the date (lib.program.stage)
)
REPLY_COLUMNS: tuple[str, ...] = ("customer_id", "on")  # a customer's answers, one per row
STEP_COLUMNS: tuple[str, ...] = ("customer_id", "step", "status", "date")
FINDING_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "rule",
    "state",
    "identified_on",
    "fixed_on",
    "est_monthly_saving_usd",
)
REFUND_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "scenario",
    "amount_usd",  # issued: the amount issued
    "recorded_on",
    "status",
    "issued_on",  # empty for a refund recorded before the workflow: recorded_on
)

# ------------------------------------------------------------------- inputs


def _frame(records: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    rows = [{name: record.get(name) for name in columns} for record in records]
    frame = pd.DataFrame(rows, columns=list(columns), dtype=object)
    return frame.astype(object).where(frame.notna(), None)


@dataclass(frozen=True)
class OutcomesData:
    """Everything the outcomes read, as plain frames (one row per record).

    customers: CUSTOMER_COLUMNS; steps: STEP_COLUMNS (recorded steps);
    findings: FINDING_COLUMNS (recorded finding states); refunds: REFUND_COLUMNS;
    replies: REPLY_COLUMNS (the customers' answers, from the mailbox or by hand).
    """

    as_of: dt.date
    customers: pd.DataFrame
    steps: pd.DataFrame
    findings: pd.DataFrame
    refunds: pd.DataFrame
    replies: pd.DataFrame = field(default_factory=lambda: _frame((), REPLY_COLUMNS))

    @classmethod
    def from_records(
        cls,
        as_of: dt.date,
        customers: Iterable[Mapping[str, Any]] = (),
        steps: Iterable[Mapping[str, Any]] = (),
        findings: Iterable[Mapping[str, Any]] = (),
        refunds: Iterable[Mapping[str, Any]] = (),
        replies: Iterable[Mapping[str, Any]] = (),
    ) -> OutcomesData:
        customer_frame = _frame(customers, CUSTOMER_COLUMNS)
        for name in ("events_last_30", "first_month_spend_usd", "latest_spend_usd"):
            customer_frame[name] = pd.to_numeric(customer_frame[name]).fillna(0.0).astype(float)
        customer_frame["status"] = customer_frame["status"].map(lambda s: s or "active")
        finding_frame = _frame(findings, FINDING_COLUMNS)
        finding_frame["est_monthly_saving_usd"] = (
            pd.to_numeric(finding_frame["est_monthly_saving_usd"]).fillna(0.0).astype(float)
        )
        refund_frame = _frame(refunds, REFUND_COLUMNS)
        refund_frame["amount_usd"] = (
            pd.to_numeric(refund_frame["amount_usd"]).fillna(0.0).astype(float)
        )
        refund_frame["status"] = refund_frame["status"].map(lambda s: s or "issued")
        return cls(
            as_of=as_of,
            customers=customer_frame,
            steps=_frame(steps, STEP_COLUMNS),
            findings=finding_frame,
            refunds=refund_frame,
            replies=_frame(replies, REPLY_COLUMNS),
        )

    def choices(self, column_name: str) -> list[str]:
        """The distinct values of a customer column, for the filter widgets."""
        values_ = self.customers[column_name].map(
            lambda v: UNASSIGNED if column_name == "owner" and not v else v
        )
        return sorted({str(v) for v in values_ if v})

    @property
    def first_entry(self) -> dt.date | None:
        entered = [d for d in self.customers["segment_entered_on"] if d is not None]
        return min(entered) if entered else None


# ------------------------------------------------------------------ filters


def _month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


@dataclass(frozen=True)
class Filters:
    """One set of filters, applied the same way to every chart.

    Empty tuples mean "all". `entered_from` / `entered_to` are inclusive.
    """

    entered_from: dt.date
    entered_to: dt.date
    owners: tuple[str, ...] = ()
    entry_reasons: tuple[str, ...] = ()
    plans: tuple[str, ...] = ()

    def select(self, customers: pd.DataFrame) -> pd.DataFrame:
        entered = customers["segment_entered_on"]
        keep = entered.map(lambda d: d is not None and self.entered_from <= d <= self.entered_to)
        if self.owners:
            owners = customers["owner"].map(lambda o: o or UNASSIGNED)
            keep &= owners.isin(self.owners)
        if self.entry_reasons:
            keep &= customers["entry_reason"].isin(self.entry_reasons)
        if self.plans:
            keep &= customers["plan"].isin(self.plans)
        return customers[keep.astype(bool)]

    @property
    def period_label(self) -> str:
        """How the titles name the cohort: "March 2026" or "1 Jan-31 Mar 2026"."""
        start, end = self.entered_from, self.entered_to
        if (start, end) == _month_bounds(start):
            return f"{start:%B %Y}"
        if start.year == end.year:
            return f"{start.day} {start:%b}-{end.day} {end:%b %Y}"
        return f"{start.day} {start:%b %Y}-{end.day} {end:%b %Y}"

    @property
    def days(self) -> int:
        """The window's length in days, both ends included."""
        return (self.entered_to - self.entered_from).days + 1

    def previous(self) -> Filters:
        """The same filters over the window just before: shifted back by its own length."""
        shift = dt.timedelta(days=self.days)
        return replace(
            self, entered_from=self.entered_from - shift, entered_to=self.entered_to - shift
        )

    def describe(self) -> str:
        parts = [f"entered {self.entered_from.isoformat()} to {self.entered_to.isoformat()}"]
        for name, kind, chosen in (
            ("owner", None, self.owners),
            ("entry reason", "entry_reason", self.entry_reasons),
            ("plan", "plan", self.plans),
        ):
            if chosen:
                shown = chosen if kind is None else [labels.label(kind, c) for c in chosen]
                parts.append(f"{name}: {', '.join(shown)}")
        return "; ".join(parts)


def period_presets(as_of: dt.date, first_entry: dt.date | None = None) -> dict[str, Filters]:
    """Named periods for the period picker (owner/reason/plan left open)."""

    def ending_today(days: int) -> Filters:
        return Filters(as_of - dt.timedelta(days=days - 1), as_of)

    presets = {
        "Last 4 weeks": ending_today(28),
        "Last 3 months": ending_today(91),
        "Last 6 months": ending_today(183),
        "Last 12 months": ending_today(365),
    }
    month = as_of.replace(day=1)
    for _ in range(6):
        start, end = _month_bounds(month)
        presets[f"{start:%B %Y}"] = Filters(start, end)
        month = (month - dt.timedelta(days=1)).replace(day=1)
    if first_entry is not None:
        presets["All time"] = Filters(min(first_entry, as_of), as_of)
    return presets


# How each chart counts, shown under it on the page.
DEFINITIONS: dict[str, str] = {
    "funnel": (
        "Customers who entered in the period. Reached = the step is recorded done; on time = "
        "done on or before the end of its window (an extension moves the final outreach's "
        "end); late = done after it. Completed = final outreach done. The completion rate in "
        "the headline counts only the customers whose 8 weeks (and any extension) are over: "
        "those still inside them have not had their chance yet."
    ),
    "cohorts": (
        "Each cell: the share of that month's entrants who reached the step, and the share "
        "who did it on time (reached / on time). Recent months have not had time to finish."
    ),
    "speed": (
        "Days from entering the segment to the day the step was done, over the customers "
        "who reached it: median and 80th percentile (linear interpolation)."
    ),
    "savings": (
        "Identified: the estimated monthly saving of every recorded finding not dismissed, by "
        "the month it was first seen. Realised: findings marked fixed, by the month fixed."
    ),
    "refunds": (
        "Refunds issued, at the amount issued, by the month issued (proposed, requested, "
        "waiting for approval and declined ones are not counted)."
    ),
    "retention": (
        "Customers who entered 90+ days before the as-of date (their first forecast bill). "
        "Retained = not churned and sent events in the last 30 days (no churn dates are "
        "stored, so this is 'still a customer today'). Spend change = the projected bill of "
        "the last 30 days against the first 30 days after entry. Engaged = held the first call; "
        "completed = also had the final outreach. n = the customers in the group; a group of "
        "fewer than 10 is marked small: its rate moves a lot with one customer."
    ),
    "response": (
        "Entrants whose initial outreach is recorded done, by entry month; replied = an answer "
        "recorded on or after the outreach day, from the mailbox or by hand ('Customer "
        "replied'). The dashed line is the handbook's benchmark (data/program.toml)."
    ),
    "stages": (
        "Each entrant's engagement stage on the as-of date (docs/rules.md, Stages), by entry "
        "month: the four end stages (onboarded and engaged, onboarded without engagement, "
        "handed to sales, churned), and the customers still in the program."
    ),
    "team": (
        "Open = not completed and not churned; overdue = open with an overdue next action. "
        "On-time rate = steps done inside their window / steps that came due (done, or window "
        "closed undone; skipped steps, an untaken second call and churned customers' missing "
        "steps excluded)."
    ),
}
