"""Program outcomes for leadership: `compute(data, filters)` -> one Section a chart. Pure:
`data`, `section`, `progression` (funnel, cohorts, speed), `money`, `retention_team`,
`engagement` (response rate, end stages), `overview`; database: `store`
(`load(session, as_of)`)."""

from __future__ import annotations

from lib.outcomes.data import (
    ACTIVE_WINDOW_DAYS,
    CUSTOMER_COLUMNS,
    DEFINITIONS,
    FINDING_COLUMNS,
    FIRST_MONTH_DAYS,
    MILESTONES,
    REFUND_COLUMNS,
    REPLY_COLUMNS,
    RETENTION_GROUPS,
    RETENTION_MIN_DAYS,
    RETENTION_TARGET,
    SPEED_PERCENTILE,
    SPEED_WORDS,
    STEP_COLUMNS,
    UNASSIGNED,
    Filters,
    OutcomesData,
    period_presets,
)
from lib.outcomes.engagement import END_GROUPS, end_stages, response
from lib.outcomes.money import refunds, savings
from lib.outcomes.overview import Outcomes, compute, csv_bytes
from lib.outcomes.progression import PROGRESS_COLUMNS, cohorts, funnel, progress, speed
from lib.outcomes.retention_team import retention, retention_group, team
from lib.outcomes.section import Section
from lib.outcomes.store import billed_metrics, load

__all__ = [
    "ACTIVE_WINDOW_DAYS",
    "CUSTOMER_COLUMNS",
    "DEFINITIONS",
    "END_GROUPS",
    "FINDING_COLUMNS",
    "FIRST_MONTH_DAYS",
    "MILESTONES",
    "PROGRESS_COLUMNS",
    "REFUND_COLUMNS",
    "REPLY_COLUMNS",
    "RETENTION_GROUPS",
    "RETENTION_MIN_DAYS",
    "RETENTION_TARGET",
    "SPEED_PERCENTILE",
    "SPEED_WORDS",
    "STEP_COLUMNS",
    "UNASSIGNED",
    "Filters",
    "Outcomes",
    "OutcomesData",
    "Section",
    "billed_metrics",
    "cohorts",
    "compute",
    "csv_bytes",
    "end_stages",
    "funnel",
    "load",
    "period_presets",
    "progress",
    "refunds",
    "response",
    "retention",
    "retention_group",
    "savings",
    "speed",
    "team",
]
