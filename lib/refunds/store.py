"""Refunds in the database: proposing one from a finding, moving it through the workflow
(lib.refunds.workflow) with optimistic locking, the recorded history, the import of
refunds.csv and its export. Domain functions: the caller's Session, no commit; every
change lands in the change log (lib.store.journal) under the session's user."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from lib import pricing
from lib.audit.refunds import SCENARIOS, needs_approval
from lib.errors import NotFound, UserError
from lib.program import report_store
from lib.refunds import records, workflow
from lib.refunds.model import (
    LEGACY_STATUSES,
    OPEN,
    REPEATS,
    Actor,
    Move,
    RefundView,
)
from lib.refunds.offers import Offer, offers
from lib.store import journal, models
from lib.store.customer_data import prior_refund_counts
from lib.store.models import utcnow
from lib.vocabulary import REFUND_STATUSES

Refund = models.Refund


def _view(row: models.Refund, owner: str | None = None, name: str | None = None) -> RefundView:
    return RefundView(
        id=int(row.id),
        customer_id=row.customer_id,
        scenario=row.scenario,
        status=row.status,
        amount_usd=float(row.amount_usd),
        billing_month=row.billing_month,
        recorded_on=row.recorded_on,
        version=int(row.version or 1),
        rule=row.rule,
        per_product={str(k): float(v) for k, v in (row.per_product or {}).items()},
        ceiling_usd=row.ceiling_usd,
        occurrence=row.occurrence,
        invoice_change=bool(row.invoice_change),
        needs_approval=bool(row.needs_approval),
        requested_on=row.requested_on,
        decided_by=row.decided_by,
        decided_on=row.decided_on,
        decision_reason=row.decision_reason,
        override_by=row.override_by,
        override_reason=row.override_reason,
        issued_on=row.issued_on,
        issued_usd=row.issued_usd,
        reference=row.reference,
        note=row.note,
        recorded_by=row.recorded_by,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        owner=owner,
        customer_name=name,
    )


def _with_customers(session: Session, *where: Any) -> list[RefundView]:
    customer = models.Customer
    rows = session.execute(
        select(Refund, customer.owner, customer.name)
        .join(customer, customer.customer_id == Refund.customer_id)
        .where(*where)
        .order_by(Refund.recorded_on.desc(), Refund.id.desc())
        .execution_options(populate_existing=True)
    )
    return [_view(refund, owner, name) for refund, owner, name in rows]


# ------------------------------------------------------------------ reading


def history(session: Session, customer_id: str) -> list[RefundView]:
    """One customer's refunds, newest first."""
    return _with_customers(session, Refund.customer_id == customer_id)


def get(session: Session, refund_id: int) -> RefundView:
    found = _with_customers(session, Refund.id == refund_id)
    if not found:
        raise NotFound(f"no refund #{refund_id} (removed meanwhile?)")
    return found[0]


def open_refunds(session: Session, customer_ids: Iterable[str] | None = None) -> list[RefundView]:
    """Refunds not yet issued or declined (Today's list), of some customers or everyone's."""
    where = [Refund.status.in_(OPEN)]
    if customer_ids is not None:
        where.append(Refund.customer_id.in_(list(customer_ids)))
    return _with_customers(session, *where)


def keys(session: Session) -> set[tuple[str, dt.date | None, str]]:
    """(customer, billing month, scenario) of every refund recorded, whatever its status."""
    stmt = select(Refund.customer_id, Refund.billing_month, Refund.scenario)
    return {(str(c), m, str(s)) for c, m, s in session.execute(stmt)}


def _prior(session: Session, customer_id: str, excluding: int) -> dict[str, int]:
    """The customer's other refunds that count as repeats, per scenario."""
    stmt = (
        select(Refund.scenario, func.count())
        .where(
            Refund.customer_id == customer_id,
            Refund.status.in_(REPEATS),
            Refund.id != excluding,
        )
        .group_by(Refund.scenario)
    )
    return {str(s): int(n) for s, n in session.execute(stmt)}


# ------------------------------------------------------------------ the workflow


def offers_for(session: Session, customer_id: str, as_of: dt.date) -> list[Offer]:
    """What the policy offers the customer on `as_of` (lib.refunds.offers), from its report."""
    found = report_store.build(session, as_of, customer_id)
    if not found:
        raise NotFound(f"no such customer {customer_id!r}")
    return offers(found[0].findings, found[0].totals.refundable)


