"""The audit's building blocks: the data rules read, what a rule is, a finding.

Every rule reads `AuditData`: the usage window sums of all customers as
DataFrames (index customer_id, one column per metric), their subscriptions,
billing limits and config, and answers for all customers at once with
vectorised pandas (a `Detection`). The engine prices the fix through the
tiered price function and writes the findings.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lib import pricing, refunds, settings
from lib.vocabulary import CONFIG_KEYS, METRICS, PRODUCTS

if TYPE_CHECKING:
    from lib.report import CustomerData

THRESHOLDS_FILE = settings.DATA_DIR / "audit_thresholds.toml"
SEVERITIES: tuple[str, ...] = ("high", "medium", "low")
STATES: tuple[str, ...] = ("open", "fixed", "dismissed")


# --------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class RuleSettings:
    """One rule's table of data/audit_thresholds.toml."""

    rule: str
    values: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        try:
            return self.values[key]
        except KeyError:
            raise KeyError(f"{THRESHOLDS_FILE.name}: [rules.{self.rule}] has no {key!r}") from None

    def number(self, key: str) -> float:
        return float(self[key])

    @property
    def severity(self) -> str:
        return str(self.values.get("severity", "medium"))

    @property
    def severity_by_saving(self) -> bool:
        return bool(self.values.get("severity_by_saving", False))

    @property
    def refund(self) -> str:
        return str(self.values.get("refund", ""))

    @property
    def enabled(self) -> bool:
        return bool(self.values.get("enabled", True))


@dataclass(frozen=True)
class Thresholds:
    rules: Mapping[str, RuleSettings]
    high_saving_usd: float = 100.0
    low_saving_usd: float = 5.0
    reopen_after_days: int = 30

    def rule(self, rule: str) -> RuleSettings:
        return self.rules.get(rule, RuleSettings(rule, {}))

    def with_values(self, rule: str, **values: Any) -> Thresholds:
        """A copy with some of one rule's values replaced (tests, what-ifs)."""
        merged = {**self.rule(rule).values, **values}
        return Thresholds(
            rules={**self.rules, rule: RuleSettings(rule, merged)},
            high_saving_usd=self.high_saving_usd,
            low_saving_usd=self.low_saving_usd,
            reopen_after_days=self.reopen_after_days,
        )


def load_thresholds(path: Path = THRESHOLDS_FILE) -> Thresholds:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    for name, spec in raw.get("rules", {}).items():
        for key, value in spec.items():
            if key.startswith("severity") and isinstance(value, str) and value not in SEVERITIES:
                raise ValueError(
                    f"{path.name}: [rules.{name}] {key} {value!r} is not one of {SEVERITIES}"
                )
    severity = raw.get("severity", {})
    return Thresholds(
        rules={name: RuleSettings(name, spec) for name, spec in raw.get("rules", {}).items()},
        high_saving_usd=float(severity.get("high_saving_usd", 100.0)),
        low_saving_usd=float(severity.get("low_saving_usd", 5.0)),
        reopen_after_days=int(raw.get("findings", {}).get("reopen_after_days", 30)),
    )


@cache
def thresholds() -> Thresholds:
    return load_thresholds()


# ------------------------------------------------------------------ finding


