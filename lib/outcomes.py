"""Program outcomes for leadership (pure computations + one loader).

Every chart of the Outcomes page describes the same customers: those who
entered the onboarding segment inside the selected period and match the
owner / entry reason / plan filters (`Filters.select`). Each section returns a
`Section`: a sentence stating the finding, and the frame the chart is drawn
from, which is also the CSV a leader downloads (`csv_bytes`).

Definitions (where the issue left room, chosen here and shown on the page):

- A step is *reached* when it is recorded `done`; *on time* when its date is on
  or before the step's `window_end` (the contract's windows; an extension moves
  the final outreach's end); *late* when done after it. The program is
  *completed* when the final outreach is done.
- *Speed*: days from `segment_entered_on` to the date a step was done, over the
  customers who reached it; median and 80th percentile (linear interpolation).
- *Savings identified*: the estimated monthly saving of every finding the team
  recorded and did not dismiss, by the month it was first seen; *realised*:
  findings in state `fixed`, by the month they were fixed (lib.findings'
  `savings_by_month` counts the same way). *Refunds issued*: refunds in status
  `issued`, by the month recorded and scenario.
- *3-month logo retention*: measured over customers whose entry date (the
  first forecast bill) is at least 90 days before as-of. Retained = status is
  not `churned` and the customer sent events in the 30 days ending on as-of.
  No churn dates are stored, so a customer who churned after day 90 counts as
  lost: the figure is "still a customer today", never above true 3-month
  retention. *Spend change* = the projected bill of the 30 days ending on as-of
  against the bill of the first 30 days after entry (days 0-29), summed over a
  group. Groups: *completed* (final outreach done and the first call held),
  *engaged, not completed* (first call held, no final outreach yet), *did not
  engage* (no call held).
- *Team*: an owner's *open* customers are those not completed and not churned;
  *overdue* are open customers whose next action is overdue; the *on-time
  rate* is steps done inside their window / steps that came due (done, or
  window closed without being done; skipped steps, an untaken optional
  second call and the missing steps of churned customers are not counted).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lib import csv_safe, db, models, pricing, timeline

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
)
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
    "amount_usd",
    "recorded_on",
    "status",
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
    findings: FINDING_COLUMNS (recorded finding states); refunds: REFUND_COLUMNS.
    """

    as_of: dt.date
    customers: pd.DataFrame
    steps: pd.DataFrame
    findings: pd.DataFrame
    refunds: pd.DataFrame

    @classmethod
    def from_records(
        cls,
        as_of: dt.date,
        customers: Iterable[Mapping[str, Any]] = (),
        steps: Iterable[Mapping[str, Any]] = (),
        findings: Iterable[Mapping[str, Any]] = (),
        refunds: Iterable[Mapping[str, Any]] = (),
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

    def describe(self) -> str:
        parts = [f"entered {self.entered_from.isoformat()} to {self.entered_to.isoformat()}"]
        for name, chosen in (
            ("owner", self.owners),
            ("entry reason", self.entry_reasons),
            ("plan", self.plans),
        ):
            if chosen:
                parts.append(f"{name}: {', '.join(chosen)}")
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


# ----------------------------------------------------------------- sections

# How each chart counts, shown under it on the page.
DEFINITIONS: dict[str, str] = {
    "funnel": (
        "Customers who entered in the period. Reached = the step is recorded done; on time = "
        "done on or before the end of its window (an extension moves the final outreach's "
        "end); late = done after it. Completed = final outreach done."
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
    "refunds": "Refunds with status issued (not pending approval or declined), by month recorded.",
    "retention": (
        "Customers who entered 90+ days before the as-of date (their first forecast bill). "
        "Retained = not churned and sent events in the last 30 days (no churn dates are "
        "stored, so this is 'still a customer today'). Spend change = the projected bill of "
        "the last 30 days against the first 30 days after entry. Engaged = held the first call; "
        "completed = also had the final outreach."
    ),
    "team": (
        "Open = not completed and not churned; overdue = open with an overdue next action. "
        "On-time rate = steps done inside their window / steps that came due (done, or window "
        "closed undone; skipped steps, an untaken second call and churned customers' missing "
        "steps excluded)."
    ),
}


@dataclass(frozen=True)
class Section:
    """One chart: the finding in words and the numbers behind it."""

    key: str
    title: str
    frame: pd.DataFrame
    empty_message: str | None = None

    @property
    def is_empty(self) -> bool:
        return self.empty_message is not None


@dataclass(frozen=True)
class Outcomes:
    filters: Filters
    as_of: dt.date
    entrants: int
    funnel: Section
    cohorts: Section
    speed: Section
    savings: Section
    refunds: Section
    retention: Section
    team: Section
    progress: pd.DataFrame = field(repr=False)

    @property
    def headline(self) -> list[tuple[str, str]]:
        """The few numbers above the charts, as (label, text)."""
        numbers: list[tuple[str, str]] = [("Entrants", f"{self.entrants:,}")]
        final = self.funnel.frame[self.funnel.frame["step"] == "final_outreach"]
        if len(final):
            numbers.append(("Completed", _pct(float(final["reached_pct"].iloc[0]))))
            numbers.append(("Completed on time", _pct(float(final["on_time_pct"].iloc[0]))))
        retained = self.retention.frame[self.retention.frame["group"] == "all"]
        if len(retained):
            numbers.append(("3-month retention", _pct(float(retained["retention_pct"].iloc[0]))))
        if not self.savings.is_empty:
            realised = float(self.savings.frame["realised_usd"].sum())
            numbers.append(("Savings realised", f"{_money(realised)}/mo"))
        return numbers

    @property
    def sections(self) -> list[Section]:
        return [
            self.funnel,
            self.cohorts,
            self.speed,
            self.savings,
            self.refunds,
            self.retention,
            self.team,
        ]


def _rate(numerator: float, denominator: float) -> float:
    """A share rounded for display and CSV (4 decimals); 0 when nothing to divide."""
    return round(numerator / denominator, 4) if denominator else 0.0


def _pct(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def _money(amount: float) -> str:
    return f"${amount:,.0f}"


def _month(day: dt.date) -> str:
    return f"{day:%Y-%m}"


def _none_if_nan(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    return value


PROGRESS_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "owner",
    "segment_entered_on",
    "entry_month",
    "program_status",
    "next_action_status",
    "step",
    "status",
    "window_start",
    "window_end",
    "done_on",
    "reached",
    "on_time",
    "late",
    "came_due",
    "days_from_entry",
)


def progress(customers: pd.DataFrame, steps: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """One row per customer and step: the timeline's status, when it was done, on time."""
    recorded: dict[str, dict[str, timeline.RecordedStep]] = defaultdict(dict)
    for cid, step, status, date in steps[list(STEP_COLUMNS)].itertuples(index=False, name=None):
        if date is not None:
            recorded[cid][step] = timeline.RecordedStep(status, date)
    rows: list[tuple[Any, ...]] = []
    for record in customers.to_dict("records"):
        cid = record["customer_id"]
        entered: dt.date = record["segment_entered_on"]
        line = timeline.compute(
            entered_on=entered,
            as_of=as_of,
            recorded=recorded.get(cid, {}),
            extended_until=_none_if_nan(record.get("extended_until")),
            customer_status=record.get("status") or "active",
        )
        next_status = line.next_action.status if line.next_action else None
        for name, state in line.steps.items():
            done_on = state.date if state.status == "done" else None
            reached = done_on is not None
            on_time = done_on is not None and done_on <= state.window_end
            rows.append(
                (
                    cid,
                    record.get("owner") or UNASSIGNED,
                    entered,
                    _month(entered),
                    line.program_status,
                    next_status,
                    name,
                    state.status,
                    state.window_start,
                    state.window_end,
                    done_on,
                    reached,
                    on_time,
                    reached and not on_time,
                    # Came due: done, or its window closed without it (the timeline
                    # already turns an untaken optional second call into "skipped").
                    # A churned customer's missing steps are not held against the owner.
                    reached or (state.status == "overdue" and line.program_status != "churned"),
                    (done_on - entered).days if done_on is not None else None,
                )
            )
    frame = pd.DataFrame(rows, columns=list(PROGRESS_COLUMNS), dtype=object)
    for name in ("reached", "on_time", "late", "came_due"):
        frame[name] = frame[name].astype(bool)
    return frame


def funnel(prog: pd.DataFrame, entrants: int, filters: Filters) -> Section:
    rows: list[dict[str, Any]] = []
    for step in timeline.STEPS:
        of_step = prog[prog["step"] == step]
        reached = int(of_step["reached"].sum())
        on_time = int(of_step["on_time"].sum())
        rows.append(
            {
                "step": step,
                "step_label": timeline.STEP_LABELS[step],
                "entrants": entrants,
                "reached": reached,
                "on_time": on_time,
                "late": reached - on_time,
                "not_reached": entrants - reached,
                "reached_pct": _rate(reached, entrants),
                "on_time_pct": _rate(on_time, entrants),
            }
        )
    frame = pd.DataFrame(rows)
    if not entrants:
        return Section(
            "funnel",
            "Program funnel",
            frame.iloc[0:0],
            f"No customers entered the program in {filters.period_label} with these filters.",
        )
    final = rows[-1]
    title = (
        f"{_pct(final['reached_pct'])} of {filters.period_label} entrants completed the "
        f"program; {_pct(final['on_time_pct'])} on time ({entrants} entrants)"
    )
    return Section("funnel", title, frame)


def cohorts(prog: pd.DataFrame, filters: Filters) -> Section:
    rows: list[dict[str, Any]] = []
    for month, of_month in prog.groupby("entry_month", sort=True):
        entrants = int(of_month["customer_id"].nunique())
        for step in timeline.STEPS:
            of_step = of_month[of_month["step"] == step]
            reached = int(of_step["reached"].sum())
            on_time = int(of_step["on_time"].sum())
            rows.append(
                {
                    "entry_month": str(month),
                    "step": step,
                    "step_label": timeline.STEP_LABELS[step],
                    "entrants": entrants,
                    "reached": reached,
                    "on_time": on_time,
                    "reached_pct": _rate(reached, entrants),
                    "on_time_pct": _rate(on_time, entrants),
                }
            )
    columns = [
        "entry_month",
        "step",
        "step_label",
        "entrants",
        "reached",
        "on_time",
        "reached_pct",
        "on_time_pct",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    if frame.empty:
        return Section(
            "cohorts",
            "Completion by entry month",
            frame,
            f"No customers entered the program in {filters.period_label} with these filters.",
        )
    final = [row for row in rows if row["step"] == "final_outreach"]
    if len(final) == 1:
        only = final[0]
        title = (
            f"{_pct(only['reached_pct'])} of {only['entry_month']} entrants completed the "
            f"program; {_pct(only['on_time_pct'])} on time"
        )
    else:
        # Ties go to the earliest month (rows are in month order).
        best = max(final, key=lambda row: row["reached_pct"])
        worst = min(final, key=lambda row: row["reached_pct"])
        title = (
            f"Completion by entry month runs from {_pct(worst['reached_pct'])} "
            f"({worst['entry_month']}) to {_pct(best['reached_pct'])} ({best['entry_month']}); "
            f"on time at most {_pct(max(row['on_time_pct'] for row in final))}"
        )
    return Section("cohorts", title, frame)


def speed(prog: pd.DataFrame, filters: Filters) -> Section:
    rows: list[dict[str, Any]] = []
    for step, label in MILESTONES.items():
        done = prog[prog["reached"] & (prog["step"] == step)]
        days = pd.Series([float(d) for d in done["days_from_entry"]], dtype=float)
        if days.empty:
            continue  # nobody reached it: no bar rather than a zero
        rows.append(
            {
                "milestone": step,
                "milestone_label": label,
                "customers": len(days),
                "median_days": round(float(days.median()), 1),
                "p80_days": round(float(days.quantile(SPEED_PERCENTILE)), 1),
            }
        )
    columns = ["milestone", "milestone_label", "customers", "median_days", "p80_days"]
    frame = pd.DataFrame(rows, columns=columns)
    if not rows:
        return Section(
            "speed",
            "Days from entry to each milestone",
            frame,
            f"No {filters.period_label} entrant has reached a milestone yet.",
        )
    medians = ", ".join(
        f"{row['median_days']:g} days {SPEED_WORDS[row['milestone']]}" for row in rows
    )
    p80s = ", ".join(f"{row['p80_days']:g}" for row in rows)
    title = f"Median {medians}; 80% within {p80s} days"
    return Section("speed", title, frame)


def savings(findings: pd.DataFrame, filters: Filters) -> Section:
    identified: dict[str, float] = defaultdict(float)
    realised: dict[str, float] = defaultdict(float)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for record in findings.to_dict("records"):
        saving = float(record["est_monthly_saving_usd"] or 0.0)
        identified_on = record["identified_on"] or record["fixed_on"]
        # A dismissed finding was never a saving (as lib.findings.savings_by_month counts).
        if identified_on is not None and record["state"] != "dismissed":
            identified[_month(identified_on)] += saving
            counts[_month(identified_on)][0] += 1
        if record["state"] == "fixed" and record["fixed_on"] is not None:
            realised[_month(record["fixed_on"])] += saving
            counts[_month(record["fixed_on"])][1] += 1
    months = sorted(set(identified) | set(realised))
    frame = pd.DataFrame(
        [
            {
                "month": month,
                "identified_usd": pricing.usd(identified.get(month, 0.0)),
                "realised_usd": pricing.usd(realised.get(month, 0.0)),
                "findings_identified": counts[month][0],
                "findings_fixed": counts[month][1],
            }
            for month in months
        ],
        columns=[
            "month",
            "identified_usd",
            "realised_usd",
            "findings_identified",
            "findings_fixed",
        ],
    )
    if frame.empty:
        return Section(
            "savings",
            "Savings identified vs realised",
            frame,
            f"No audit findings have been recorded yet for {filters.period_label} entrants.",
        )
    total_identified = sum(identified.values())
    total_realised = sum(realised.values())
    title = (
        f"{_money(total_identified)}/month of savings identified, "
        f"{_money(total_realised)}/month realised "
        f"({_pct(_rate(total_realised, total_identified))} of identified)"
    )
    return Section("savings", title, frame)


def refunds(refund_rows: pd.DataFrame, filters: Filters) -> Section:
    issued = refund_rows[refund_rows["status"] == "issued"]
    amounts: dict[tuple[str, str], float] = defaultdict(float)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for record in issued.to_dict("records"):
        if record["recorded_on"] is None:
            continue
        key = (_month(record["recorded_on"]), str(record["scenario"]))
        amounts[key] += float(record["amount_usd"])
        counts[key] += 1
    frame = pd.DataFrame(
        [
            {
                "month": month,
                "scenario": scenario,
                "refunds": counts[(month, scenario)],
                "amount_usd": pricing.usd(amounts[(month, scenario)]),
            }
            for month, scenario in sorted(amounts)
        ],
        columns=["month", "scenario", "refunds", "amount_usd"],
    )
    if frame.empty:
        return Section(
            "refunds",
            "Refunds issued",
            frame,
            f"No refunds have been issued to {filters.period_label} entrants.",
        )
    by_scenario: dict[str, float] = defaultdict(float)
    for (_, scenario), amount in amounts.items():
        by_scenario[scenario] += amount
    top = max(sorted(by_scenario), key=lambda s: by_scenario[s])
    total = sum(amounts.values())
    n = sum(counts.values())
    title = (
        f"{_money(total)} refunded in {n} refund{'s' if n != 1 else ''}; "
        f"most for {top.replace('_', ' ')} ({_money(by_scenario[top])})"
    )
    return Section("refunds", title, frame)


def retention_group(reached: Mapping[str, bool]) -> str:
    """completed | engaged | not_engaged (engaged = the first call was held)."""
    if not reached.get("first_meeting"):
        return "not_engaged"
    return "completed" if reached.get("final_outreach") else "engaged"


def retention(
    customers: pd.DataFrame, prog: pd.DataFrame, as_of: dt.date, filters: Filters
) -> Section:
    cutoff = as_of - dt.timedelta(days=RETENTION_MIN_DAYS)
    eligible = customers[customers["segment_entered_on"].map(lambda d: d <= cutoff)]
    reached: dict[str, set[str]] = defaultdict(set)
    for cid, step, done in prog[["customer_id", "step", "reached"]].itertuples(
        index=False, name=None
    ):
        if done:
            reached[cid].add(step)
    tallies: dict[str, list[float]] = {key: [0, 0, 0.0, 0.0] for key in RETENTION_GROUPS}
    for record in eligible.to_dict("records"):
        steps_done = reached.get(record["customer_id"], set())
        group = retention_group({step: step in steps_done for step in timeline.STEPS})
        kept = record["status"] != "churned" and float(record["events_last_30"]) > 0
        for key in ("all", group):
            tally = tallies[key]
            tally[0] += 1
            tally[1] += int(kept)
            tally[2] += float(record["first_month_spend_usd"])
            tally[3] += float(record["latest_spend_usd"])
    rows: list[dict[str, Any]] = []
    for key, label in RETENTION_GROUPS.items():
        count, kept, first, latest = tallies[key]
        rows.append(
            {
                "group": key,
                "group_label": label,
                "customers": int(count),
                "retained": int(kept),
                "retention_pct": _rate(kept, count),
                "target_pct": RETENTION_TARGET,
                "first_month_spend_usd": pricing.usd(first),
                "latest_spend_usd": pricing.usd(latest),
                "spend_change_pct": round(latest / first - 1, 4) if first else None,
            }
        )
    frame = pd.DataFrame(rows)
    frame["spend_change_pct"] = frame["spend_change_pct"].astype(float)
    if not tallies["all"][0]:
        return Section(
            "retention",
            "3-month logo retention",
            frame.iloc[0:0],
            f"None of the {filters.period_label} entrants entered {RETENTION_MIN_DAYS}+ days "
            f"before {as_of.isoformat()}, so 3-month retention cannot be measured yet.",
        )
    by_group = {row["group"]: row for row in rows}
    overall = by_group["all"]["retention_pct"]
    verdict = "meets" if overall >= RETENTION_TARGET else "below"
    title = (
        f"3-month logo retention {_pct(overall)} ({verdict} the {_pct(RETENTION_TARGET)} target)"
    )
    compared = [
        f"{_pct(by_group[key]['retention_pct'])} for {words}"
        for key, words in (("completed", "completed"), ("not_engaged", "did not engage"))
        if by_group[key]["customers"]
    ]
    if compared:
        title += ": " + " vs ".join(compared)
    spend = by_group["all"]["spend_change_pct"]
    if spend is not None:
        title += f"; spend {spend * 100:+.0f}% since the first month"
    frame = frame[frame["customers"] > 0].reset_index(drop=True)
    return Section("retention", title, frame)


def team(prog: pd.DataFrame, filters: Filters) -> Section:
    columns = [
        "owner",
        "open_customers",
        "overdue_customers",
        "steps_due",
        "steps_on_time",
        "on_time_pct",
    ]
    tallies: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    seen: set[str] = set()
    for cid, owner, program_status, next_status, came_due, on_time in prog[
        ["customer_id", "owner", "program_status", "next_action_status", "came_due", "on_time"]
    ].itertuples(index=False, name=None):
        tally = tallies[str(owner)]
        if cid not in seen:
            seen.add(cid)
            if program_status not in ("completed", "churned"):
                tally[0] += 1
                tally[1] += int(next_status == "overdue")
        tally[2] += int(bool(came_due))
        tally[3] += int(bool(on_time))
    rows: list[dict[str, Any]] = [
        {
            "owner": owner,
            "open_customers": open_,
            "overdue_customers": overdue,
            "steps_due": due,
            "steps_on_time": on_time,
            "on_time_pct": _rate(on_time, due),
        }
        for owner, (open_, overdue, due, on_time) in sorted(tallies.items())
    ]
    frame = pd.DataFrame(rows, columns=columns)
    if not rows:
        return Section(
            "team",
            "Owners' load and on-time rate",
            frame,
            f"No owner has customers among the {filters.period_label} entrants.",
        )
    busiest = min(rows, key=lambda row: (-row["open_customers"], row["owner"]))
    rates = [row["on_time_pct"] for row in rows]
    title = (
        f"{busiest['owner']} carries the most open customers ({busiest['open_customers']}, "
        f"{busiest['overdue_customers']} overdue); on-time rates run "
        f"{_pct(min(rates))}-{_pct(max(rates))}"
    )
    return Section("team", title, frame)


def compute(data: OutcomesData, filters: Filters) -> Outcomes:
    """Every outcome for the customers the filters select."""
    chosen = filters.select(data.customers)
    ids = set(chosen["customer_id"])
    prog = progress(chosen, data.steps[data.steps["customer_id"].isin(ids)], data.as_of)
    return Outcomes(
        filters=filters,
        as_of=data.as_of,
        entrants=len(chosen),
        funnel=funnel(prog, len(chosen), filters),
        cohorts=cohorts(prog, filters),
        speed=speed(prog, filters),
        savings=savings(data.findings[data.findings["customer_id"].isin(ids)], filters),
        refunds=refunds(data.refunds[data.refunds["customer_id"].isin(ids)], filters),
        retention=retention(chosen, prog, data.as_of, filters),
        team=team(prog, filters),
        progress=prog,
    )


# ---------------------------------------------------------------------- CSV


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The CSV a leader downloads: exactly the chart's frame, formula-safe."""
    return csv_safe.to_safe_csv(frame)


# ------------------------------------------------------------------- loader


def billed_metrics() -> list[str]:
    """The usage metrics the price list bills (anonymous events come from events)."""
    metrics = {line.metric for line in pricing.price_list().lines} - {"anonymous_events"}
    return sorted(metrics | {"events", "identified_events"})


def _window_sums(
    session: Session, spans: Iterable[tuple[dt.date, dt.date, list[str]]], metrics: list[str]
) -> pd.DataFrame:
    """Usage summed per customer and metric over each customer's own window.

    One query per (window, up to 500 customers): customer, metric and date
    bounds all hit the usage primary key (customer_id, metric, date), so only
    the rows inside each window are read, the same on SQLite and PostgreSQL.
    """
    usage = models.table(models.Usage)
    parts: list[Any] = []
    for start, end, ids in spans:
        for first in range(0, len(ids), 500):
            stmt = (
                select(usage.c.customer_id, usage.c.metric, func.sum(usage.c.value))
                .where(
                    usage.c.customer_id.in_(ids[first : first + 500]),
                    usage.c.metric.in_(metrics),
                    usage.c.date.between(start, end),
                )
                .group_by(usage.c.customer_id, usage.c.metric)
            )
            parts.extend(session.execute(stmt).all())
    rows = pd.DataFrame(parts, columns=["customer_id", "metric", "value"])
    if rows.empty:
        return pd.DataFrame(columns=metrics, dtype=float)
    rows["value"] = rows["value"].astype(float)
    wide = rows.pivot(index="customer_id", columns="metric", values="value")
    return wide.reindex(columns=metrics).fillna(0.0)


def load(engine: Engine, as_of: dt.date) -> OutcomesData:
    """Read what the outcomes need in a few indexed queries (usage summed in SQL)."""
    customer = models.table(models.Customer)
    step = models.table(models.Step)
    subscription = models.table(models.Subscription)
    finding = models.table(models.FindingState)
    refund = models.table(models.Refund)
    metrics = billed_metrics()
    with db.read_session(engine) as session:
        customers = session.execute(
            select(
                customer.c.customer_id,
                customer.c.owner,
                customer.c.plan,
                customer.c.entry_reason,
                customer.c.segment_entered_on,
                customer.c.extended_until,
                customer.c.status,
            ).order_by(customer.c.customer_id)
        ).all()
        steps = session.execute(
            select(step.c.customer_id, step.c.step, step.c.status, step.c.date)
        ).all()
        subscriptions = session.execute(
            select(subscription.c.customer_id, subscription.c.product)
        ).all()
        findings = session.execute(
            select(
                finding.c.customer_id,
                finding.c.rule,
                finding.c.state,
                finding.c.first_seen_on,
                finding.c.fixed_on,
                finding.c.updated_at,
                finding.c.est_monthly_saving_usd,
            )
        ).all()
        refund_rows = session.execute(
            select(
                refund.c.customer_id,
                refund.c.scenario,
                refund.c.amount_usd,
                refund.c.recorded_on,
                refund.c.status,
            )
        ).all()
        ids = [row.customer_id for row in customers]
        latest = _window_sums(
            session, [(as_of - dt.timedelta(days=ACTIVE_WINDOW_DAYS - 1), as_of, ids)], metrics
        )
        # The first month's bill only matters for retention: customers 90+ days in.
        cutoff = as_of - dt.timedelta(days=RETENTION_MIN_DAYS)
        by_entry: dict[dt.date, list[str]] = defaultdict(list)
        for row in customers:
            if row.segment_entered_on <= cutoff:
                by_entry[row.segment_entered_on].append(row.customer_id)
        first_month = _window_sums(
            session,
            [
                (entered, entered + dt.timedelta(days=FIRST_MONTH_DAYS - 1), members)
                for entered, members in sorted(by_entry.items())
            ],
            metrics,
        )

    products = sorted({product for _, product in subscriptions})
    subscribed = pd.DataFrame(False, index=ids, columns=products)
    for cid, product in subscriptions:
        subscribed.at[cid, product] = True
    latest = latest.reindex(ids).fillna(0.0)
    latest_bill = pricing.bill_frame(latest, subscribed)["total"].to_dict()
    first_bill = pricing.bill_frame(first_month.reindex(ids).fillna(0.0), subscribed)["total"]
    first_bills = first_bill.to_dict()
    events = latest["events"].to_dict()
    return OutcomesData.from_records(
        as_of,
        customers=[
            {
                **row._asdict(),
                "events_last_30": float(events.get(row.customer_id, 0.0)),
                "first_month_spend_usd": float(first_bills.get(row.customer_id, 0.0)),
                "latest_spend_usd": float(latest_bill.get(row.customer_id, 0.0)),
            }
            for row in customers
        ],
        steps=[row._asdict() for row in steps],
        findings=[
            {
                "customer_id": cid,
                "rule": rule,
                "state": state,
                "identified_on": first_seen or fixed_on or (updated.date() if updated else None),
                "fixed_on": fixed_on,
                "est_monthly_saving_usd": saving,
            }
            for cid, rule, state, first_seen, fixed_on, updated, saving in findings
        ],
        refunds=[row._asdict() for row in refund_rows],
    )
