"""What a rule is, what it answers (a Detection), and how evidence states numbers."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from lib.audit.thresholds import RuleSettings
from lib.vocabulary import PRODUCT_LABELS

if TYPE_CHECKING:
    from lib.audit.data import AuditData


@dataclass
class Detection:
    """A rule's answer for every customer.

    `fires`: where the rule fires. `facts`: the numbers its evidence states.
    A money rule says what the fix does: `changes` (metric -> delta of the
    30-day volume, <= 0), `drop_products` (products the fix removes) or
    `discount` (a price cut); the engine prices bill(now) - bill(after).
    `one_off`: a one-off amount on this month's bill instead (a spike's excess): no
    monthly saving.
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
    one_off: pd.Series | None = None
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


def product_label(product: str) -> str:
    return PRODUCT_LABELS.get(product, product).lower()
