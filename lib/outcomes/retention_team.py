"""3-month logo retention and spend change by engagement group, and each owner's load
and on-time rate (pure)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import pandas as pd

from lib import pricing
from lib.outcomes.data import RETENTION_GROUPS, RETENTION_MIN_DAYS, RETENTION_TARGET, Filters
from lib.outcomes.section import SMALL_GROUP, Section, pct, rate, sized
from lib.program import timeline


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
                "small_group": count < SMALL_GROUP,
                "retained": int(kept),
                "retention_pct": rate(kept, count),
                "retention_label": sized(rate(kept, count), int(count)),
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
        f"3-month logo retention {by_group['all']['retention_label']}, {verdict} the "
        f"{pct(RETENTION_TARGET)} target"
    )
    compared = [
        f"{by_group[key]['retention_label']} for {words}"
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
        "on_time_label",
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
            "on_time_pct": rate(on_time, due),
            "on_time_label": sized(rate(on_time, due), due),
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
        f"{pct(min(rates))}-{pct(max(rates))}"
    )
    return Section("team", title, frame)
