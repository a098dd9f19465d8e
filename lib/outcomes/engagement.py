"""The response rate to the initial outreach beside the handbook's benchmark, and where
each cohort ended in the engagement pipeline (pure)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd

from lib.outcomes.data import Filters
from lib.outcomes.section import SMALL_GROUP, Section, pct, rate, size, sized
from lib.program import settings
from lib.program.stage import STAGE_LABELS
from lib.vocabulary import END_STAGES

IN_PROGRAM = "in_program"  # not at an end stage yet
END_GROUPS: dict[str, str] = {
    **{stage: STAGE_LABELS[stage] for stage in END_STAGES},
    IN_PROGRAM: "Still in the program",
}


def response(prog: pd.DataFrame, replies: pd.DataFrame, filters: Filters) -> Section:
    """Per entry month: entrants whose initial outreach is done, and how many replied on or
    after it (any answer recorded, up to as-of)."""
    benchmark = settings.load().response_rate_benchmark
    replied_on: dict[str, list[Any]] = defaultdict(list)
    for cid, on in replies[["customer_id", "on"]].itertuples(index=False, name=None):
        if on is not None:
            replied_on[cid].append(on)
    sent = prog[(prog["step"] == "initial_outreach") & prog["reached"]]
    tallies: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for cid, month, done_on in sent[["customer_id", "entry_month", "done_on"]].itertuples(
        index=False, name=None
    ):
        tally = tallies[str(month)]
        tally[0] += 1
        tally[1] += int(any(day >= done_on for day in replied_on.get(cid, ())))
    rows: list[dict[str, Any]] = [
        {
            "entry_month": month,
            "outreach_sent": sent_count,
            "replied": replied,
            "response_pct": rate(replied, sent_count),
            "response_label": sized(rate(replied, sent_count), sent_count),
            "small_group": sent_count < SMALL_GROUP,
            "benchmark_pct": benchmark,
        }
        for month, (sent_count, replied) in sorted(tallies.items())
    ]
    columns = [
        "entry_month",
        "outreach_sent",
        "replied",
        "response_pct",
        "response_label",
        "small_group",
        "benchmark_pct",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    if frame.empty:
        return Section(
            "response",
            "Response rate to the initial outreach",
            frame,
            f"No initial outreach to {filters.period_label} entrants is recorded yet, so there "
            "is no response rate.",
        )
    total_sent, total_replied = int(frame["outreach_sent"].sum()), int(frame["replied"].sum())
    overall = rate(total_replied, total_sent)
    verdict = "at or above" if overall >= benchmark else "below"
    title = (
        f"{pct(overall)} of {filters.period_label} entrants replied to the initial outreach "
        f"({total_replied} of {total_sent}; {size(total_sent)}), {verdict} the handbook's "
        f"{pct(benchmark)}"
    )
    return Section("response", title, frame)


def end_stages(customers: pd.DataFrame, filters: Filters) -> Section:
    """Per entry month: how many entrants are at each end stage, and how many are still in
    the program."""
    rows: list[dict[str, Any]] = []
    if len(customers):
        months = customers["segment_entered_on"].map(lambda d: f"{d:%Y-%m}")
        groups = customers["stage"].map(lambda s: s if s in END_STAGES else IN_PROGRAM)
        counts = pd.crosstab(months, groups).reindex(columns=list(END_GROUPS), fill_value=0)
        table: dict[str, dict[str, int]] = {
            str(month): {str(k): int(v) for k, v in row.items()}
            for month, row in counts.to_dict("index").items()
        }
        for month in sorted(table):
            entrants = sum(table[month].values())
            for group, label in END_GROUPS.items():
                count = table[month][group]
                rows.append(
                    {
                        "entry_month": str(month),
                        "month_label": f"{month} ({size(entrants)})",
                        "stage": group,
                        "stage_label": label,
                        "entrants": entrants,
                        "customers": count,
                        "share_pct": rate(count, entrants),
                    }
                )
    columns = [
        "entry_month",
        "month_label",
        "stage",
        "stage_label",
        "entrants",
        "customers",
        "share_pct",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    if frame.empty:
        return Section(
            "stages",
            "End stages by entry month",
            frame,
            f"No customers entered the program in {filters.period_label} with these filters.",
        )
    totals = frame.groupby("stage")["customers"].sum()
    entrants = int(frame.drop_duplicates("entry_month")["entrants"].sum())
    ended = entrants - int(totals.get(IN_PROGRAM, 0))
    if not ended:
        title = f"None of the {entrants} {filters.period_label} entrants has finished the program"
    else:
        parts = [
            f"{pct(rate(int(totals.get(stage, 0)), ended))} {STAGE_LABELS[stage].lower()}"
            for stage in END_STAGES
        ]
        title = (
            f"Of the {filters.period_label} entrants, {ended} of {entrants} finished "
            f"({size(ended)}): " + ", ".join(parts)
        )
    return Section("stages", title, frame)
