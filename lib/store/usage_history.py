"""One customer's daily usage over the last 120 days, for the usage charts."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from lib.store import models
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


def history_start(as_of: dt.date) -> dt.date:
    return as_of - dt.timedelta(days=HISTORY_DAYS - 1)


def subscribed_products(session: Session, customer_id: str) -> list[str]:
    """The customer's products, in the contract's order (analytics first)."""
    found = set(
        session.scalars(
            select(models.Subscription.product).where(
                models.Subscription.customer_id == customer_id
            )
        )
    )
    return [p for p in PRODUCTS if p in found] + sorted(found - set(PRODUCTS))


def daily(session: Session, customer_id: str, as_of: dt.date, metrics: list[str]) -> pd.DataFrame:
    """Columns date, metric, value: one row per day (missing days are 0) and metric."""
    start = history_start(as_of)
    usage = models.table(models.Usage)
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
    return values.rename("value").reset_index()
