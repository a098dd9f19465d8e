"""Refunds waiting for someone, for Today (pure): the owner's to propose, to mark as asked
for (or to close when the window passed), to issue; revenue operations' to approve."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lib.audit import refunds as policy
from lib.refunds.model import APPROVED, NEEDS_APPROVAL, PROPOSED, REQUESTED, RefundView
from lib.refunds.offers import Offer

if TYPE_CHECKING:
    from lib.audit.refunds import Policy

# What waits, most pressing first.
KINDS: dict[str, str] = {
    "approve": "Approve or decline (revenue operations)",
    "expired": "The customer did not ask in time: decline it",
    "issue": "Issue it on the bill",
    "ask": "Mark it requested when the customer asks",
    "propose": "Propose the refund the policy allows",
}
ORDER = {kind: i for i, kind in enumerate(KINDS)}


@dataclass(frozen=True)
class RefundTask:
    kind: str  # a key of KINDS
    customer_id: str
    name: str
    owner: str | None
    scenario: str
    billing_month: dt.date | None
    amount_usd: float
    refund_id: int | None = None  # None: not proposed yet
    due_on: dt.date | None = None  # the last day the customer may ask

    @property
    def what(self) -> str:
        return KINDS[self.kind]

    @property
    def urgency(self) -> tuple[int, dt.date, str, str]:
        return (ORDER[self.kind], self.due_on or dt.date.max, self.name, self.customer_id)


def build(
    open_refunds: Iterable[RefundView],
    offers_by_customer: Mapping[str, Sequence[Offer]],
    customers: Mapping[str, tuple[str, str | None]],
    recorded: set[tuple[str, dt.date | None, str]],
    as_of: dt.date,
    owner: str | None,
    approver: bool,
    rules: Policy | None = None,
) -> list[RefundTask]:
    """What waits for `owner` (None: everyone) and, for an approver, every refund waiting
    for revenue operations. `customers`: id -> (name, owner) of the customers in scope;
    `offers_by_customer`: their offers; `recorded`: every refund's (customer, billing
    month, scenario), so nothing already proposed is offered again."""
    tasks: list[RefundTask] = []
    for refund in open_refunds:
        mine = owner is None or refund.owner == owner
        deadline = refund.ask_deadline(rules)
        kind = None
        if refund.status == NEEDS_APPROVAL and approver:
            kind = "approve"
        elif mine and refund.status in (REQUESTED, APPROVED):
            kind = "issue"
        elif mine and refund.status == PROPOSED:
            kind = "expired" if deadline is not None and as_of > deadline else "ask"
        if kind is not None:
            tasks.append(
                RefundTask(
                    kind=kind,
                    customer_id=refund.customer_id,
                    name=refund.customer_name or refund.customer_id,
                    owner=refund.owner,
                    scenario=refund.scenario,
                    billing_month=refund.billing_month,
                    amount_usd=refund.amount_usd,
                    refund_id=refund.id,
                    due_on=deadline if kind in ("ask", "expired") else None,
                )
            )
    for customer_id, found in offers_by_customer.items():
        name, customer_owner = customers.get(customer_id, (customer_id, None))
        if owner is not None and customer_owner != owner:
            continue
        for offer in found:
            deadline = policy.ask_deadline(offer.billing_month, rules)
            if not offer.eligible or as_of > deadline:
                continue
            if (customer_id, offer.billing_month, offer.scenario) in recorded:
                continue
            tasks.append(
                RefundTask(
                    kind="propose",
                    customer_id=customer_id,
                    name=name,
                    owner=customer_owner,
                    scenario=offer.scenario,
                    billing_month=offer.billing_month,
                    amount_usd=offer.amount_usd,
                    due_on=deadline,
                )
            )
    return sorted(tasks, key=lambda t: t.urgency)
