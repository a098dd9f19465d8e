"""A 0-10 health score with its breakdown and risks (pure); the points are in
docs/rules.md, "Health"."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lib.audit.data import AuditData
from lib.audit.rule import count
from lib.program import timeline
from lib.vocabulary import PRODUCT_LABELS, PRODUCTS

if TYPE_CHECKING:
    from lib.store import models
    from lib.store.customer_data import CustomerData

ENGAGEMENT_POINTS = {"Active team": 2.0, "Last seen": 1.5, "Replies": 1.5}
PRODUCT_POINTS = 3.0
RISK_POINTS = 2.0
RISK_PENALTY = 0.5
SPEND_DROP = 0.10
EVENTS_DROP = 0.20

# What "uses the product" means, per product: (metric, window) with volume > 0.
PRODUCT_SIGNALS: dict[str, tuple[str, str]] = {
    "product_analytics": ("insights_viewed", "insights viewed"),
    "session_replay": ("recordings_viewed", "recordings watched"),
    "feature_flags": ("flag_requests", "flag requests"),
    "surveys": ("survey_responses", "survey responses"),
    "data_warehouse": ("warehouse_rows", "warehouse rows synced"),
    "error_tracking": ("exceptions", "exceptions captured"),
    "group_analytics": ("group_events", "events with groups"),
}


@dataclass(frozen=True)
class Component:
    name: str
    points: float
    max_points: float
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "points": self.points,
            "max_points": self.max_points,
            "detail": self.detail,
        }


@dataclass
class Health:
    customer_id: str
    as_of: dt.date
    score: float  # 0-10, one decimal
    breakdown: list[Component] = field(default_factory=list)
    relationship_rating: int | None = None  # the owner's 1-5, beside the score
    risks: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "as_of": self.as_of.isoformat(),
            "score": self.score,
            "breakdown": [c.as_json() for c in self.breakdown],
            "relationship_rating": self.relationship_rating,
            "risks": list(self.risks),
        }


def from_data(data: CustomerData, as_of: dt.date) -> dict[str, Health]:
    """Health of every customer in a lib.program.report.CustomerData, computed column-wise."""
    audit_data = AuditData.from_customer_data(data, as_of)
    customers: list[models.Customer] = list(data.customers)
    parts = _engagement(audit_data, data, customers)
    products = _products(audit_data)
    risk_lists = _risks(audit_data, customers)
    out: dict[str, Health] = {}
    for customer in customers:
        cid = customer.customer_id
        breakdown = [parts[name][cid] for name in ENGAGEMENT_POINTS]
        breakdown += products[cid]
        risks = risk_lists[cid]
        risk_points = max(RISK_POINTS - RISK_PENALTY * len(risks), 0.0)
        breakdown.append(
            Component(
                "Risk signals",
                risk_points,
                RISK_POINTS,
                "; ".join(risks) if risks else "none of the tracked risk signals",
            )
        )
        score = round(min(max(sum(c.points for c in breakdown), 0.0), 10.0), 1)
        out[cid] = Health(
            customer_id=cid,
            as_of=as_of,
            score=score,
            breakdown=breakdown,
            relationship_rating=customer.relationship_rating,
            risks=risks,
        )
    return out


def _engagement(
    a: AuditData, data: CustomerData, customers: list[models.Customer]
) -> dict[str, dict[str, Component]]:
    reported = a.reported("active_users")
    busiest = a.metric("active_users", "max_day_30")
    team_points = np.select(
        [busiest >= 5, busiest >= 3, busiest >= 2, busiest >= 1], [2.0, 1.5, 1.0, 0.5], 0.0
    )
    last_3 = a.metric("active_users", "last_3")
    last_7 = a.metric("active_users", "last_7")
    last_30 = a.metric("active_users")
    seen_points = np.select([last_3 > 0, last_7 > 0, last_30 > 0], [1.5, 1.0, 0.5], 0.0)
    seen_text = np.select(
        [last_3 > 0, last_7 > 0, last_30 > 0],
        [
            "team active in the last 3 days",
            "team active in the last 7 days",
            "team active in the last 30 days",
        ],
        "no team activity in 30 days",
    )
    out: dict[str, dict[str, Component]] = {name: {} for name in ENGAGEMENT_POINTS}
    for i, customer in enumerate(customers):
        cid = customer.customer_id
        if bool(reported.iloc[i]):
            team = Component(
                "Active team",
                float(team_points[i]),
                2.0,
                f"up to {busiest.iloc[i]:.0f} team member(s) active on a day in the last 30 days",
            )
            seen = Component("Last seen", float(seen_points[i]), 1.5, str(seen_text[i]))
        else:
            team = Component("Active team", 0.0, 2.0, "no team activity data")
            seen = Component("Last seen", 0.0, 1.5, "no team activity data")
        out["Active team"][cid] = team
        out["Last seen"][cid] = seen
        out["Replies"][cid] = _replies(customer, data, a.as_of)
    return out


def _replies(customer: models.Customer, data: CustomerData, as_of: dt.date) -> Component:
    recorded = data.steps.get(customer.customer_id, {})
    steps = timeline.of_customer(customer, recorded, as_of).steps
    first = steps["first_meeting"].status
    if first == "done":
        return Component("Replies", 1.5, 1.5, "the first call was held")
    if first == "scheduled":
        return Component("Replies", 1.0, 1.5, "the first call is booked")
    if first in ("upcoming", "due"):
        return Component("Replies", 0.75, 1.5, f"first call {first}: too early to judge")
    return Component("Replies", 0.0, 1.5, f"first call {first}: no reply yet")


def _products(a: AuditData) -> dict[str, list[Component]]:
    subscribed = a.subscribed.reindex(columns=list(PRODUCTS), fill_value=False).astype(bool)
    n = subscribed.sum(axis=1)
    share = PRODUCT_POINTS / n.where(n > 0)
    used: dict[str, pd.Series] = {}
    volume: dict[str, pd.Series] = {}
    for product in PRODUCTS:
        if product == "data_pipelines":
            destinations = a.config_number("pipeline_destinations")
            used[product] = destinations > 0
            volume[product] = destinations.fillna(0.0)
        else:
            metric, _ = PRODUCT_SIGNALS[product]
            volume[product] = a.metric(metric)
            used[product] = volume[product] > 0
    subscribed_rows = subscribed.to_dict("records")
    out: dict[str, list[Component]] = {}
    for i, cid in enumerate(a.index):
        components = []
        for product in PRODUCTS:
            if not subscribed_rows[i][product]:
                continue
            points = float(share.iloc[i]) if bool(used[product].iloc[i]) else 0.0
            amount = float(volume[product].iloc[i])
            if product == "data_pipelines":
                detail = f"{amount:.0f} destination(s)"
            else:
                detail = f"{count(amount)} {PRODUCT_SIGNALS[product][1]} in 30 days"
            components.append(
                Component(
                    f"Product: {PRODUCT_LABELS[product]}",
                    round(points, 2),
                    round(float(share.iloc[i]), 2),
                    detail,
                )
            )
        if not components:
            components.append(
                Component("Product engagement", 0.0, PRODUCT_POINTS, "no products subscribed")
            )
        out[str(cid)] = components
    return out


def _risks(a: AuditData, customers: list[models.Customer]) -> dict[str, list[str]]:
    now = a.bill_now["total"]
    baseline = a.bill(a.baseline_month)["total"]
    spend_falling = (baseline > 0) & (now < baseline * (1 - SPEND_DROP))
    events_7 = a.metric("events", "last_7")
    events_prev = a.metric("events", "prev_7")
    events_falling = (events_prev > 0) & (events_7 < events_prev * (1 - EVENTS_DROP))
    no_insights = a.reported("insights_viewed") & (a.metric("insights_viewed", "last_7") <= 0)
    merges = a.metric("merge_warnings") > 0
    out: dict[str, list[str]] = {}
    for i, customer in enumerate(customers):
        risks: list[str] = []
        if customer.status == "churned":
            risks.append("the customer churned")
        if bool(spend_falling.iloc[i]):
            drop = 1 - now.iloc[i] / baseline.iloc[i]
            risks.append(f"forecast spend down {drop:.0%} on the 3-month average")
        if bool(events_falling.iloc[i]):
            drop = 1 - events_7.iloc[i] / events_prev.iloc[i]
            risks.append(f"7-day events down {drop:.0%} on the week before")
        if bool(no_insights.iloc[i]):
            risks.append("no insights viewed in 7 days")
        if bool(merges.iloc[i]):
            risks.append(
                f"{count(float(a.metric('merge_warnings').iloc[i]))} identity-merge errors "
                f"in 30 days"
            )
        out[customer.customer_id] = risks
    return out
