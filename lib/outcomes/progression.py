"""Each entrant's progress through the steps (on time, late, not reached), and the
sections drawn from it: the funnel, cohorts by entry month and speed (pure)."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lib import labels
from lib.outcomes.data import (
    MILESTONES,
    SPEED_PERCENTILE,
    SPEED_WORDS,
    STEP_COLUMNS,
    UNASSIGNED,
    Filters,
)
from lib.outcomes.section import Section, month_key, none_if_nan, pct, rate, size
from lib.program import timeline

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
        rows.extend(
            customer_rows(
                cid,
                record.get("owner") or UNASSIGNED,
                record["segment_entered_on"],
                tuple(sorted(recorded.get(cid, {}).items())),
                none_if_nan(record.get("extended_until")),
                record.get("status") or "active",
                as_of,
            )
        )
    frame = pd.DataFrame(rows, columns=list(PROGRESS_COLUMNS), dtype=object)
    for name in ("reached", "on_time", "late", "came_due"):
        frame[name] = frame[name].astype(bool)
    return frame


# Everything a customer's rows depend on is in the arguments, so they are kept: after a
# save only the customer written is computed again (the timelines of 10,000 entrants
# cost 1.2 s).
@functools.lru_cache(maxsize=32_768)
def customer_rows(
    cid: str,
    owner: str,
    entered: dt.date,
    recorded: tuple[tuple[str, timeline.RecordedStep], ...],
    extended_until: dt.date | None,
    customer_status: str,
    as_of: dt.date,
) -> tuple[tuple[Any, ...], ...]:
    """One customer's progress rows (PROGRESS_COLUMNS), from their timeline."""
    line = timeline.compute(
        entered_on=entered,
        as_of=as_of,
        recorded=dict(recorded),
        extended_until=extended_until,
        customer_status=customer_status,
    )
    next_status = line.next_action.status if line.next_action else None
    rows = []
    for name, state in line.steps.items():
        done_on = state.date if state.status == "done" else None
        reached = done_on is not None
        on_time = done_on is not None and done_on <= state.window_end
        rows.append(
            (
                cid,
                owner,
                entered,
                month_key(entered),
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
    return tuple(rows)


@dataclass(frozen=True)
class Completion:
    """Completion among the entrants whose 8 weeks (and any extension) are over: those still
    inside them have not had their chance, so they count neither way."""

    finished: int  # entrants whose final outreach window closed before the as-of date
    completed: int  # of those, final outreach done
    on_time: int  # of those, done inside its window
    still_in: int  # entrants still inside their 8 weeks (not counted)

    @property
    def completed_pct(self) -> float:
        return rate(self.completed, self.finished)

    @property
    def on_time_pct(self) -> float:
        return rate(self.on_time, self.finished)


def completion(prog: pd.DataFrame, as_of: dt.date) -> Completion:
    final = prog[prog["step"] == "final_outreach"]
    over = final["window_end"].map(lambda end: end < as_of).astype(bool)
    ended = final[over]
    return Completion(
        finished=len(ended),
        completed=int(ended["reached"].sum()),
        on_time=int(ended["on_time"].sum()),
        still_in=int((~over).sum()),
    )


def funnel(prog: pd.DataFrame, entrants: int, filters: Filters, done: Completion) -> Section:
    rows: list[dict[str, Any]] = []
    for step in timeline.STEPS:
        of_step = prog[prog["step"] == step]
        reached = int(of_step["reached"].sum())
        on_time = int(of_step["on_time"].sum())
        rows.append(
            {
                "step": step,
                "step_label": labels.label("step", step),
                "entrants": entrants,
                "reached": reached,
                "on_time": on_time,
                "late": reached - on_time,
                "not_reached": entrants - reached,
                "reached_pct": rate(reached, entrants),
                "on_time_pct": rate(on_time, entrants),
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
    if not done.finished:
        title = (
            f"None of the {entrants} {filters.period_label} entrants is past their 8 weeks yet; "
            f"{rows[-1]['reached']} completed early"
        )
    else:
        title = (
            f"{pct(done.completed_pct)} completed the program, {pct(done.on_time_pct)} on time, "
            f"of the {done.finished} customers whose 8 weeks are over ({size(done.finished)}; "
            f"entered {filters.period_label}); {done.still_in} still inside their 8 weeks"
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
                    "month_label": f"{month} ({size(entrants)})",
                    "step": step,
                    "step_label": labels.label("step", step),
                    "entrants": entrants,
                    "reached": reached,
                    "on_time": on_time,
                    "reached_pct": rate(reached, entrants),
                    "on_time_pct": rate(on_time, entrants),
                }
            )
    columns = [
        "entry_month",
        "month_label",
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
            f"{pct(only['reached_pct'])} of {only['entry_month']} entrants completed the "
            f"program; {pct(only['on_time_pct'])} on time ({size(only['entrants'])})"
        )
    else:
        # Ties go to the earliest month (rows are in month order).
        best = max(final, key=lambda row: row["reached_pct"])
        worst = min(final, key=lambda row: row["reached_pct"])
        title = (
            f"Completion by entry month runs from {pct(worst['reached_pct'])} "
            f"({worst['entry_month']}, {size(worst['entrants'])}) to {pct(best['reached_pct'])} "
            f"({best['entry_month']}, {size(best['entrants'])}); on time at most "
            f"{pct(max(row['on_time_pct'] for row in final))}"
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