@dataclass
class Finding:
    """One rule's finding about one customer. Money is unrounded until as_json()."""

    rule: str
    title: str
    severity: str  # high | medium | low
    evidence: str
    fix: str
    effort: str
    docs_url: str
    est_monthly_saving_usd: float = 0.0
    refund_eligible: bool = False
    est_refund_usd: float = 0.0
    state: str = "open"  # open | fixed | dismissed
    customer_id: str = ""
    # The numbers the evidence states, by name (for pages and emails).
    facts: dict[str, Any] = field(default_factory=dict)
    # The policy's answer when the finding could earn a refund (else None).
    refund: refunds.Assessment | None = None
    # What the fix changes in the monthly volumes (metric -> delta, <= 0) and which
    # products it removes: lets a page or an email price several fixes together.
    volume_changes: dict[str, float] = field(default_factory=dict)
    products_removed: tuple[str, ...] = ()
    discount: float = 0.0  # a price cut instead of a volume change (annual plan)
    # Why the state is what it is (a reopened fix, a dismissal's reason).
    note: str | None = None

    @property
    def is_money(self) -> bool:
        return self.est_monthly_saving_usd > 0

    def as_json(self) -> dict[str, Any]:
        """The contract's finding object (plus title, fix, effort, docs_url, state)."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "est_monthly_saving_usd": pricing.usd(self.est_monthly_saving_usd),
            "refund_eligible": self.refund_eligible,
            "est_refund_usd": pricing.usd(self.est_refund_usd),
            "evidence": self.evidence,
            "title": self.title,
            "fix": self.fix,
            "effort": self.effort,
            "docs_url": self.docs_url,
            "state": self.state,
        }


def combined_bill(
    volumes: Mapping[str, float],
    products: Iterable[str],
    findings: Iterable[Finding],
    prices: pricing.PriceList | None = None,
) -> float:
    """The monthly bill once every finding in `findings` is fixed (priced together).

    Fixes that change volumes, remove products or cut the price are priced
    together; a finding whose saving is not such a change (a spike going back
    to its baseline) takes its own saving off the result.
    """
    after = {k: float(v) for k, v in volumes.items()}
    remaining = set(products)
    discount = 0.0
    apart = 0.0
    for finding in findings:
        if not (finding.volume_changes or finding.products_removed or finding.discount):
            apart += finding.est_monthly_saving_usd
            continue
        for metric, delta in finding.volume_changes.items():
            after[metric] = max(after.get(metric, 0.0) + delta, 0.0)
        remaining -= set(finding.products_removed)
        discount = max(discount, finding.discount)
    together = pricing.bill(after, frozenset(remaining), prices).total * (1.0 - discount)
    return max(together - apart, 0.0)


# ------------------------------------------------------------- audit data


def _frame(frame: pd.DataFrame | None, index: pd.Index, columns: Iterable[str]) -> pd.DataFrame:
    columns = list(columns)
    if frame is None or frame.empty:
        return pd.DataFrame(0.0, index=index, columns=columns)
    return frame.reindex(index=index, columns=columns).fillna(0.0).astype(float)


@dataclass
class AuditData:
    """All a rule may read, for many customers at once (index = customer_id)."""

    as_of: dt.date
    last_30: pd.DataFrame
    prior_90: pd.DataFrame
    max_day_30: pd.DataFrame
    days_30: pd.DataFrame
    last_7: pd.DataFrame
    prev_7: pd.DataFrame
    last_3: pd.DataFrame
    days_prior_90: pd.DataFrame
    subscribed: pd.DataFrame  # bool, one column per product
    limits: pd.DataFrame  # USD billing limit per product, NaN = none
    config: pd.DataFrame  # str per config key, NaN = not set
    plan: pd.Series
    prior_refunds: dict[str, dict[str, int]] = field(default_factory=dict)
    prices: pricing.PriceList = field(default_factory=pricing.price_list)

    @property
    def index(self) -> pd.Index:
        return self.last_30.index

    # -- constructors

    @classmethod
    def from_customer_data(cls, data: CustomerData, as_of: dt.date) -> AuditData:
        index = pd.Index([c.customer_id for c in data.customers], name="customer_id")
        usage = data.usage

        def window(name: str) -> pd.DataFrame:
            return _frame(getattr(usage, name, None), index, METRICS)

        # Filled cell by cell from the dicts (a crosstab and a pivot_table cost ~0.45 s
        # at 10,000 customers); the (customer, product) pairs are unique.
        row_of = {customer_id: i for i, customer_id in enumerate(index)}
        column_of = {product: j for j, product in enumerate(PRODUCTS)}
        subscribed_cells = np.zeros((len(index), len(PRODUCTS)), dtype=bool)
        limit_cells = np.full((len(index), len(PRODUCTS)), np.nan)
        for customer_id, subs in data.subscriptions.items():
            i = row_of.get(customer_id)
            if i is None:
                continue
            for product, limit in subs.items():
                j = column_of.get(product)
                if j is None:
                    continue
                subscribed_cells[i, j] = True
                if limit is not None:
                    limit_cells[i, j] = float(limit)
        subscribed = pd.DataFrame(subscribed_cells, index=index, columns=list(PRODUCTS))
        limits = pd.DataFrame(limit_cells, index=index, columns=list(PRODUCTS))
        config = pd.DataFrame.from_dict(data.config, orient="index") if data.config else None
        config = (
            config.reindex(index=index, columns=list(CONFIG_KEYS))
            if config is not None
            else pd.DataFrame(np.nan, index=index, columns=list(CONFIG_KEYS))
        )
        plan = pd.Series([c.plan for c in data.customers], index=index, dtype=object)
        return cls(
            as_of=as_of,
            subscribed=subscribed,
            limits=limits,
            config=config,
            plan=plan,
            prior_refunds=dict(data.refunds),
            last_30=window("last_30"),
            prior_90=window("prior_90"),
            max_day_30=window("max_day_30"),
            days_30=window("days_30"),
            last_7=window("last_7"),
            prev_7=window("prev_7"),
            last_3=window("last_3"),
            days_prior_90=window("days_prior_90"),
        )

    @classmethod
    def single(
        cls,
        *,
        customer_id: str = "c1",
        as_of: dt.date = dt.date(2026, 3, 15),
        last_30: Mapping[str, float] | None = None,
        prior_90: Mapping[str, float] | None = None,
        max_day_30: Mapping[str, float] | None = None,
        days_30: Mapping[str, float] | None = None,
        last_7: Mapping[str, float] | None = None,
        prev_7: Mapping[str, float] | None = None,
        last_3: Mapping[str, float] | None = None,
        days_prior_90: Mapping[str, float] | None = None,
        products: Iterable[str] = ("product_analytics",),
        limits: Mapping[str, float] | None = None,
        config: Mapping[str, str] | None = None,
        plan: str | None = None,
        prior_refunds: Mapping[str, int] | None = None,
    ) -> AuditData:
        """One customer from plain mappings (tests, what-ifs).

        Missing aggregates assume steady usage: every day of the window alike
        (max day = a 30th, 7 days = 7/30 of the window, non-zero days counted).
        """
        last = dict(last_30 or {})
        prior = dict(prior_90 or {})

        def scaled(
            given: Mapping[str, float] | None, source: dict[str, float], k: float
        ) -> dict[str, float]:
            return dict(given) if given is not None else {m: v * k for m, v in source.items()}

        def days(
            given: Mapping[str, float] | None, source: dict[str, float], n: int
        ) -> dict[str, float]:
            return (
                dict(given)
                if given is not None
                else {m: n if v > 0 else 0 for m, v in source.items()}
            )

        index = pd.Index([customer_id], name="customer_id")

        def row(values: Mapping[str, float]) -> pd.DataFrame:
            return _frame(pd.DataFrame([dict(values)], index=index, dtype=float), index, METRICS)

        subscribed = pd.DataFrame(False, index=index, columns=list(PRODUCTS))
        for product in products:
            subscribed.at[customer_id, product] = True
        limit_frame = pd.DataFrame(np.nan, index=index, columns=list(PRODUCTS))
        for product, limit in (limits or {}).items():
            limit_frame.at[customer_id, product] = float(limit)
        config_frame = pd.DataFrame(np.nan, index=index, columns=list(CONFIG_KEYS), dtype=object)
        for key, value in (config or {}).items():
            config_frame.at[customer_id, key] = value
        return cls(
            as_of=as_of,
            last_30=row(last),
            prior_90=row(prior),
            max_day_30=row(scaled(max_day_30, last, 1 / 30)),
            days_30=row(days(days_30, last, 30)),
            last_7=row(scaled(last_7, last, 7 / 30)),
            prev_7=row(scaled(prev_7, last, 7 / 30)),
            last_3=row(scaled(last_3, last, 3 / 30)),
            days_prior_90=row(days(days_prior_90, prior, 90)),
            subscribed=subscribed,
            limits=limit_frame,
            config=config_frame,
            plan=pd.Series([plan], index=index, dtype=object),
            prior_refunds={customer_id: dict(prior_refunds)} if prior_refunds else {},
        )

    # -- reading

    def metric(self, name: str, window: str = "last_30") -> pd.Series:
        frame: pd.DataFrame = getattr(self, window)
        if name in frame.columns:
            return frame[name]
        return pd.Series(0.0, index=self.index)

    def reported(self, name: str) -> pd.Series:
        """True where the customer's data has the metric at all (any non-zero day in 120)."""
        return (self.metric(name, "days_30") + self.metric(name, "days_prior_90")) > 0

    def config_text(self, key: str) -> pd.Series:
        """The config value as lower-case text; NaN where not set."""
        values = (
            self.config[key] if key in self.config.columns else pd.Series(np.nan, index=self.index)
        )
        return (
            values.astype(object)
            .where(values.notna())
            .map(lambda v: str(v).strip().lower() if isinstance(v, str) else v)
        )

    def config_number(self, key: str) -> pd.Series:
        """The config value as a number; NaN where not set or not a number."""
        values = (
            self.config[key] if key in self.config.columns else pd.Series(np.nan, index=self.index)
        )
        return pd.to_numeric(values, errors="coerce").astype(float)

    def is_subscribed(self, product: str) -> pd.Series:
        if product in self.subscribed.columns:
            return self.subscribed[product].astype(bool)
        return pd.Series(False, index=self.index)

    def bill(self, volumes: pd.DataFrame, subscribed: pd.DataFrame | None = None) -> pd.DataFrame:
        """bill_frame of `volumes` for the subscribed (or given) products."""
        return pricing.bill_frame(
            volumes, self.subscribed if subscribed is None else subscribed, self.prices
        )

    @cached_property
    def bill_now(self) -> pd.DataFrame:
        """Each customer's bill lines and total over the 30-day window."""
        return self.bill(self.last_30)

    @cached_property
    def bill_now_by_product(self) -> pd.DataFrame:
        return pricing.by_product_frame(self.bill_now, self.prices).reindex(
            columns=list(PRODUCTS), fill_value=0.0
        )

    @cached_property
    def baseline_month(self) -> pd.DataFrame:
        """The 3-month average month of every metric."""
        return self.prior_90 / 3.0

    def volumes_after(self, changes: Mapping[str, pd.Series]) -> pd.DataFrame:
        """The 30-day volumes with some metrics reduced (never below zero)."""
        after = self.last_30.copy()
        for metric, delta in changes.items():
            after[metric] = (after[metric] + delta).clip(lower=0.0)
        return after

    def identified_share(self) -> pd.Series:
        events = self.metric("events")
        return ratio(self.metric("identified_events"), events).fillna(0.0).clip(0.0, 1.0)


