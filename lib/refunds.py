"""Refunds, per the team's policy (DOMAIN.md section 5).

Amount: baseline = the 3-month average volume (the 90 days before the report
window, divided by 3); refund = bill(actual) - bill(baseline), split per
product. A product whose bill did not rise adds nothing (it is not clipped
against the others), so the total is the sum of the per-product increases;
when every product rose or stayed flat it equals bill(actual) - bill(baseline).

Eligibility, as far as the data can tell (whether the customer asked within
30 days of the billing date and whether there is abuse stay the owner's call):
- spikes (`under_attack` when a day ran at least 10x the usual day, else
  `unexpected_stardom`): the spike is over and a measure (a billing limit on
  the spiked product) is in place;
- `wrong_setup` (charged through defaults or a misconfiguration): first time only;
- repeats: the first refund in full, the second up to 50%, the third and later
  usually declined. Every refund recorded and not declined counts.
Amounts above ~$1,667 a month and every repeat go to revenue operations for
approval (`needs_approval`).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lib import db, models, pricing, settings

THRESHOLDS_FILE = settings.DATA_DIR / "audit_thresholds.toml"

SCENARIOS: tuple[str, ...] = (
    "learning_curve",  # the first bill
    "unexpected_stardom",  # usage > 200% of the 3-month average, small company
    "under_attack",  # bots: what is above the pre-spike average, once fixed
    "wrong_setup",  # charged through defaults or misconfiguration; first time only
)
SPIKE_SCENARIOS: frozenset[str] = frozenset({"unexpected_stardom", "under_attack"})
STATUSES: tuple[str, ...] = ("issued", "pending_approval", "declined")


@dataclass(frozen=True)
class Policy:
    approval_above_usd: float = 1667.0
    second_time_share: float = 0.5
    decline_from_occurrence: int = 3
    ask_within_days: int = 30
    spike_over_ratio: float = 2.0


def load_policy(path: Path = THRESHOLDS_FILE) -> Policy:
    raw = tomllib.loads(path.read_text(encoding="utf-8")).get("refunds", {})
    defaults = Policy()
    return Policy(
        approval_above_usd=float(raw.get("approval_above_usd", defaults.approval_above_usd)),
        second_time_share=float(raw.get("second_time_share", defaults.second_time_share)),
        decline_from_occurrence=int(
            raw.get("decline_from_occurrence", defaults.decline_from_occurrence)
        ),
        ask_within_days=int(raw.get("ask_within_days", defaults.ask_within_days)),
        spike_over_ratio=float(raw.get("spike_over_ratio", defaults.spike_over_ratio)),
    )


@cache
def policy() -> Policy:
    return load_policy()


# ------------------------------------------------------------------ amounts


def baseline_volumes(prior_90: Mapping[str, float]) -> dict[str, float]:
    """The 3-month average month: the 90 baseline days' sums divided by 3."""
    return {metric: float(value or 0) / 3.0 for metric, value in prior_90.items()}


def spike_refund(
    actual: Mapping[str, float],
    baseline: Mapping[str, float],
    products: set[str] | frozenset[str],
    prices: pricing.PriceList | None = None,
) -> tuple[float, dict[str, float]]:
    """bill(actual) - bill(baseline), split per product (products that rose only)."""
    now = pricing.bill(actual, products, prices).by_product
    before = pricing.bill(baseline, products, prices).by_product
    per_product = {
        product: now[product] - before.get(product, 0.0)
        for product in now
        if now[product] - before.get(product, 0.0) > 0
    }
    return sum(per_product.values()), per_product


def spike_refund_frame(
    actual: pd.DataFrame,
    baseline: pd.DataFrame,
    subscribed: pd.DataFrame,
    prices: pricing.PriceList | None = None,
) -> pd.DataFrame:
    """`spike_refund` for many customers: one USD column per product (>= 0)."""
    now = pricing.by_product_frame(pricing.bill_frame(actual, subscribed, prices), prices)
    before = pricing.by_product_frame(pricing.bill_frame(baseline, subscribed, prices), prices)
    return (now - before.reindex_like(now).fillna(0.0)).clip(lower=0.0)


def repeat_share(occurrence: int, rules: Policy | None = None) -> float:
    """The share of the amount refunded the `occurrence`-th time (1 = first)."""
    rules = rules or policy()
    if occurrence >= rules.decline_from_occurrence:
        return 0.0
    if occurrence >= 2:
        return rules.second_time_share
    return 1.0


def needs_approval(amount_usd: float, occurrence: int, rules: Policy | None = None) -> bool:
    rules = rules or policy()
    return amount_usd > rules.approval_above_usd or occurrence >= 2


@dataclass(frozen=True)
class Assessment:
    """What the policy says about one possible refund."""

    scenario: str
    eligible: bool
    amount_usd: float  # unrounded, after the repeat share
    full_amount_usd: float  # before the repeat share
    per_product: dict[str, float]  # after the repeat share
    occurrence: int  # 1 = the customer's first refund
    needs_approval: bool
    reasons: tuple[str, ...]  # why (not) eligible, in words
    rule: str | None = None
    billing_month: dt.date | None = None


