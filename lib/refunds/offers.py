"""What the policy offers a customer now, one refund per scenario and billing month (pure):
the refund a team member may propose, with the same amount the report's refundable total
and the outreach email state.

A spike's refund is its finding's (bill(actual) - bill(baseline)). A customer's
wrong-setup findings make one refund ("first time only"), their fixes priced together at
the repeat share: the report's refundable total less its spikes' refunds."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lib.audit import refunds as policy

if TYPE_CHECKING:
    from lib.audit.finding import Finding
    from lib.audit.refunds import Policy


@dataclass(frozen=True)
class Offer:
    """The refund one scenario earns for one billing month, from the open findings."""

    scenario: str
    billing_month: dt.date
    rules: tuple[str, ...]  # the findings it comes from, the largest first
    amount_usd: float  # the most that may be proposed (after the repeat share)
    per_product: dict[str, float]
    occurrence: int  # the customer's refund number it would be
    eligible: bool
    declined_as_repeat: bool  # eligible but for the repeat number: an admin may override
    reasons: tuple[str, ...]
    full_usd: float = 0.0  # before the repeat share
    needs_approval: bool = False
    titles: tuple[str, ...] = field(default_factory=tuple)

    @property
    def key(self) -> tuple[dt.date, str]:
        return (self.billing_month, self.scenario)

    @property
    def rule(self) -> str:
        return self.rules[0]

    @property
    def proposable(self) -> bool:
        return self.eligible or self.declined_as_repeat


def offers(
    findings: Iterable[Finding], refundable_usd: float, rules: Policy | None = None
) -> list[Offer]:
    """The customer's offers, from its open findings and its report's refundable total."""
    groups: dict[tuple[dt.date, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        assessment = finding.refund
        if finding.state != "open" or assessment is None or assessment.billing_month is None:
            continue
        if not (assessment.eligible or assessment.declined_as_repeat):
            continue
        groups[(assessment.billing_month, assessment.scenario)].append(finding)
    spikes = sum(
        f.refund.amount_usd
        for found in groups.values()
        for f in found
        if f.refund is not None
        and f.refund.eligible
        and f.refund.scenario in policy.SPIKE_SCENARIOS
    )
    out = []
    for (month, scenario), found in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        found.sort(key=lambda f: -(f.refund.full_amount_usd if f.refund else 0.0))
        assessments = [f.refund for f in found if f.refund is not None]
        eligible = [a for a in assessments if a.eligible]
        occurrence = assessments[0].occurrence
        if eligible:
            alone = sum(a.amount_usd for a in eligible)
            if scenario in policy.SPIKE_SCENARIOS:
                amount = alone
            else:  # priced together: the report's figure, never more than the parts
                amount = min(max(refundable_usd - spikes, 0.0), alone)
            per_product = _summed(a.per_product for a in eligible)
        else:  # a third refund: at most the repeat share of the largest, if overridden
            share = policy.ceiling_share(occurrence, rules)
            amount = assessments[0].full_amount_usd * share
            per_product = {p: v * share for p, v in assessments[0].full_per_product.items()}
        full = max(a.full_amount_usd for a in assessments)
        out.append(
            Offer(
                scenario=scenario,
                billing_month=month,
                rules=tuple(f.rule for f in found),
                amount_usd=amount,
                per_product=per_product,
                occurrence=occurrence,
                eligible=bool(eligible),
                declined_as_repeat=not eligible,
                reasons=tuple(dict.fromkeys(r for a in assessments for r in a.reasons)),
                full_usd=full,
                needs_approval=bool(eligible) and policy.needs_approval(amount, occurrence, rules),
                titles=tuple(f.title for f in found),
            )
        )
    return out


def _summed(parts: Iterable[dict[str, float]]) -> dict[str, float]:
    total: dict[str, float] = defaultdict(float)
    for part in parts:
        for product, value in part.items():
            total[product] += value
    return dict(total)
