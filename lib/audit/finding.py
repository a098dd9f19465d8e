"""A finding: one rule's observation about one customer, and several fixes priced together."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lib import pricing
from lib.audit import refunds

STATES: tuple[str, ...] = ("open", "fixed", "dismissed")


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
    # A one-off amount on this month's bill (a spike's excess): refundable by the policy,
    # never a monthly saving.
    one_off_usd: float = 0.0
    # Why the state is what it is (a reopened fix, a dismissal's reason).
    note: str | None = None
    # The version of the team's decision it was read with (lib.store.versions; 0: none).
    version: int = 0

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
            "one_off_usd": pricing.usd(self.one_off_usd),
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
    """The monthly bill once every finding in `findings` is fixed, the fixes applied
    together (volume changes added up, never below zero; products removed; the largest
    price cut) and priced through the tiers."""
    after = {k: float(v) for k, v in volumes.items()}
    remaining = set(products)
    discount = 0.0
    for finding in findings:
        for metric, delta in finding.volume_changes.items():
            after[metric] = max(after.get(metric, 0.0) + delta, 0.0)
        remaining -= set(finding.products_removed)
        discount = max(discount, finding.discount)
    return pricing.bill(after, frozenset(remaining), prices).total * (1.0 - discount)


def changes_bill(finding: Finding) -> bool:
    """Whether fixing the finding changes the monthly bill (volumes, products, price)."""
    return bool(finding.volume_changes or finding.products_removed or finding.discount)
