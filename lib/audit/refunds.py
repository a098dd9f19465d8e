"""The refund policy (pure): amounts per product, eligibility, repeats, approval, the
billing date and the window to ask in; docs/rules.md, "Refunds". lib/refunds moves a
refund through its states by these rules."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd

from lib import pricing, settings

THRESHOLDS_FILE = settings.DATA_DIR / "audit_thresholds.toml"

SCENARIOS: tuple[str, ...] = (
    "learning_curve",  # the first bill
    "unexpected_stardom",  # usage > 200% of the 3-month average, small company
    "under_attack",  # bots: what is above the pre-spike average, once fixed
    "wrong_setup",  # charged through defaults or misconfiguration; first time only
)
SPIKE_SCENARIOS: frozenset[str] = frozenset({"unexpected_stardom", "under_attack"})


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


def ceiling_share(occurrence: int, rules: Policy | None = None) -> float:
    """The most of the full amount a refund numbered `occurrence` may give: all of it the
    first time, `second_time_share` from the second on (a third only once an admin has
    overridden the policy's decline)."""
    rules = rules or policy()
    return 1.0 if occurrence <= 1 else rules.second_time_share


def declined_as_repeat(occurrence: int, rules: Policy | None = None) -> bool:
    """From `decline_from_occurrence` (the third) on, the policy declines a refund."""
    rules = rules or policy()
    return occurrence >= rules.decline_from_occurrence


def approval_reasons(
    amount_usd: float,
    occurrence: int,
    rules: Policy | None = None,
    *,
    invoice_change: bool = False,
) -> tuple[str, ...]:
    """Why revenue operations must approve a refund (none: the owner issues it alone)."""
    rules = rules or policy()
    reasons = []
    if amount_usd > rules.approval_above_usd:
        reasons.append(f"above ${rules.approval_above_usd:,.0f}")
    if occurrence >= 2:
        reasons.append(f"a repeat (refund number {occurrence})")
    if invoice_change:
        reasons.append("it changes an invoice already sent")
    return tuple(reasons)


def needs_approval(
    amount_usd: float,
    occurrence: int,
    rules: Policy | None = None,
    *,
    invoice_change: bool = False,
) -> bool:
    return bool(approval_reasons(amount_usd, occurrence, rules, invoice_change=invoice_change))


def billing_date(billing_month: dt.date) -> dt.date:
    """The day a month's usage is billed: the first day of the next month."""
    return (billing_month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def ask_deadline(billing_month: dt.date, rules: Policy | None = None) -> dt.date:
    """The last day the customer may ask for a refund of that month's bill: `ask_within_days`
    (30) after the billing date, that day included."""
    rules = rules or policy()
    return billing_date(billing_month) + dt.timedelta(days=rules.ask_within_days)


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
    # Before the repeat share, whether eligible or not (an admin's override of a third
    # refund starts from it).
    full_per_product: dict[str, float] = field(default_factory=dict)
    # Eligible but for the repeat number alone: the policy declines a third refund, an
    # admin may override that with a reason (lib/refunds).
    declined_as_repeat: bool = False


def assess(
    scenario: str,
    full_per_product: Mapping[str, float],
    prior: Mapping[str, int],
    *,
    conditions: Mapping[str, bool] | None = None,
    rule: str | None = None,
    billing_month: dt.date | None = None,
    rules: Policy | None = None,
    on_record: bool = False,
) -> Assessment:
    """Apply the policy to an amount.

    `on_record`: a refund of this scenario for this billing month is already on record
    (proposed or further, not declined): the finding does not offer it again.

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
    if on_record:
        eligible = False
        month = f" for {billing_month:%B %Y}" if billing_month else ""
        reasons.append(f"a refund{month} is already on record (see the Refunds tab)")
    elif scenario == "wrong_setup" and prior.get("wrong_setup", 0) > 0:
        eligible = False
        reasons.append("a wrong-setup refund was already given (first time only)")
    share = repeat_share(occurrence, rules)
    only_the_repeat = eligible and share == 0.0
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
        full_per_product={p: v for p, v in full_per_product.items() if v > 0},
        declined_as_repeat=only_the_repeat,
    )
