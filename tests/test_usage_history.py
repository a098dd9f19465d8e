"""Usage charts' data: 120 daily values per metric (lib.store.usage_history), spike days as
the audit defines them (lib.audit.spike_days)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Engine

from lib.audit import spike_days
from lib.store import db, models, usage_history
from lib.windows import Windows

AS_OF = dt.date(2026, 3, 16)
START = usage_history.history_start(AS_OF)  # 120 days back, inclusive
WINDOW = Windows(AS_OF).start  # 30 days back, inclusive


def series(values: dict[int, int], base: int, baseline_days: int = 90) -> pd.DataFrame:
    """120 days of one metric: `base` on the last `baseline_days` baseline days (and in
    the window), overridden by `values` (day index from START -> value)."""
    rows = []
    for i in range(usage_history.HISTORY_DAYS):
        day = START + dt.timedelta(days=i)
        in_baseline = day < WINDOW
        value = base if (not in_baseline or i >= 90 - baseline_days) else 0
        rows.append({"date": day, "metric": "events", "value": values.get(i, value)})
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    "values,base,baseline_days,spikes",
    [
        ({}, 100, 90, []),  # flat: no spike
        ({110: 1001}, 100, 90, [110]),  # a window day above 10x the average baseline day
        ({110: 1000}, 100, 90, []),  # exactly 10x: not above
        ({40: 5000}, 100, 90, [40]),  # a baseline day far above (it raises the average a bit)
        ({110: 5000}, 100, 59, []),  # under 60 baseline days with data: no baseline, no spikes
        ({110: 5000}, 100, 60, [110]),  # 60 days is enough
        ({110: 5}, 0, 90, []),  # a zero baseline: no ratio, no spikes
    ],
)
def test_spike_days(
    values: dict[int, int], base: int, baseline_days: int, spikes: list[int]
) -> None:
    frame = series(values, base, baseline_days)
    marked = spike_days.mark_spikes(frame, AS_OF)
    assert [i for i, spike in enumerate(marked) if spike] == spikes


def test_daily_fills_missing_days_and_metrics(engine: Engine) -> None:
    with db.write_session(engine, "setup") as session:
        session.add(
            models.Customer(customer_id="c", name="C", segment_entered_on=AS_OF, status="active")
        )
        session.flush()
        session.add_all(
            [
                models.Usage(customer_id="c", metric="events", date=AS_OF, value=7),
                models.Usage(customer_id="c", metric="events", date=START, value=3),
                # outside the 120 days: left out
                models.Usage(
                    customer_id="c", metric="events", date=START - dt.timedelta(days=1), value=9
                ),
            ]
        )
    with db.read_session(engine) as session:
        frame = usage_history.daily(session, "c", AS_OF, ["events", "recordings"])
    assert len(frame) == 2 * usage_history.HISTORY_DAYS
    events = frame[frame["metric"] == "events"].set_index("date")["value"]
    assert (events[AS_OF], events[START], int(events.sum())) == (7, 3, 10)
    assert int(frame[frame["metric"] == "recordings"]["value"].sum()) == 0


def test_products_in_contract_order(engine: Engine) -> None:
    with db.write_session(engine, "setup") as session:
        session.add(
            models.Customer(customer_id="c", name="C", segment_entered_on=AS_OF, status="active")
        )
        session.flush()
        for product in ("session_replay", "product_analytics", "surveys"):
            session.add(models.Subscription(customer_id="c", product=product))
    with db.read_session(engine) as session:
        products = usage_history.subscribed_products(session, "c")
    assert products == ["product_analytics", "session_replay", "surveys"]
