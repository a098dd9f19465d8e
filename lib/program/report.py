"""The per-customer report that `onboarding report --json` prints and pages draw (pure);
lib.program.report_store builds it from the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lib import pricing
from lib.audit.data import AuditData
from lib.audit.engine import apply_states, run
from lib.audit.finding import Finding
from lib.audit.totals import Totals, money_totals
from lib.program import timeline

if TYPE_CHECKING:
    from lib.store import models
    from lib.store.customer_data import CustomerData


@dataclass
class CustomerReport:
    customer: models.Customer
    timeline: timeline.Timeline
    projected_monthly_bill_usd: float
    bill_lines: dict[str, float] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)  # open ones only
    totals: Totals = field(default_factory=Totals)

    @property
    def customer_id(self) -> str:
        return self.customer.customer_id

    @property
    def est_monthly_saving_usd(self) -> float:
        """The open money findings' fixes applied together, through the tiers (never the sum
        of overlapping findings, never above the bill), rounded to cents."""
        return pricing.usd(self.totals.monthly_saving)

    @property
    def est_refund_usd(self) -> float:
        """What the policy lets the team refund now, a one-off amount (cents)."""
        return pricing.usd(self.totals.refundable)

    def as_json(self) -> dict[str, Any]:
        next_action = self.timeline.next_action
        return {
            "customer_id": self.customer.customer_id,
            "name": self.customer.name,
            "owner": self.customer.owner,
            "as_of": self.timeline.as_of.isoformat(),
            "program_week": self.timeline.program_week,
            "program_status": self.timeline.program_status,
            "steps": {name: s.as_json() for name, s in self.timeline.steps.items()},
            "next_action": next_action.as_json() if next_action else None,
            "projected_monthly_bill_usd": pricing.usd(self.projected_monthly_bill_usd),
            "findings": [f.as_json() for f in self.findings],
            "est_monthly_saving_usd": self.est_monthly_saving_usd,
            "est_refund_usd": self.est_refund_usd,
        }


def build_from_data(data: CustomerData, as_of: dt.date) -> list[CustomerReport]:
    index = [c.customer_id for c in data.customers]
    volumes = data.usage.last_30.reindex(index).fillna(0)
    bills = pricing.bill_frame(volumes, data.subscribed_frame())
    line_names = [c for c in bills.columns if c != "total"]
    bill_totals = bills["total"].to_numpy(dtype=float).tolist()
    lines = bills[line_names].to_numpy(dtype=float).tolist()
    audit_data = AuditData.from_customer_data(data, as_of)
    applied = apply_states(run(audit_data), data.finding_states, as_of)
    findings = {cid: [f for f in found if f.state == "open"] for cid, found in applied.items()}
    money = money_totals(audit_data, findings)
    return [
        CustomerReport(
            customer=customer,
            timeline=timeline.of_customer(
                customer, data.steps.get(customer.customer_id, {}), as_of
            ),
            projected_monthly_bill_usd=total,
            bill_lines={n: v for n, v in zip(line_names, amounts, strict=True) if v > 0},
            findings=findings.get(customer.customer_id, []),
            totals=money.get(customer.customer_id, Totals()),
        )
        for customer, total, amounts in zip(data.customers, bill_totals, lines, strict=True)
    ]
