"""One customer's daily usage per product over the last 120 days, with spike days marked.

The chart metric of each product is the volume it bills (events, recordings,
flag requests, ...). A spike day follows the audit's `usage_spike` rule
(data/audit_thresholds.toml): a day above `max_day_ratio` (10) times the
baseline's average day, the baseline being the 90 days before the 30-day
window, and only when the baseline has `min_baseline_days` days with data.
The 30-day billing window is as-of - 29 .. as-of, as in lib.report.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine, select

from lib import audit, db, models
from lib.report import BASELINE_DAYS, WINDOW_DAYS
from lib.vocabulary import PRODUCTS

HISTORY_DAYS = 120

# product -> the daily metrics its chart draws (the first is the billed volume).
PRODUCT_METRICS: dict[str, tuple[str, ...]] = {
    "product_analytics": ("events", "identified_events"),
    "session_replay": ("recordings",),
    "feature_flags": ("flag_requests",),
    "surveys": ("survey_responses",),
    "data_warehouse": ("warehouse_rows",),
    "error_tracking": ("exceptions",),
    "group_analytics": ("identified_events", "group_events"),
    "data_pipelines": ("events",),
}


def window_start(as_of: dt.date) -> dt.date:
    return as_of - dt.timedelta(days=WINDOW_DAYS - 1)


def history_start(as_of: dt.date) -> dt.date:
    return as_of - dt.timedelta(days=HISTORY_DAYS - 1)


def subscribed_products(engine: Engine, customer_id: str) -> list[str]:
    """The customer's products, in the contract's order (analytics first)."""
    with db.read_session(engine) as session:
        found = set(
            session.scalars(
                select(models.Subscription.product).where(
                    models.Subscription.customer_id == customer_id
                )
            )
        )
    return [p for p in PRODUCTS if p in found] + sorted(found - set(PRODUCTS))


def daily(engine: Engine, customer_id: str, as_of: dt.date, metrics: list[str]) -> pd.DataFrame:
    """Columns date, metric, value: one row per day (missing days are 0) and metric."""
    start = history_start(as_of)
    usage = models.table(models.Usage)
    with db.read_session(engine) as session:
        rows = session.execute(
            select(usage.c.date, usage.c.metric, usage.c.value).where(
                usage.c.customer_id == customer_id,
                usage.c.metric.in_(metrics),
                usage.c.date.between(start, as_of),
            )
        ).all()
    stored = pd.DataFrame(rows, columns=["date", "metric", "value"])
    days = [start + dt.timedelta(days=i) for i in range(HISTORY_DAYS)]
    full = pd.MultiIndex.from_product([days, metrics], names=["date", "metric"])
    values = (
        stored.set_index(["date", "metric"])["value"].reindex(full).fillna(0).astype("int64")
        if not stored.empty
        else pd.Series(0, index=full, dtype="int64")
    )
    out = values.rename("value").reset_index()
    out["spike"] = mark_spikes(out, as_of)
    return out


def spike_day_ratio() -> float:
    return float(audit.thresholds().rule("usage_spike").number("max_day_ratio"))


def mark_spikes(
    frame: pd.DataFrame,
    as_of: dt.date,
    day_ratio: float | None = None,
    min_baseline_days: int | None = None,
) -> pd.Series:
    """True on the days above `day_ratio` x the metric's average baseline day."""
    rule = audit.thresholds().rule("usage_spike")
    ratio = spike_day_ratio() if day_ratio is None else day_ratio
    needed = (
        int(rule.number("min_baseline_days")) if min_baseline_days is None else min_baseline_days
    )
    baseline_end = window_start(as_of) - dt.timedelta(days=1)
    baseline_start = baseline_end - dt.timedelta(days=BASELINE_DAYS - 1)
    in_baseline = (frame["date"] >= baseline_start) & (frame["date"] <= baseline_end)
    baseline = frame["value"].where(in_baseline)
    average = baseline.groupby(frame["metric"]).transform("sum") / BASELINE_DAYS
    days_with_data = (baseline > 0).groupby(frame["metric"]).transform("sum")
    return ((days_with_data >= needed) & (average > 0) & (frame["value"] > ratio * average)).astype(
        bool
    )