def assess(
    scenario: str,
    full_per_product: Mapping[str, float],
    prior: Mapping[str, int],
    *,
    conditions: Mapping[str, bool] | None = None,
    rule: str | None = None,
    billing_month: dt.date | None = None,
    rules: Policy | None = None,
) -> Assessment:
    """Apply the policy to an amount.

    `prior`: refunds already recorded (not declined) per scenario.
    `conditions`: the scenario's own conditions, reason -> met (e.g. "the spike
    is over" -> True); any unmet one makes the refund ineligible.
    """
    rules = rules or policy()
    occurrence = sum(prior.values()) + 1
    full = sum(v for v in full_per_product.values() if v > 0)
    reasons: list[str] = []
    eligible = full > 0
    if not eligible:
        reasons.append("nothing above the baseline to refund")
    for reason, met in (conditions or {}).items():
        reasons.append(reason if met else f"not yet: {reason}")
        eligible = eligible and met
    if scenario == "wrong_setup" and prior.get("wrong_setup", 0) > 0:
        eligible = False
        reasons.append("a wrong-setup refund was already given (first time only)")
    share = repeat_share(occurrence, rules)
    if share == 0.0:
        eligible = False
        reasons.append(f"refund number {occurrence}: usually declined")
    elif share < 1.0:
        reasons.append(f"refund number {occurrence}: up to {share:.0%}")
    per_product = {p: v * share for p, v in full_per_product.items() if v > 0}
    amount = full * share
    return Assessment(
        scenario=scenario,
        eligible=eligible,
        amount_usd=amount if eligible else 0.0,
        full_amount_usd=full,
        per_product=per_product if eligible else {},
        occurrence=occurrence,
        needs_approval=eligible and needs_approval(amount, occurrence, rules),
        reasons=tuple(reasons),
        rule=rule,
        billing_month=billing_month,
    )


# ------------------------------------------------------------------ storage


def prior_counts(
    session: Session, customer_ids: list[str] | None = None
) -> dict[str, dict[str, int]]:
    """Refunds recorded and not declined, per customer and scenario."""
    refund = models.Refund
    stmt = (
        select(refund.customer_id, refund.scenario, func.count())
        .where(refund.status != "declined")
        .group_by(refund.customer_id, refund.scenario)
    )
    if customer_ids is not None:
        stmt = stmt.where(refund.customer_id.in_(customer_ids))
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for customer_id, scenario, count in session.execute(stmt):
        counts[customer_id][scenario] = int(count)
    return dict(counts)


def history(session: Session, customer_id: str) -> list[models.Refund]:
    stmt = (
        select(models.Refund)
        .where(models.Refund.customer_id == customer_id)
        .order_by(models.Refund.recorded_on, models.Refund.id)
    )
    return list(session.scalars(stmt))


def record(
    engine: Engine,
    user: str,
    customer_id: str,
    scenario: str,
    amount_usd: float,
    per_product: Mapping[str, float],
    billing_month: dt.date | None,
    note: str | None = None,
    *,
    rule: str | None = None,
    status: str | None = None,
    on: dt.date | None = None,
) -> int:
    """Store a refund; it counts as a repeat from now on. Returns its id.

    `status` defaults to `pending_approval` when the policy wants revenue
    operations to approve it (amount above the threshold, or a repeat), else
    `issued`. Raises ValueError on an unknown scenario/status or a negative amount.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown refund scenario {scenario!r}; expected one of {SCENARIOS}")
    if status is not None and status not in STATUSES:
        raise ValueError(f"unknown refund status {status!r}; expected one of {STATUSES}")
    if amount_usd < 0 or any(v < 0 for v in per_product.values()):
        raise ValueError("a refund amount cannot be negative")
    with db.write_session(engine, user) as session:
        if session.get(models.Customer, customer_id) is None:
            raise ValueError(f"no such customer {customer_id!r}")
        prior = prior_counts(session, [customer_id]).get(customer_id, {})
        occurrence = sum(prior.values()) + 1
        approval = needs_approval(amount_usd, occurrence)
        refund = models.Refund(
            customer_id=customer_id,
            scenario=scenario,
            rule=rule,
            amount_usd=pricing.usd(amount_usd),
            per_product={p: pricing.usd(v) for p, v in per_product.items()},
            billing_month=billing_month,
            status=status or ("pending_approval" if approval else "issued"),
            needs_approval=approval,
            note=note,
            recorded_by=user,
            recorded_on=on or dt.date.today(),
        )
        session.add(refund)
        session.flush()
        return int(refund.id)


def for_customer(engine: Engine, customer_id: str, as_of: dt.date) -> list[Assessment]:
    """The refunds the audit finds for one customer, eligible or not (largest first)."""
    from lib import audit

    findings = audit.for_customer(engine, customer_id, as_of, include_closed=True)
    found = [f.refund for f in findings if f.refund is not None]
    return sorted(found, key=lambda a: -a.full_amount_usd)


def by_month(
    session: Session, since: dt.date | None = None, until: dt.date | None = None
) -> pd.DataFrame:
    """Refunds recorded (not declined) per month: month, refunds, amount_usd, needing_approval.

    For the outcomes page; `month` is the first day of the month recorded.
    """
    refund = models.Refund
    stmt = select(
        refund.recorded_on, refund.amount_usd, refund.needs_approval, refund.status
    ).where(refund.status != "declined")
    if since is not None:
        stmt = stmt.where(refund.recorded_on >= since)
    if until is not None:
        stmt = stmt.where(refund.recorded_on <= until)
    rows = pd.DataFrame(
        session.execute(stmt).all(),
        columns=["recorded_on", "amount_usd", "needs_approval", "status"],
    )
    columns = ["month", "refunds", "amount_usd", "needing_approval"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows["month"] = [d.replace(day=1) for d in rows["recorded_on"]]
    out = (
        rows.groupby("month")
        .agg(
            refunds=("amount_usd", "size"),
            amount_usd=("amount_usd", "sum"),
            needing_approval=("needs_approval", "sum"),
        )
        .reset_index()
    )
    return out[columns]
