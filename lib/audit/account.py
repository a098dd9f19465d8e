"""Rules about the account as a whole: spikes, identity, SDKs, limits, adoption, plan."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from lib import labels
from lib.audit import refunds
from lib.audit.data import AuditData
from lib.audit.rule import Detection, Rule, count, product_label
from lib.audit.thresholds import RuleSettings
from lib.vocabulary import METRIC_PRODUCT

DOCS = "https://posthog.com/docs"


def _pick(frame: pd.DataFrame, columns: pd.Series) -> pd.Series:
    """frame[row, columns[row]] for every row, vectorised."""
    positions = frame.columns.get_indexer(pd.Index(columns.to_numpy()))
    values = frame.to_numpy(dtype=float)[np.arange(len(frame)), positions]
    return pd.Series(values, index=frame.index)


# ---------------------------------------------------------------- usage_spike


def detect_usage_spike(data: AuditData, t: RuleSettings) -> Detection:
    metrics = [m for m in t["metrics"] if m in data.last_30.columns]
    last = data.last_30[metrics]
    base_month = data.baseline_month[metrics]
    base_day = data.prior_90[metrics] / 90.0
    history = data.days_prior_90[metrics] >= t.number("min_baseline_days")
    month_ratio = last / base_month.where(base_month > 0)
    day_ratio = data.max_day_30[metrics] / base_day.where(base_day > 0)
    spiked = history & (
        (month_ratio > t.number("max_month_ratio")) | (day_ratio > t.number("max_day_ratio"))
    )
    per_product = refunds.spike_refund_frame(
        data.last_30, data.baseline_month, data.subscribed, data.prices
    )
    excess = per_product.sum(axis=1)
    fires = spiked.any(axis=1) & (excess >= t.number("min_excess_usd"))
    # Talk about the spiked metric whose product the spike costs most.
    cost = pd.DataFrame(
        {m: per_product.get(METRIC_PRODUCT.get(m, ""), 0.0) for m in metrics}, index=data.index
    )
    top = cost.where(spiked).fillna(-1.0).idxmax(axis=1)
    top_day = _pick(day_ratio.fillna(0.0), top)
    top_base_day = _pick(base_day, top)
    recent_day = _pick(data.last_3[metrics], top) / 3.0
    top_product = top.map(METRIC_PRODUCT).fillna("product_analytics")
    limited = _pick(data.limits.notna().astype(float), top_product) > 0
    over = recent_day <= refunds.policy().spike_over_ratio * top_base_day
    scenario = pd.Series(
        np.where(top_day > t.number("max_day_ratio"), "under_attack", "unexpected_stardom"),
        index=data.index,
    )
    facts = pd.DataFrame(
        {
            "metric": top,
            "last": _pick(last, top),
            "baseline": _pick(base_month, top),
            "month_ratio": _pick(month_ratio.fillna(0.0), top),
            "peak": _pick(data.max_day_30[metrics], top),
            "day_ratio": top_day,
            "baseline_day": top_base_day,
            "excess": excess,
            "over": over,
            "product": top_product,
        }
    )
    return Detection(
        fires=fires,
        facts=facts,
        one_off=excess,
        refund_scenario=scenario,
        refund_per_product=per_product,
        refund_conditions={
            "the spike is over": over,
            "a billing limit is in place on the spiked product": limited,
        },
    )


def evidence_usage_spike(f: Mapping[str, Any]) -> str:
    metric = str(f["metric"]).replace("_", " ")
    state = "it has stopped" if f["over"] else "it is still running"
    return (
        f"{count(f['last'])} {metric} in 30 days against a 3-month average of "
        f"{count(f['baseline'])} a month ({f['month_ratio']:.1f}x); the busiest day had "
        f"{count(f['peak'])}, {f['day_ratio']:.0f}x the usual {count(f['baseline_day'])}; "
        f"{state}. The spike adds {labels.money(f['excess'])} to this month's bill"
    )


USAGE_SPIKE = Rule(
    id="usage_spike",
    title="Usage spike (bot, loop or attack)",
    fix=(
        "Find the source (bot filtering, a loop re-sending events, a misbehaving release), "
        "fix it, and set a billing limit so a repeat cannot run up the bill."
    ),
    effort="An hour to find; the billing limit takes a minute.",
    docs_url=f"{DOCS}/billing/limits-alerts",
    detect=detect_usage_spike,
    evidence=evidence_usage_spike,
    money=False,  # a one-off amount on this month's bill, refundable, not a monthly saving
)


# ------------------------------------------------------ identity_merge_errors


def detect_identity_merge_errors(data: AuditData, t: RuleSettings) -> Detection:
    warnings = data.metric("merge_warnings")
    fires = warnings >= t.number("min_warnings")
    facts = pd.DataFrame({"warnings": warnings, "days": data.metric("merge_warnings", "days_30")})
    return Detection(fires=fires, facts=facts)


def evidence_identity_merge_errors(f: Mapping[str, Any]) -> str:
    return (
        f"{count(f['warnings'])} identity-merge ingestion warnings on {f['days']:.0f} of the "
        f"last 30 days (refused merges, illegal distinct ids such as null, undefined or guest)"
    )


IDENTITY_MERGE_ERRORS = Rule(
    id="identity_merge_errors",
    title="Identity merge errors",
    fix=(
        "Call identify() with the real user id at login only, never with placeholders "
        "(null, undefined, guest); call reset() on logout."
    ),
    effort="Half a day, with a look at the ingestion warnings together.",
    docs_url=f"{DOCS}/data/ingestion-warnings",
    detect=detect_identity_merge_errors,
    evidence=evidence_identity_merge_errors,
    money=False,
)


# ------------------------------------------------------------- outdated_sdk


def detect_outdated_sdk(data: AuditData, t: RuleSettings) -> Detection:
    age = data.config_number("sdk_version_age_days")
    fires = age > t.number("max_version_age_days")
    sdk = data.config_text("sdk")
    facts = pd.DataFrame({"age": age, "sdk": sdk.where(sdk.notna(), "your main SDK")})
    return Detection(fires=fires, facts=facts)


def evidence_outdated_sdk(f: Mapping[str, Any]) -> str:
    return (
        f"{f['sdk']} is about {f['age'] / 30:.0f} months ({f['age']:.0f} days) behind the "
        f"latest release"
    )


OUTDATED_SDK = Rule(
    id="outdated_sdk",
    title="Outdated SDK",
    fix="Upgrade the SDK to the latest version (check the changelog for breaking changes).",
    effort="An hour, plus a release.",
    docs_url=f"{DOCS}/libraries",
    detect=detect_outdated_sdk,
    evidence=evidence_outdated_sdk,
    money=False,
)


# ---------------------------------------------------------- no_billing_limit


def detect_no_billing_limit(data: AuditData, t: RuleSettings) -> Detection:
    products = [p for p in t["products"] if p in data.subscribed.columns]
    bills = data.bill_now_by_product[products]
    subscribed = data.subscribed[products].astype(bool)
    limits = data.limits[products]
    no_limit = subscribed & limits.isna() & (bills > t.number("min_product_bill_usd"))
    hit = subscribed & limits.notna() & (bills >= limits)
    fires = no_limit.any(axis=1) | hit.any(axis=1)
    severity = pd.Series(
        np.where(hit.any(axis=1), str(t["severity_limit_hit"]), t.severity), index=data.index
    )
    facts = pd.concat(
        [
            no_limit.add_prefix("no_limit:"),
            hit.add_prefix("hit:"),
            bills.add_prefix("bill:"),
            limits.add_prefix("limit:"),
        ],
        axis=1,
    )
    return Detection(fires=fires, facts=facts, severity=severity)


def evidence_no_billing_limit(f: Mapping[str, Any]) -> str:
    products = [k.split(":", 1)[1] for k in f if k.startswith("no_limit:")]
    parts = []
    hit = [p for p in products if f[f"hit:{p}"]]
    if hit:
        parts.append(
            "Billing limit reached on "
            + ", ".join(
                f"{product_label(p)} ({labels.money(f[f'bill:{p}'])} of usage against a "
                f"{labels.money(f[f'limit:{p}'])} limit)"
                for p in hit
            )
            + ": data above a limit is dropped"
        )
    missing = [p for p in products if f[f"no_limit:{p}"]]
    if missing:
        parts.append(
            "No billing limit on "
            + ", ".join(
                f"{product_label(p)} ({labels.money(f[f'bill:{p}'])} this month)" for p in missing
            )
        )
    return "; ".join(parts)


NO_BILLING_LIMIT = Rule(
    id="no_billing_limit",
    title="Billing limits missing or reached",
    fix=(
        "Review billing limits: set one on each paid product a little above normal usage, "
        "and raise a limit that is being hit if the data matters."
    ),
    effort="Minutes, in billing settings.",
    docs_url=f"{DOCS}/billing/limits-alerts",
    detect=detect_no_billing_limit,
    evidence=evidence_no_billing_limit,
    money=False,
)


# ---------------------------------------------------------------- low_adoption


def detect_low_adoption(data: AuditData, t: RuleSettings) -> Detection:
    max_users = data.metric("active_users", "max_day_30")
    insights_7 = data.metric("insights_viewed", "last_7")
    few_users = data.reported("active_users") & (max_users <= t.number("max_active_users"))
    no_insights = data.reported("insights_viewed") & (insights_7 <= t.number("max_insights_7_days"))
    product_volume = pd.DataFrame(
        {
            product: sum(
                (data.metric(m) for m, p in METRIC_PRODUCT.items() if p == product),
                start=pd.Series(0.0, index=data.index),
            )
            for product in sorted(set(METRIC_PRODUCT.values()))
        }
    )
    products_used = (product_volume > 0).sum(axis=1)
    fires = few_users | no_insights
    facts = pd.DataFrame(
        {
            "max_users": max_users,
            "few_users": few_users,
            "insights_7": insights_7,
            "no_insights": no_insights,
            "products_used": products_used,
        }
    )
    return Detection(fires=fires, facts=facts)


def evidence_low_adoption(f: Mapping[str, Any]) -> str:
    parts = []
    if f["few_users"]:
        parts.append(f"at most {f['max_users']:.0f} team member(s) active on any day in 30 days")
    if f["no_insights"]:
        parts.append("no insights viewed in the last 7 days")
    else:
        parts.append(f"{f['insights_7']:.0f} insights viewed in the last 7 days")
    if f["products_used"] <= 1:
        parts.append("only one product in use")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


LOW_ADOPTION = Rule(
    id="low_adoption",
    title="Low adoption across the team",
    fix=(
        "Homework that gets more of the team into PostHog (a shared dashboard, a weekly "
        "insight subscription), and offer the second call on their goals and KPIs."
    ),
    effort="Two short sessions.",
    docs_url=f"{DOCS}/product-analytics/dashboards",
    detect=detect_low_adoption,
    evidence=evidence_low_adoption,
    money=False,
)


# ------------------------------------------------------------ plan_fit_annual


def detect_plan_fit_annual(data: AuditData, t: RuleSettings) -> Detection:
    now = data.bill_now["total"]
    baseline = data.bill(data.baseline_month)["total"]
    history = data.days_prior_90.max(axis=1) >= t.number("min_baseline_days")
    annual = data.plan.isin([str(p) for p in t["annual_plans"]])
    floor = t.number("min_monthly_bill_usd")
    fires = (
        ~annual
        & history
        & (now >= floor)
        & (baseline >= floor)
        & (now <= baseline * t.number("max_growth"))
    )
    facts = pd.DataFrame(
        {"now": now, "baseline": baseline, "discount": t.number("annual_discount")}
    )
    return Detection(fires=fires, facts=facts, discount=t.number("annual_discount"))


def evidence_plan_fit_annual(f: Mapping[str, Any]) -> str:
    return (
        f"Steady spend: {labels.money(f['now'])} this month and {labels.money(f['baseline'])} a month on "
        f"average over the 3 months before; an annual plan costs about "
        f"{f['discount']:.0%} less"
    )


PLAN_FIT_ANNUAL = Rule(
    id="plan_fit_annual",
    title="An annual plan would cost less",
    fix="Move to an annual plan (about 20% off at this spend); talk to sales for a quote.",
    effort="A conversation with sales.",
    docs_url="https://posthog.com/pricing",
    detect=detect_plan_fit_annual,
    evidence=evidence_plan_fit_annual,
)

RULES: tuple[Rule, ...] = (
    USAGE_SPIKE,
    IDENTITY_MERGE_ERRORS,
    OUTDATED_SDK,
    NO_BILLING_LIMIT,
    LOW_ADOPTION,
    PLAN_FIT_ANNUAL,
)