def propose(
    session: Session,
    actor: Actor,
    customer_id: str,
    scenario: str,
    as_of: dt.date,
    *,
    amount_usd: float | None = None,
    invoice_change: bool = False,
    note: str | None = None,
) -> tuple[int, str]:
    """Propose the refund the audit offers the customer in `scenario` on `as_of` (the
    amount, scenario and billing month are the server's, never the page's). Returns the
    new refund's id and a notice."""
    chosen = [o for o in offers_for(session, customer_id, as_of) if o.scenario == scenario]
    plan = workflow.propose(
        customer_id,
        chosen[0] if chosen else None,
        actor,
        as_of,
        history(session, customer_id),
        amount_usd=amount_usd,
        invoice_change=invoice_change,
        note=note,
        scenario=scenario,
    )
    refund = Refund(
        customer_id=customer_id,
        scenario=plan.scenario,
        rule=plan.rule,
        amount_usd=plan.amount_usd,
        per_product=plan.per_product,
        billing_month=plan.billing_month,
        status=workflow.PROPOSED,
        needs_approval=plan.needs_approval,
        note=plan.note,
        recorded_by=actor.username,
        recorded_on=as_of,
        ceiling_usd=plan.ceiling_usd,
        occurrence=plan.occurrence,
        invoice_change=plan.invoice_change,
        updated_by=actor.username,
        updated_at=utcnow(),
    )
    session.add(refund)
    session.flush()
    return int(refund.id), plan.message.format(id=refund.id)


def _move(
    session: Session,
    actor: Actor,
    refund_id: int,
    version: int,
    decide: Callable[[RefundView], Move],
) -> Move:
    """Apply one move to the refund the user saw at `version`; refused with a
    RefundConflict (nothing written) when someone changed it since."""
    row = session.get(Refund, refund_id, populate_existing=True)
    if row is None:
        raise NotFound(f"no refund #{refund_id} (removed meanwhile?)")
    current = get(session, refund_id)
    if current.version != version:
        raise workflow.conflict(version, current)
    move = decide(current)
    try:
        # The UPDATE names the version read above: a writer that committed since makes it
        # match no row. The savepoint keeps the caller's transaction usable to say who.
        with session.begin_nested():
            for name, value in move.fields.items():
                setattr(row, name, value)
            row.status = move.status
            row.updated_by = actor.username
            row.updated_at = utcnow()
            session.flush()
    except StaleDataError:
        raise workflow.conflict(version, get(session, refund_id)) from None
    return move


def request(
    session: Session,
    actor: Actor,
    refund_id: int,
    version: int,
    asked_on: dt.date,
    today: dt.date,
) -> Move:
    """The customer asked for the refund on `asked_on` (repeats from the history now)."""
    return _move(
        session,
        actor,
        refund_id,
        version,
        lambda r: workflow.request(r, actor, asked_on, today, _prior(session, r.customer_id, r.id)),
    )


def approve(
    session: Session,
    actor: Actor,
    refund_id: int,
    version: int,
    reason: str,
    today: dt.date,
    amount_usd: float | None = None,
) -> Move:
    return _move(
        session,
        actor,
        refund_id,
        version,
        lambda r: workflow.approve(r, actor, reason, today, amount_usd),
    )


def decline(
    session: Session, actor: Actor, refund_id: int, version: int, reason: str, today: dt.date
) -> Move:
    return _move(
        session, actor, refund_id, version, lambda r: workflow.decline(r, actor, reason, today)
    )


def issue(
    session: Session,
    actor: Actor,
    refund_id: int,
    version: int,
    on: dt.date,
    reference: str,
    today: dt.date,
    amount_usd: float | None = None,
) -> Move:
    return _move(
        session,
        actor,
        refund_id,
        version,
        lambda r: workflow.issue(r, actor, on, reference, today, amount_usd),
    )


def override(
    session: Session, actor: Actor, refund_id: int, version: int, reason: str, today: dt.date
) -> Move:
    return _move(
        session, actor, refund_id, version, lambda r: workflow.override(r, actor, reason, today)
    )


