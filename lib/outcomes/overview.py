"""Every outcome for one set of filters (compute -> Outcomes: completion and the nine
sections), and the CSV a leader downloads (pure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from lib import csv_safe
from lib.outcomes.data import Filters, OutcomesData
from lib.outcomes.engagement import end_stages, response
from lib.outcomes.money import refunds, savings
from lib.outcomes.progression import Completion, cohorts, completion, funnel, progress, speed
from lib.outcomes.retention_team import retention, team
from lib.outcomes.section import Section


@dataclass(frozen=True)
class Outcomes:
    """Every chart's section for one set of filters, and the numbers above them."""

    filters: Filters
    as_of: dt.date
    entrants: int
    completion: Completion  # among the entrants whose 8 weeks are over
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
    done = completion(prog, data.as_of)
    return Outcomes(
        filters=filters,
        as_of=data.as_of,
        entrants=len(chosen),
        completion=done,
        funnel=funnel(prog, len(chosen), filters, done),
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
