"""Refunds recorded for customers (the policy itself is lib.audit.refunds)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy.orm import Session

from lib import pricing
from lib.audit.refunds import SCENARIOS, STATUSES, needs_approval
from lib.errors import NotFound, UserError
from lib.store import journal, models
from lib.store.customer_data import prior_refund_counts


def record(
    session: Session,
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
    `issued`. Raises UserError on an unknown scenario/status or a negative amount.
    """
    if scenario not in SCENARIOS:
        raise UserError(f"unknown refund scenario {scenario!r}; expected one of {SCENARIOS}")
    if status is not None and status not in STATUSES:
        raise UserError(f"unknown refund status {status!r}; expected one of {STATUSES}")
    if amount_usd < 0 or any(v < 0 for v in per_product.values()):
        raise UserError("a refund amount cannot be negative")
    if session.get(models.Customer, customer_id) is None:
        raise NotFound(f"no such customer {customer_id!r}")
    prior = prior_refund_counts(session, [customer_id]).get(customer_id, {})
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
        recorded_by=journal.user_of(session),
        recorded_on=on or dt.date.today(),
    )
    session.add(refund)
    session.flush()
    return int(refund.id)
