"""One customer's daily usage per product over the last 120 days, with spike days marked.

The chart metric of each product is the volume it bills (events, recordings,
flag requests, ...). A spike day is a day whose value is more than
`SPIKE_DAY_FACTOR` times the series' median day (the median, not the mean,
so the spike itself does not raise the bar); a series whose median day is
zero has no spikes. The 30-day billing window is as-of - 29 .. as-of, as in
lib.report.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine, select

from lib import db, models
from lib.report import WINDOW_DAYS

HISTORY_DAYS = 120
SPIKE_DAY_FACTOR = 10.0

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
    with db.read_session(engine) as session:
        found = session.scalars(
            select(models.Subscription.product).where(
                models.Subscription.customer_id == customer_id
            )
        )
        return sorted(found)


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
    out["spike"] = mark_spikes(out)
    return out


def mark_spikes(frame: pd.DataFrame) -> pd.Series:
    """True on the days of each metric above SPIKE_DAY_FACTOR x that metric's median day."""
    medians = frame.groupby("metric")["value"].transform("median")
    return (medians > 0) & (frame["value"] > SPIKE_DAY_FACTOR * medians)
