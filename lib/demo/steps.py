"""The demo's recorded steps and meetings (pure): each customer's history consistent
with the timeline as of the data set's date (most on time, some late, some missing)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from lib.program import timeline


def steps_and_meetings(
    rng: np.random.Generator,
    customers: pd.DataFrame,
    engaged: np.ndarray,
    diligent: np.ndarray,
    as_of: dt.date,
) -> tuple[list[tuple[str, str, str, dt.date]], list[dict[str, Any]]]:
    """Steps and meetings consistent with each customer's timeline as of `as_of`."""
    steps: list[tuple[str, str, str, dt.date]] = []
    meetings: list[dict[str, Any]] = []
    for i, row in enumerate(customers.to_dict("records")):
        _one_history(rng, row, bool(engaged[i]), bool(diligent[i]), as_of, steps, meetings)
    return steps, meetings


def _one_history(
    rng: np.random.Generator,
    row: dict[Any, Any],
    engaged: bool,
    on_time: bool,
    as_of: dt.date,
    steps: list[tuple[str, str, str, dt.date]],
    meetings: list[dict[str, Any]],
) -> None:
    customer_id: str = row["customer_id"]
    entered: dt.date = row["segment_entered_on"]
    extended: dt.date | None = row["extended_until"]

    def when(step: str, late: bool = False) -> dt.date:
        start, end = timeline.window(step, entered, extended)
        if late:
            return end + dt.timedelta(days=int(rng.integers(1, 6)))
        return start + dt.timedelta(days=int(rng.integers(0, (end - start).days + 1)))

    def record(step: str, status: str, date: dt.date) -> None:
        steps.append((customer_id, step, status, date))

    # Initial outreach: nearly always sent, the diligent on time.
    outreach_day = when("initial_outreach", late=not on_time and rng.random() < 0.5)
    if outreach_day <= as_of and rng.random() < 0.95:
        record("initial_outreach", "done", outreach_day)
    if not engaged:
        # Customers who never reply skip straight to the final outreach.
        skip_day = timeline.window("first_meeting", entered)[1]
        if skip_day < as_of and rng.random() < 0.8:
            for step in ("first_meeting", "second_meeting", "homework"):
                record(step, "skipped", skip_day)
    else:
        for step, kind, chance in (
            ("first_meeting", "first", 0.95),
            ("second_meeting", "second", 0.4),
        ):
            day = when(step, late=not on_time and rng.random() < 0.4)
            if rng.random() > chance:
                if step == "second_meeting" and day < as_of:
                    record(step, "skipped", day)
                continue
            starts = dt.datetime.combine(day, dt.time(int(rng.integers(14, 19)), 0))
            if day < as_of:
                record(step, "done", day)
                meetings.append(_meeting(row, kind, starts, "held"))
            elif day <= as_of + dt.timedelta(days=10):
                record(step, "scheduled", day)
                meetings.append(_meeting(row, kind, starts, "scheduled"))
        homework_day = when("homework", late=not on_time and rng.random() < 0.3)
        if homework_day < as_of and rng.random() < 0.85:
            record("homework", "done", homework_day)
    final_day = when("final_outreach", late=not on_time and rng.random() < 0.5)
    if final_day < as_of and rng.random() < 0.9 and row["status"] != "churned":
        record("final_outreach", "done", final_day)


def _meeting(row: dict[Any, Any], kind: str, starts: dt.datetime, status: str) -> dict[str, Any]:
    contact = str(row["name"]).split(" ")[0].lower()
    owner = str(row["owner"])
    return {
        "customer_id": row["customer_id"],
        "kind": kind,
        "owner": owner,
        "starts_at": starts,
        "timezone": "UTC",
        "duration_min": 30 if kind == "first" else 45,
        "attendees": [
            {"name": f"{contact.title()} CTO", "email": f"cto@{contact}.example"},
            {"name": owner.title(), "email": f"{owner}@posthog.example"},
        ],
        "agenda": "Review the audit findings and fix them together."
        if kind == "first"
        else "Your goals and KPIs, and how to track them.",
        "status": status,
        "notes": "Walked through the findings; customer will follow up."
        if status == "held"
        else None,
        "created_by": owner,
        "updated_by": owner,
        "version": 1,
    }
