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
from lib.program.stage import NEW_ACCOUNT, Facts, Override, Stage, decide

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
    stage: Stage = NEW_ACCOUNT  # the engagement pipeline (lib.program.stage)
    last_customer_reply_on: dt.date | None = None

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
            "stage": self.stage.stage,
            "last_customer_reply_on": (
                self.last_customer_reply_on.isoformat() if self.last_customer_reply_on else None
            ),
        }


def stage_of(data: CustomerData, customer: models.Customer, line: timeline.Timeline) -> Stage:
    """The customer's engagement stage from what CustomerData holds about it."""
    cid = customer.customer_id
    first, last = data.replies.get(cid, (None, None))
    facts = Facts(
        customer_status=customer.status,
        steps=data.steps.get(cid, {}),
        sent=data.sent.get(cid, frozenset()),
        first_reply_on=first,
        last_reply_on=last,
        as_of=line.as_of,
        final_opens_on=line.steps["final_outreach"].window_start,
    )
    row = data.stage_overrides.get(cid)
    override = Override(row.stage, row.reason, row.set_by, row.set_at) if row else None
    return decide(facts, override)


def build_from_data(data: CustomerData, as_of: dt.date) -> list[CustomerReport]:
    index = [c.customer_id for c in data.customers]
    volumes = data.usage.last_30.reindex(index).fillna(0)
    bills = pricing.bill_frame(volumes, data.subscribed_frame())
    line_names = [c for c in bills.columns if c != "total"]
    bill_totals = bills["total"].to_numpy(dtype=float).tolist()
    bill_rows = bills[line_names].to_numpy(dtype=float).tolist()
    audit_data = AuditData.from_customer_data(data, as_of)
    applied = apply_states(run(audit_data), data.finding_states, as_of)
    findings = {cid: [f for f in found if f.state == "open"] for cid, found in applied.items()}
    money = money_totals(audit_data, findings)
    lines = [
        timeline.of_customer(customer, data.steps.get(customer.customer_id, {}), as_of)
        for customer in data.customers
    ]
    return [
        CustomerReport(
            customer=customer,
            timeline=line,
            projected_monthly_bill_usd=total,
            bill_lines={n: v for n, v in zip(line_names, amounts, strict=True) if v > 0},
            findings=findings.get(customer.customer_id, []),
            totals=money.get(customer.customer_id, Totals()),
            stage=stage_of(data, customer, line),
            last_customer_reply_on=data.replies.get(customer.customer_id, (None, None))[1],
        )
        for customer, line, total, amounts in zip(
            data.customers, lines, bill_totals, bill_rows, strict=True
        )
    ]
