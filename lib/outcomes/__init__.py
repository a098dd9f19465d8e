"""Program outcomes for leadership: `compute(data, filters)` -> one Section a chart. Pure:
`data`, `section`, `progression` (funnel, completion, cohorts, speed), `money`,
`retention_team`, `engagement` (response rate, end stages), `overview`, `headline` (each
number beside the previous period's), `links` (to the customers behind a chart); database:
`store` (`load(session, as_of)`)."""

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
from lib.outcomes.headline import Metric, headline
from lib.outcomes.links import Link, customers_query, customers_url, section_links, team_table
from lib.outcomes.money import refunds, savings
from lib.outcomes.overview import Outcomes, compute, csv_bytes
from lib.outcomes.progression import (
    PROGRESS_COLUMNS,
    Completion,
    cohorts,
    completion,
    funnel,
    progress,
    speed,
)
from lib.outcomes.retention_team import retention, retention_group, team
from lib.outcomes.section import SMALL_GROUP, Section
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
    "SMALL_GROUP",
    "SPEED_PERCENTILE",
    "SPEED_WORDS",
    "STEP_COLUMNS",
    "UNASSIGNED",
    "Completion",
    "Filters",
    "Link",
    "Metric",
    "Outcomes",
    "OutcomesData",
    "Section",
    "billed_metrics",
    "cohorts",
    "completion",
    "compute",
    "csv_bytes",
    "customers_query",
    "customers_url",
    "end_stages",
    "funnel",
    "headline",
    "load",
    "period_presets",
    "progress",
    "refunds",
    "response",
    "retention",
    "retention_group",
    "savings",
    "section_links",
    "speed",
    "team",
    "team_table",
]