# ------------------------------------------------------------------ history


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
    """Store a refund the customer already had (history: the demo, a move from another
    tool), asked for on `on`; it counts as a repeat from now on. Returns its id.

    `status` defaults to `needs_approval` when the policy wants revenue operations to
    approve it (above the threshold, or a repeat), else `issued` (issued on `on`).
    Raises UserError on an unknown scenario or status or a negative amount."""
    status = LEGACY_STATUSES.get(status or "", status)
    if scenario not in SCENARIOS:
        raise UserError(f"unknown refund scenario {scenario!r}; expected one of {SCENARIOS}")
    if status is not None and status not in REFUND_STATUSES:
        raise UserError(f"unknown refund status {status!r}; expected one of {REFUND_STATUSES}")
    if amount_usd < 0 or any(v < 0 for v in per_product.values()):
        raise UserError("a refund amount cannot be negative")
    if session.get(models.Customer, customer_id) is None:
        raise NotFound(f"no such customer {customer_id!r}")
    prior = prior_refund_counts(session, [customer_id]).get(customer_id, {})
    occurrence = sum(prior.values()) + 1
    approval = needs_approval(amount_usd, occurrence)
    status = status or (workflow.NEEDS_APPROVAL if approval else workflow.ISSUED)
    day = on or dt.date.today()
    user = journal.user_of(session)
    amount = pricing.usd(amount_usd)
    refund = Refund(
        customer_id=customer_id,
        scenario=scenario,
        rule=rule,
        amount_usd=amount,
        per_product={p: pricing.usd(v) for p, v in per_product.items()},
        billing_month=billing_month,
        status=status,
        needs_approval=approval,
        note=note,
        recorded_by=user,
        recorded_on=day,
        ceiling_usd=amount,
        occurrence=occurrence,
        requested_on=day if status != workflow.PROPOSED else None,
        issued_on=day if status == workflow.ISSUED else None,
        issued_usd=amount if status == workflow.ISSUED else None,
        decided_on=day if status == workflow.DECLINED else None,
        updated_by=user,
        updated_at=utcnow(),
    )
    session.add(refund)
    session.flush()
    return int(refund.id)


# ------------------------------------------------------------------ refunds.csv


def import_rows(
    session: Session, rows: Iterable[Mapping[str, str]], today: dt.date
) -> tuple[int, int, int]:
    """Validated refunds.csv rows (text cells) into the refunds table, matched on
    customer_id + billing_month + scenario (the newest such refund): (added, updated,
    unchanged). Through the ORM, so every change is in the change log and takes a new
    version (a page holding the old one is refused)."""
    user = journal.user_of(session)
    wanted = [records.fields_of(row) for row in rows]
    customer_ids = sorted({str(f["customer_id"]) for f in wanted})
    existing: dict[tuple[str, dt.date | None, str], models.Refund] = {}  # the newest wins
    for first in range(0, len(customer_ids), 500):
        stmt = (
            select(Refund)
            .where(Refund.customer_id.in_(customer_ids[first : first + 500]))
            .order_by(Refund.id)
        )
        for stored in session.scalars(stmt):
            existing[(stored.customer_id, stored.billing_month, stored.scenario)] = stored
    added = updated = unchanged = 0
    for fields in wanted:
        key = (fields["customer_id"], fields["billing_month"], fields["scenario"])
        row = existing.get(key)
        if row is None:
            amount = float(fields["amount_usd"])
            refund = Refund(
                **{"recorded_on": today, "recorded_by": user, "invoice_change": False, **fields},
                ceiling_usd=amount,
                per_product={},
                needs_approval=False,
                updated_by=user,
                updated_at=utcnow(),
            )
            session.add(refund)
            existing[key] = refund
            added += 1
            continue
        changed = {k: v for k, v in fields.items() if _differs(getattr(row, k), v)}
        if not changed:
            unchanged += 1
            continue
        for name, value in changed.items():
            setattr(row, name, value)
        row.updated_by = user
        row.updated_at = utcnow()
        updated += 1
    session.flush()
    return added, updated, unchanged


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, float) or isinstance(new, float):
        if old is None or new is None:
            return old is not new
        return abs(float(old) - float(new)) > 1e-9
    return bool(old != new)


def export_frame(session: Session, customer_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Every refund (of some customers) as refunds.csv rows, by customer, oldest first;
    offer it through lib.csv_safe. Imported again, it changes nothing."""
    chosen = None if customer_ids is None else set(customer_ids)
    # A few customers (a customer page): asked for; many (an Outcomes period): filtered here.
    where = [Refund.customer_id.in_(sorted(chosen))] if chosen and len(chosen) <= 500 else []
    views = sorted(
        (r for r in _with_customers(session, *where) if chosen is None or r.customer_id in chosen),
        key=lambda r: (r.customer_id, r.recorded_on, r.id),
    )
    return pd.DataFrame([records.row_of(r) for r in views], columns=list(records.COLUMNS))
