"""Customers with daily usage written straight to a test database (audit, refunds, findings,
health and outreach tests)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, insert

from lib.audit.thresholds import RuleSettings, Thresholds
from lib.store import db, models

AS_OF = dt.date(2026, 3, 15)
DAYS = 120  # usage days ending on AS_OF: 90 baseline days, then the 30-day window


def day(index: int, as_of: dt.date = AS_OF) -> dt.date:
    """Day `index` of the 120 (0 = the first baseline day, 119 = as-of)."""
    return as_of - dt.timedelta(days=DAYS - 1 - index)


def add_customer(
    engine: Engine,
    customer_id: str,
    daily: Mapping[str, float | Sequence[float]],
    *,
    products: Mapping[str, float | None] | None = None,
    config: Mapping[str, str] | None = None,
    entered: dt.date = AS_OF - dt.timedelta(days=20),
    name: str | None = None,
    plan: str = "teams",
    owner: str = "dana",
    status: str = "active",
    steps: Mapping[str, tuple[str, dt.date]] | None = None,
    as_of: dt.date = AS_OF,
) -> None:
    """A customer with 120 days of usage: a metric is one value every day, or 120 values."""
    products = {"product_analytics": None} if products is None else products
    rows = []
    for metric, values in daily.items():
        series = [float(values)] * DAYS if isinstance(values, int | float) else list(values)
        assert len(series) == DAYS, f"{metric}: {len(series)} days, expected {DAYS}"
        rows += [
            {"customer_id": customer_id, "metric": metric, "date": day(i, as_of), "value": int(v)}
            for i, v in enumerate(series)
            if v
        ]
    with db.write_session(engine, "test") as session:
        session.add(
            models.Customer(
                customer_id=customer_id,
                name=name or customer_id.title(),
                owner=owner,
                plan=plan,
                segment_entered_on=entered,
                status=status,
            )
        )
        session.flush()
        for product, limit in products.items():
            session.add(
                models.Subscription(
                    customer_id=customer_id, product=product, billing_limit_usd=limit
                )
            )
        for key, value in (config or {}).items():
            session.add(models.ConfigValue(customer_id=customer_id, key=key, value=value))
        for step, (status_, date) in (steps or {}).items():
            session.add(models.Step(customer_id=customer_id, step=step, status=status_, date=date))
        if rows:
            session.execute(insert(models.table(models.Usage)), rows)


def window_sums(
    daily: Mapping[str, float | Sequence[float]],
) -> tuple[dict[str, float], dict[str, float]]:
    """(the 30-day window's sums, the 3-month average month) of `daily`."""
    last: dict[str, float] = {}
    baseline: dict[str, float] = {}
    for metric, values in daily.items():
        series = [float(values)] * DAYS if isinstance(values, int | float) else list(values)
        ints = [int(v) for v in series]
        last[metric] = float(sum(ints[DAYS - 30 :]))
        baseline[metric] = float(sum(ints[: DAYS - 30])) / 3.0
    return last, baseline


def with_values(base: Thresholds, rule: str, **values: Any) -> Thresholds:
    """`base` with some of one rule's values replaced (what-ifs at a rule's edges)."""
    merged = {**base.rule(rule).values, **values}
    return dataclasses.replace(base, rules={**base.rules, rule: RuleSettings(rule, merged)})