# -------------------------------------------------------------- detection


@dataclass
class Detection:
    """A rule's answer for every customer.

    `fires`: where the rule fires. `facts`: the numbers its evidence states.
    A money rule says what the fix does: `changes` (metric -> delta of the
    30-day volume, <= 0), `drop_products` (products the fix removes) or
    `discount` (a price cut); the engine prices bill(now) - bill(after).
    `saving` overrides that when the rule computes the saving itself (spikes).
    `severity` overrides the rule's severity per customer.
    `refund_conditions`: reason -> bool Series, the scenario's own conditions.
    `refund_scenario` / `refund_per_product`: for a spike, the scenario and the
    per-product amounts (the engine derives wrong-setup ones from the fix).
    """

    fires: pd.Series
    facts: pd.DataFrame
    changes: dict[str, pd.Series] = field(default_factory=dict)
    drop_products: tuple[str, ...] = ()
    discount: float = 0.0
    saving: pd.Series | None = None
    severity: pd.Series | None = None
    refund_conditions: dict[str, pd.Series] = field(default_factory=dict)
    refund_scenario: pd.Series | None = None
    refund_per_product: pd.DataFrame | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    fix: str
    effort: str
    docs_url: str
    detect: Callable[[AuditData, RuleSettings], Detection]
    evidence: Callable[[Mapping[str, Any]], str]
    money: bool = True  # whether the fix saves dollars


# ----------------------------------------------------------------- helpers


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, NaN where the denominator is zero (comparisons are False)."""
    return numerator / denominator.where(denominator > 0)


def count(value: float) -> str:
    """4,200,000 -> '4.2M', 12,345 -> '12.3k', 950 -> '950'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "0"
    value = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            text = f"{value / size:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{value:,.0f}"


def pct(share: float, digits: int = 0) -> str:
    """0.713 -> '71%'; small shares keep a decimal so they never read 0%."""
    value = float(share) * 100
    if digits == 0 and 0 < value < 10:
        digits = 1
    return f"{value:.{digits}f}%"


def money(amount: float) -> str:
    return f"${pricing.usd(float(amount)):,.2f}"


def product_label(product: str) -> str:
    from lib.vocabulary import PRODUCT_LABELS

    return PRODUCT_LABELS.get(product, product).lower()
