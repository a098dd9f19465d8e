"""Health: the 0-10 score, its breakdown, risk signals and the relationship rating."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine

from lib.audit import health, health_store
from lib.errors import NotFound, UserError
from lib.store import db, models
from lib.store.customer_data import CustomerData, StepRow, UsageAggregates
from lib.vocabulary import METRICS
from lib.windows import AGGREGATES
from tests.audit_fixtures import AS_OF, add_customer

ENTERED = AS_OF - dt.timedelta(days=20)


def customer_data(
    windows: dict[str, dict[str, float]],
    *,
    products: tuple[str, ...] = ("product_analytics",),
    config: dict[str, str] | None = None,
    entered: dt.date = ENTERED,
    status: str = "active",
    steps: dict[str, StepRow] | None = None,
) -> CustomerData:
    """One customer ("c") with the given window sums (window -> metric -> value)."""

    def frame(name: str) -> pd.DataFrame:
        values = windows.get(name, {})
        return pd.DataFrame(
            [[float(values.get(m, 0.0)) for m in METRICS]], index=["c"], columns=METRICS
        )

    usage = UsageAggregates(**{name: frame(name) for name in AGGREGATES})
    customer = models.Customer(
        customer_id="c", name="C", segment_entered_on=entered, status=status, relationship_rating=4
    )
    return CustomerData(
        customers=[customer],
        steps={"c": steps or {}},
        subscriptions={"c": dict.fromkeys(products)},
        config={"c": config or {}},
        usage=usage,
    )


def healthy(**overrides: dict[str, float]) -> dict[str, dict[str, float]]:
    """A busy, steady customer: 8 people active, insights viewed, events flat."""
    windows: dict[str, dict[str, float]] = {
        "last_30": {"events": 3e6, "active_users": 150, "insights_viewed": 300},
        "prior_90": {"events": 9e6, "active_users": 450, "insights_viewed": 900},
        "max_day_30": {"active_users": 8},
        "last_3": {"active_users": 15},
        "last_7": {"events": 7e5, "active_users": 35, "insights_viewed": 70},
        "prev_7": {"events": 7e5},
        "days_30": {"events": 30, "active_users": 30, "insights_viewed": 30},
        "days_prior_90": {"events": 90, "active_users": 90, "insights_viewed": 90},
    }
    for name, values in overrides.items():
        windows[name] = {**windows.get(name, {}), **values}
    return windows


def component(h: health.Health, name: str) -> health.Component:
    (found,) = [c for c in h.breakdown if c.name == name]
    return found


def one(data: CustomerData) -> health.Health:
    return health.from_data(data, AS_OF)["c"]


def test_a_healthy_customer_scores_near_ten_and_the_breakdown_adds_up() -> None:
    h = one(customer_data(healthy()))
    assert sum(c.max_points for c in h.breakdown) == pytest.approx(10.0)
    assert h.score == pytest.approx(round(sum(c.points for c in h.breakdown), 1))
    assert h.score >= 9.0
    assert h.risks == []
    assert h.relationship_rating == 4
    assert h.as_json()["breakdown"][0]["name"] == "Active team"


@pytest.mark.parametrize(
    ("busiest", "points"),
    [
        (0, 0.0),  # nobody active on any day
        (1, 0.5),  # one person
        (2, 1.0),  # two
        (3, 1.5),  # three
        (4, 1.5),  # four: still the 3-4 band
        (5, 2.0),  # five or more: full points
    ],
)
def test_active_team_points(busiest: int, points: float) -> None:
    h = one(customer_data(healthy(max_day_30={"active_users": busiest})))
    assert component(h, "Active team").points == points


@pytest.mark.parametrize(
    ("last_3", "last_7", "last_30", "points"),
    [
        (5, 20, 100, 1.5),  # seen in the last 3 days
        (0, 20, 100, 1.0),  # in the last 7 days, not the last 3
        (0, 0, 100, 0.5),  # only earlier in the 30 days
        (0, 0, 0, 0.0),  # not in 30 days (reported before that)
    ],
)
def test_last_seen_points(last_3: float, last_7: float, last_30: float, points: float) -> None:
    windows = healthy(
        last_3={"active_users": last_3},
        last_7={"active_users": last_7},
        last_30={"active_users": last_30},
    )
    assert component(one(customer_data(windows)), "Last seen").points == points


@pytest.mark.parametrize(
    ("entered_days_ago", "first_meeting", "points"),
    [
        (20, ("done", AS_OF - dt.timedelta(days=5)), 1.5),  # call held
        (20, ("scheduled", AS_OF + dt.timedelta(days=2)), 1.0),  # booked
        (3, None, 0.75),  # first call not due yet: too early to judge
        (30, None, 0.0),  # first call window over, nothing booked: overdue
    ],
)
def test_replies_points(
    entered_days_ago: int, first_meeting: StepRow | None, points: float
) -> None:
    steps = {"first_meeting": first_meeting} if first_meeting else {}
    data = customer_data(
        healthy(), entered=AS_OF - dt.timedelta(days=entered_days_ago), steps=steps
    )
    assert component(one(data), "Replies").points == points


def test_product_engagement_is_shared_by_subscribed_products() -> None:
    data = customer_data(
        healthy(last_30={"recordings": 5_000, "recordings_viewed": 0}),
        products=("product_analytics", "session_replay"),
    )
    h = one(data)
    analytics = component(h, "Product: Product analytics")
    replay = component(h, "Product: Session replay")
    assert (analytics.points, analytics.max_points) == (1.5, 1.5)
    assert (replay.points, replay.max_points) == (0.0, 1.5)
    assert "0 recordings watched" in replay.detail


@pytest.mark.parametrize(
    ("windows", "status", "risk"),
    [
        # 30% fewer events: the tiered bill falls 37% under the 3-month average month
        (healthy(last_30={"events": 2.1e6}), "active", "forecast spend down 37%"),
        # this week's events 25% under last week's
        (healthy(last_7={"events": 5.25e5}), "active", "7-day events down 25%"),
        # no insight viewed in 7 days
        (healthy(last_7={"insights_viewed": 0}), "active", "no insights viewed in 7 days"),
        # identity-merge errors: a known churn risk
        (healthy(last_30={"merge_warnings": 40}), "active", "identity-merge errors"),
        # churned
        (healthy(), "churned", "the customer churned"),
    ],
)
def test_risk_signals(windows: dict[str, Any], status: str, risk: str) -> None:
    h = one(customer_data(windows, status=status))
    assert any(risk in r for r in h.risks), h.risks
    assert component(h, "Risk signals").points == pytest.approx(2.0 - 0.5 * len(h.risks))


def test_no_data_scores_low_and_says_why() -> None:
    h = one(customer_data({}, products=()))
    assert h.score <= 3.0
    assert component(h, "Active team").detail == "no team activity data"
    assert component(h, "Product engagement").detail == "no products subscribed"


def test_for_customer_reads_the_database_and_set_relationship_stores_the_rating(
    engine: Engine,
) -> None:
    add_customer(
        engine,
        "acme",
        {"events": 100_000, "active_users": 6, "insights_viewed": 10},
        steps={"initial_outreach": ("done", AS_OF - dt.timedelta(days=18))},
    )
    with db.read_session(engine) as session:
        h = health_store.for_customer(session, "acme", AS_OF)
    assert 0 <= h.score <= 10
    assert component(h, "Active team").points == 2.0
    assert h.relationship_rating is None

    def rate(rating: int | None) -> int | None:
        with db.write_session(engine, "dana") as session:
            health_store.set_relationship(session, "acme", rating)
        with db.read_session(engine) as session:
            return health_store.for_customer(session, "acme", AS_OF).relationship_rating

    assert rate(5) == 5
    assert rate(None) is None
    with db.read_session(engine) as session:
        assert session.get(models.Customer, "acme") is not None


@pytest.mark.parametrize("rating", [0, 6, True, 3.5])
def test_set_relationship_refuses_ratings_outside_1_to_5(engine: Engine, rating: Any) -> None:
    add_customer(engine, "acme", {"events": 1})
    with pytest.raises(UserError, match="1-5"), db.write_session(engine, "dana") as session:
        health_store.set_relationship(session, "acme", rating)


def test_unknown_customer(engine: Engine) -> None:
    with pytest.raises(NotFound), db.read_session(engine) as session:
        health_store.for_customer(session, "ghost", AS_OF)
    with pytest.raises(NotFound), db.write_session(engine, "dana") as session:
        health_store.set_relationship(session, "ghost", 3)
