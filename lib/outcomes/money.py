"""Savings identified vs realised, and refunds issued, by month (pure)."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from lib import labels, pricing
from lib.outcomes.data import Filters
from lib.outcomes.section import Section, month_key, pct, rate


def savings(findings: pd.DataFrame, filters: Filters) -> Section:
    identified: dict[str, float] = defaultdict(float)
    realised: dict[str, float] = defaultdict(float)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for record in findings.to_dict("records"):
        saving = float(record["est_monthly_saving_usd"] or 0.0)
        identified_on = record["identified_on"] or record["fixed_on"]
        # A dismissed finding was never a saving.
        if identified_on is not None and record["state"] != "dismissed":
            identified[month_key(identified_on)] += saving
            counts[month_key(identified_on)][0] += 1
        if record["state"] == "fixed" and record["fixed_on"] is not None:
            realised[month_key(record["fixed_on"])] += saving
            counts[month_key(record["fixed_on"])][1] += 1
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
        f"{labels.money(total_identified, cents=False)}/month of savings identified, "
        f"{labels.money(total_realised, cents=False)}/month realised "
        f"({pct(rate(total_realised, total_identified))} of identified)"
    )
    return Section("savings", title, frame)


def refunds(refund_rows: pd.DataFrame, filters: Filters) -> Section:
    issued = refund_rows[refund_rows["status"] == "issued"]
    amounts: dict[tuple[str, str], float] = defaultdict(float)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for record in issued.to_dict("records"):
        day = record["issued_on"] or record["recorded_on"]
        if day is None:
            continue
        key = (month_key(day), str(record["scenario"]))
        amounts[key] += float(record["amount_usd"])
        counts[key] += 1
    frame = pd.DataFrame(
        [
            {
                "month": month,
                "scenario": scenario,
                "scenario_label": labels.label("refund_scenario", scenario),
                "refunds": counts[(month, scenario)],
                "amount_usd": pricing.usd(amounts[(month, scenario)]),
            }
            for month, scenario in sorted(amounts)
        ],
        columns=["month", "scenario", "scenario_label", "refunds", "amount_usd"],
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
        f"{labels.money(total, cents=False)} refunded in {n} refund{'s' if n != 1 else ''}; "
        f"most for {labels.label('refund_scenario', top).lower()} "
        f"({labels.money(by_scenario[top], cents=False)})"
    )
    return Section("refunds", title, frame)
