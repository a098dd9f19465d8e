"""Every outcome for one set of filters (compute -> Outcomes: headline numbers and the
nine sections), and the CSV a leader downloads (pure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from lib import csv_safe, labels
from lib.outcomes.data import Filters, OutcomesData
from lib.outcomes.engagement import end_stages, response
from lib.outcomes.money import refunds, savings
from lib.outcomes.progression import cohorts, funnel, progress, speed
from lib.outcomes.retention_team import retention, team
from lib.outcomes.section import Section, pct, rate


@dataclass(frozen=True)
class Outcomes:
    """Every chart's section for one set of filters, and the numbers above them."""

    filters: Filters
    as_of: dt.date
    entrants: int
    funnel: Section
    cohorts: Section
    speed: Section
    savings: Section
    refunds: Section
    retention: Section
    response: Section
    stages: Section
    team: Section
    progress: pd.DataFrame = field(repr=False)

    @property
    def headline(self) -> list[tuple[str, str]]:
        """The few numbers above the charts, as (label, text)."""
        numbers: list[tuple[str, str]] = [("Entrants", f"{self.entrants:,}")]
        final = self.funnel.frame[self.funnel.frame["step"] == "final_outreach"]
        if len(final):
            numbers.append(("Completed", pct(float(final["reached_pct"].iloc[0]))))
            numbers.append(("Completed on time", pct(float(final["on_time_pct"].iloc[0]))))
        retained = self.retention.frame[self.retention.frame["group"] == "all"]
        if len(retained):
            numbers.append(("3-month retention", pct(float(retained["retention_pct"].iloc[0]))))
        if not self.response.is_empty:
            frame = self.response.frame
            replied = rate(int(frame["replied"].sum()), int(frame["outreach_sent"].sum()))
            numbers.append(("Response rate", pct(replied)))
        if not self.savings.is_empty:
            realised = float(self.savings.frame["realised_usd"].sum())
            numbers.append(("Savings realised", f"{labels.money(realised, cents=False)}/mo"))
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
            self.response,
            self.stages,
            self.team,
        ]


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
        response=response(prog, data.replies[data.replies["customer_id"].isin(ids)], filters),
        stages=end_stages(chosen, filters),
        team=team(prog, filters),
        progress=prog,
    )


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The CSV a leader downloads: exactly the chart's frame, formula-safe."""
    return csv_safe.to_safe_csv(frame)
