"""A refund's way from a finding to the customer's bill (pure): the allowed moves, who may
make them, the checks, and what each stores (docs/rules.md, "Refunds").

    proposed --the customer asks (within the window)--> requested
                                                    \\-> needs_approval (the policy says so)
                                                    \\-> declined (a third refund: the policy)
    needs_approval --revenue operations--> approved | declined
    requested, approved --the owner--> issued (date, amount, reference)
    proposed, requested --the owner--> declined (a reason)
    declined by the policy --an admin overrides (a reason)--> needs_approval

Every function takes the refund as the user saw it (`RefundView`) and returns the `Move`
to store, or raises a `RefundError` (a `UserError`) saying why not. Amounts, repeats and
approval come from lib.audit.refunds, the policy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lib import labels, pricing
from lib.audit import refunds as policy
from lib.refunds.model import (
    APPROVED,
    DECLINED,
    ISSUED,
    NEEDS_APPROVAL,
    POLICY,
    PROPOSED,
    REQUESTED,
    STATUS_LABELS,
    Actor,
    Move,
    RefundAmountError,
    RefundConflict,
    RefundError,
    RefundNotAllowed,
    RefundStateError,
    RefundView,
    RefundWindowClosed,
)

if TYPE_CHECKING:
    from lib.audit.refunds import Policy
    from lib.refunds.offers import Offer

MAX_REFERENCE = 100

# (status, action) -> who may: a team member ("writer"), revenue operations ("approver"),
# or an admin. Anything not listed is refused: the table the tests walk.
TRANSITIONS: dict[tuple[str, str], str] = {
    (PROPOSED, "request"): "writer",
    (PROPOSED, "decline"): "writer",
    (REQUESTED, "issue"): "writer",
    (REQUESTED, "decline"): "writer",
    (NEEDS_APPROVAL, "approve"): "approver",
    (NEEDS_APPROVAL, "decline"): "approver",
    (APPROVED, "issue"): "writer",
    (APPROVED, "decline"): "approver",
    (DECLINED, "override"): "admin",
}
ACTIONS: tuple[str, ...] = ("request", "approve", "decline", "issue", "override")
ACTION_WORDS: dict[str, str] = {
    "request": "mark as requested",
    "approve": "approve",
    "decline": "decline",
    "issue": "mark as issued",
    "override": "override the policy on",
}
WHO_MAY: dict[str, str] = {
    "writer": "a team member",
    "approver": "revenue operations (a login marked as an approver on the Users page)",
    "admin": "an admin",
}


def allowed(refund: RefundView, actor: Actor) -> tuple[str, ...]:
    """The actions `actor` may take on `refund` now (what a page offers)."""
    out = []
    for action in ACTIONS:
        try:
            check(refund, action, actor)
        except RefundError:
            continue
        out.append(action)
    return tuple(out)


def check(refund: RefundView, action: str, actor: Actor) -> None:
    """Raise unless `actor` may take `action` on `refund` in its status."""
    who = TRANSITIONS.get((refund.status, action))
    label = STATUS_LABELS.get(refund.status, refund.status).lower()
    if who is None:
        raise RefundStateError(
            f"refund #{refund.id} is {label}: you cannot {ACTION_WORDS.get(action, action)} it"
        )
    if not actor.may(who):
        raise RefundNotAllowed(
            f"Not allowed: only {WHO_MAY[who]} may {ACTION_WORDS[action]} a refund that is {label}"
        )
    if action == "override" and not refund.declined_by_policy:
        raise RefundStateError(
            f"refund #{refund.id} was declined by {refund.decided_by or 'a person'}, not by "
            "the policy: only the policy's decline can be overridden"
        )
    if action == "approve" and refund.recorded_by == actor.username:
        raise RefundNotAllowed(
            f"Not allowed: you proposed refund #{refund.id}; another approver decides on it"
        )


# ------------------------------------------------------------------ checks


def _reason(text: str | None, what: str) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise RefundError(f"give a reason to {what} (it is kept with the refund)")
    return cleaned


def _cents(amount: float) -> float:
    return pricing.usd(amount)


def _amount(amount: float | None, most: float, what: str) -> float:
    """`amount` (default: `most`) as cents, refused when not positive or above `most`."""
    chosen = _cents(most if amount is None else amount)
    if chosen <= 0:
        raise RefundAmountError(f"the {what} must be more than $0.00")
    if chosen > _cents(most):
        raise RefundAmountError(
            f"the {what} ${chosen:,.2f} is above the ${_cents(most):,.2f} allowed: an amount "
            "can be lowered, never raised"
        )
    return chosen


def _scaled(per_product: Mapping[str, float], total: float) -> dict[str, float]:
    """Per-product amounts scaled so they add up to `total` (each rounded to cents)."""
    before = sum(per_product.values())
    if before <= 0:
        return {}
    return {p: _cents(v * total / before) for p, v in per_product.items()}


def _not_after(day: dt.date, today: dt.date, what: str) -> None:
    if day > today:
        raise RefundError(f"{what} {day:%Y-%m-%d} is in the future (today is {today:%Y-%m-%d})")


# ------------------------------------------------------------------ the actions


@dataclass(frozen=True)
class Proposal:
    """A refund to store, proposed from an offer (`message` names it `{id}`)."""

    customer_id: str
    scenario: str
    rule: str | None
    billing_month: dt.date
    amount_usd: float
    ceiling_usd: float
    per_product: dict[str, float]
    occurrence: int
    invoice_change: bool
    needs_approval: bool
    note: str | None
    message: str


def _covered(other: RefundView, month: dt.date) -> str:
    status = STATUS_LABELS.get(other.status, other.status).lower()
    return (
        f"refund #{other.id} ({status}) already covers "
        f"{policy_label(other.scenario).lower()} for {month:%B %Y}"
    )


def propose(
    customer_id: str,
    offer: Offer | None,
    actor: Actor,
    today: dt.date,
    existing: list[RefundView],
    *,
    amount_usd: float | None = None,
    invoice_change: bool = False,
    note: str | None = None,
    rules: Policy | None = None,
    scenario: str | None = None,
) -> Proposal:
    """A refund proposed from the findings' offer (lib.refunds.offers): its amount
    (editable down, never above it), scenario and billing month. `existing`: the
    customer's refunds (one per customer, billing month and scenario). `scenario`: the
    one asked for, to say which refund already covers it when the findings no longer
    offer one (a refund on record is not offered again)."""
    if not actor.writer:
        raise RefundNotAllowed(f"Not allowed: only {WHO_MAY['writer']} may propose a refund")
    if offer is None:
        month = today.replace(day=1)
        for other in existing:
            if other.key == (customer_id, month, scenario) and other.status != "declined":
                raise RefundStateError(_covered(other, month))
        raise RefundError("no open finding earns this refund under the policy now")
    if not offer.proposable:
        why = "; ".join(offer.reasons) or "the policy's conditions are not met"
        raise RefundError(f"not refundable now: {why}")
    month = offer.billing_month
    deadline = policy.ask_deadline(month, rules)
    if today > deadline:
        raise RefundWindowClosed(
            f"too late to propose: a refund of the {month:%B %Y} bill must be asked for by "
            f"{deadline:%Y-%m-%d}"
        )
    for other in existing:
        if other.key == (customer_id, month, offer.scenario):
            raise RefundStateError(_covered(other, month))
    occurrence = offer.occurrence
    amount = _amount(amount_usd, offer.amount_usd, "refund")
    approval = policy.needs_approval(amount, occurrence, rules, invoice_change=invoice_change)
    message = f"Refund #{{id}} of ${amount:,.2f} proposed ({policy_label(offer.scenario)}, "
    message += f"{month:%B %Y}): mark it requested when the customer asks, by {deadline:%Y-%m-%d}."
    if policy.declined_as_repeat(occurrence, rules):
        message += f" It is refund number {occurrence}: the policy will decline it."
    return Proposal(
        customer_id=customer_id,
        scenario=offer.scenario,
        rule=offer.rule,
        billing_month=month,
        amount_usd=amount,
        ceiling_usd=_cents(offer.amount_usd),
        per_product=_scaled(offer.per_product, amount),
        occurrence=occurrence,
        invoice_change=invoice_change,
        needs_approval=approval,
        note=(note or "").strip() or None,
        message=message,
    )


def request(
    refund: RefundView,
    actor: Actor,
    asked_on: dt.date,
    today: dt.date,
    prior: Mapping[str, int],
    rules: Policy | None = None,
) -> Move:
    """The customer asked for the refund on `asked_on`. `prior`: the customer's other
    refunds that count as repeats, per scenario (the recorded history, now).

    The repeat number is taken again from that history: a refund that became a repeat
    meanwhile offers at most the repeat share; a third is declined by the policy (an admin
    may override); above the threshold, a repeat or an invoice change waits for revenue
    operations; else the owner may issue it."""
    check(refund, "request", actor)
    _not_after(asked_on, today, "the day the customer asked,")
    month = refund.billing_month
    if month is None:
        raise RefundError(f"refund #{refund.id} has no billing month: decline it")
    if asked_on < month:
        raise RefundWindowClosed(
            f"the customer cannot have asked on {asked_on:%Y-%m-%d}, before the "
            f"{month:%B %Y} bill's month began"
        )
    deadline = policy.ask_deadline(month, rules)
    if asked_on > deadline:
        days = (rules or policy.policy()).ask_within_days
        raise RefundWindowClosed(
            f"asked on {asked_on:%Y-%m-%d}, after {deadline:%Y-%m-%d}: a refund must be asked "
            f"for within {days} days of the billing date ({policy.billing_date(month):%Y-%m-%d}"
            f" for the {month:%B %Y} bill). Decline it with a reason."
        )
    occurrence = sum(prior.values()) + 1
    was = refund.occurrence or occurrence
    ceiling = refund.ceiling_usd if refund.ceiling_usd is not None else refund.amount_usd
    if occurrence != was:  # the history changed since the proposal
        ceiling *= policy.ceiling_share(occurrence, rules) / policy.ceiling_share(was, rules)
    amount = min(_cents(refund.amount_usd), _cents(ceiling))
    fields: dict[str, Any] = {
        "requested_on": asked_on,
        "occurrence": occurrence,
        "ceiling_usd": _cents(ceiling),
        "amount_usd": amount,
        "per_product": _scaled(refund.per_product, amount),
    }
    if refund.scenario == "wrong_setup" and prior.get("wrong_setup", 0) > 0:
        return _policy_declines(
            fields, today, "a wrong-setup refund was already given (first time only)"
        )
    if policy.declined_as_repeat(occurrence, rules):
        return _policy_declines(
            fields, today, f"refund number {occurrence} for this customer: the policy declines it"
        )
    reasons = policy.approval_reasons(
        amount, occurrence, rules, invoice_change=refund.invoice_change
    )
    fields["needs_approval"] = bool(reasons)
    lowered = ""
    if amount < _cents(refund.amount_usd):
        lowered = f" (lowered to ${amount:,.2f}: it is refund number {occurrence})"
    if reasons:
        return Move(
            NEEDS_APPROVAL,
            fields,
            f"Refund #{refund.id} requested{lowered}; it waits for revenue operations: "
            f"{'; '.join(reasons)}.",
        )
    return Move(
        REQUESTED,
        fields,
        f"Refund #{refund.id} requested{lowered}: issue it when it is on the bill.",
    )


def _policy_declines(fields: dict[str, Any], today: dt.date, why: str) -> Move:
    reason = f"{why} (an admin may override with a reason)"
    return Move(
        DECLINED,
        {
            **fields,
            "decided_by": POLICY,
            "decided_on": today,
            "decision_reason": reason,
            "needs_approval": True,
        },
        f"Declined by the policy: {reason}.",
    )


def approve(
    refund: RefundView,
    actor: Actor,
    reason: str,
    today: dt.date,
    amount_usd: float | None = None,
) -> Move:
    """Revenue operations approve (an amount up to the one asked for), with a reason."""
    check(refund, "approve", actor)
    why = _reason(reason, "approve")
    amount = _amount(amount_usd, refund.amount_usd, "approved amount")
    return Move(
        APPROVED,
        {
            "decided_by": actor.username,
            "decided_on": today,
            "decision_reason": why,
            "amount_usd": amount,
            "per_product": _scaled(refund.per_product, amount),
        },
        f"Refund #{refund.id} approved (${amount:,.2f}): the owner issues it.",
    )


def decline(refund: RefundView, actor: Actor, reason: str, today: dt.date) -> Move:
    """Declined with a reason (the owner before approval, revenue operations after)."""
    check(refund, "decline", actor)
    why = _reason(reason, "decline")
    return Move(
        DECLINED,
        {"decided_by": actor.username, "decided_on": today, "decision_reason": why},
        f"Refund #{refund.id} declined.",
    )


def issue(
    refund: RefundView,
    actor: Actor,
    on: dt.date,
    reference: str,
    today: dt.date,
    amount_usd: float | None = None,
) -> Move:
    """Issued on the bill: the date, the amount (up to the one requested or approved) and
    the billing system's reference."""
    check(refund, "issue", actor)
    _not_after(on, today, "the issue date")
    if refund.requested_on is not None and on < refund.requested_on:
        raise RefundError(
            f"issued on {on:%Y-%m-%d}, before the customer asked ({refund.requested_on:%Y-%m-%d})"
        )
    ref = (reference or "").strip()
    if not ref:
        raise RefundError("give the billing system's reference (credit note or invoice number)")
    if len(ref) > MAX_REFERENCE:
        raise RefundError(f"the reference is at most {MAX_REFERENCE} characters ({len(ref)})")
    amount = _amount(amount_usd, refund.amount_usd, "issued amount")
    return Move(
        ISSUED,
        {"issued_on": on, "issued_usd": amount, "reference": ref},
        f"Refund #{refund.id} issued: ${amount:,.2f} on {on:%Y-%m-%d} ({ref}).",
    )


def override(refund: RefundView, actor: Actor, reason: str, today: dt.date) -> Move:
    """An admin overrides the policy's decline (a third refund), with a reason: revenue
    operations then decide as on any repeat."""
    check(refund, "override", actor)
    why = _reason(reason, "override the policy")
    return Move(
        NEEDS_APPROVAL,
        {
            "override_by": actor.username,
            "override_reason": why,
            "decided_by": None,
            "decided_on": None,
            "decision_reason": None,
            "needs_approval": True,
        },
        f"Refund #{refund.id}: policy overridden; it waits for revenue operations.",
    )


def policy_label(scenario: str) -> str:
    return labels.label("refund_scenario", scenario)


def conflict(yours_version: int, current: RefundView) -> RefundConflict:
    return RefundConflict(yours_version, current)
