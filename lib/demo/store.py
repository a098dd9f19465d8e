"""The demo data set written to the database (`load`), and the program's story so far
recorded through the code the team uses (`record_history`); the caller owns the session."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, cast, delete, insert, select, update
from sqlalchemy.orm import Session

from lib.audit import finding_store
from lib.demo import replies as demo_replies
from lib.demo.contacts import contact_rows
from lib.demo.dataset import DemoData
from lib.demo.history import (
    FIXED_NOTE,
    FIXES_ON_CALL,
    FixOnCall,
    first_seen,
    fixed_on_call,
    held_call_on,
    plan_refunds,
)
from lib.program import report_store
from lib.refunds import store as refund_store
from lib.store import bulk, journal, models, usage_summary

# Every table the demo fills, children first (what `replace` empties).
_TABLES = (
    models.EmailMessage,
    models.StageOverride,
    models.CustomerUsageSummary,
    models.UsageSummaryDate,
    models.Usage,
    models.Step,
    models.Meeting,
    models.Goal,
    models.HomeworkAssignment,
    models.FindingState,
    models.Refund,
    models.Contact,
    models.ConfigValue,
    models.Subscription,
    models.Customer,
)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [{str(k): v for k, v in r.items()} for r in records]


def load(session: Session, data: DemoData, replace: bool = False) -> None:
    """Write the demo data set (with `replace`, after emptying every table it fills)."""
    if replace:
        for model in _TABLES:
            session.execute(delete(model))
    session.execute(insert(models.table(models.Customer)), _records(data.customers))
    session.execute(insert(models.table(models.Subscription)), _records(data.subscriptions))
    session.execute(insert(models.table(models.ConfigValue)), _records(data.config))
    people = contact_rows(data.customers["customer_id"].tolist())
    if people:
        session.execute(insert(models.table(models.Contact)), people)
    _insert_usage(session, data.usage)
    session.execute(
        insert(models.table(models.Step)),
        [{**r, "recorded_by": r.get("recorded_by") or "demo"} for r in _records(data.steps)],
    )
    if data.meetings:
        session.execute(insert(models.table(models.Meeting)), data.meetings)
    _insert_replies(session, data)
    # The data set's own as-of (its last day of usage) and today, for the pages.
    last_day = data.usage["date"].max() if len(data.usage) else None
    usage_summary.refresh(session, None, dates=[last_day] if last_day else [])
    journal.log_write(
        session,
        "demo",
        "customers",
        {"customers": len(data.customers), "usage_rows": len(data.usage)},
    )


def _insert_replies(session: Session, data: DemoData) -> None:
    """The customers' answers to the initial outreach (lib.demo.replies), from their
    primary contact's address, as of the data set's last day."""
    if data.usage.empty:
        return
    contacts = {
        cid: f"{name} <{email}>"
        for cid, name, email in session.execute(
            select(models.Contact.customer_id, models.Contact.name, models.Contact.email).where(
                models.Contact.is_primary.is_(True)
            )
        )
    }
    rows = demo_replies.plan(data.customers, data.steps, contacts, data.usage["date"].max())
    if rows:
        session.execute(insert(models.table(models.EmailMessage)), rows)


def _insert_usage(session: Session, usage: pd.DataFrame) -> None:
    # Millions of rows: plain values through the driver (lib.store.bulk), not per-row
    # SQLAlchemy processing; dates as ISO text, converted once per distinct day.
    days = {day: day.isoformat() for day in usage["date"].unique()}
    iso_dates = usage["date"].map(days).to_numpy(dtype=object)
    bulk.insert_columns(
        session.connection(),
        models.table(models.Usage),
        ["customer_id", "metric", "date", "value"],
        (
            [
                usage["customer_id"].iloc[start : start + bulk.CHUNK].to_numpy(dtype=object),
                usage["metric"].iloc[start : start + bulk.CHUNK].to_numpy(dtype=object),
                iso_dates[start : start + bulk.CHUNK],
                usage["value"].iloc[start : start + bulk.CHUNK].to_numpy(dtype=object),
            ]
            for start in range(0, len(usage), bulk.CHUNK)
        ),
    )


# ------------------------------------------------------------ program history


def record_history(session: Session, as_of: dt.date, seed: int = 7) -> dict[str, int]:
    """The audit's story so far, through the same code the team uses.

    Findings are first seen on the customer's initial outreach; on a held first
    call up to two of them are fixed (from then on the usage and config show the
    fix, so the audit agrees); then the refunds customers had, through
    `refund_store.record` (lib.demo.history.plan_refunds: wrong-setup refunds offered
    in the outreach, learning-curve refunds of a first bill, spike refunds; a second
    one is a repeat at half for approval, a third is not offered), each by the
    customer's owner. Deterministic for a seed.
    """
    rng = np.random.default_rng(seed + 1_000)
    fixed = _fix_on_calls(session, as_of, rng)
    session.flush()
    occurrences = _record_refunds(session, as_of, rng)
    return {
        "findings_fixed": fixed,
        "refunds": len(occurrences),
        "repeats": sum(1 for n in occurrences if n >= 2),
    }


def _fix_on_calls(session: Session, as_of: dt.date, rng: np.random.Generator) -> int:
    """Record the audit of as-of, date each finding, fix some on the first call."""
    finding_store.sync(session, as_of)
    steps = {
        (cid, step): (status, date)
        for cid, step, status, date in session.execute(
            select(models.Step.customer_id, models.Step.step, models.Step.status, models.Step.date)
        )
    }
    entered = dict(
        session.execute(
            select(models.Customer.customer_id, models.Customer.segment_entered_on)
        ).all()
    )
    by_customer: dict[str, list[models.FindingState]] = {}
    for state in session.scalars(
        select(models.FindingState).order_by(
            models.FindingState.customer_id, models.FindingState.rule
        )
    ):
        by_customer.setdefault(state.customer_id, []).append(state)
    touched: list[str] = []
    for customer_id, states in by_customer.items():
        seen = first_seen(steps.get((customer_id, "initial_outreach")), entered[customer_id], as_of)
        for state in states:
            state.first_seen_on = seen
        call_day = held_call_on(steps.get((customer_id, "first_meeting")), as_of)
        if call_day is None:
            continue
        for state in fixed_on_call(states, rng):
            _apply_fix(session, customer_id, FIXES_ON_CALL[state.rule], call_day)
            state.state = "fixed"
            state.fixed_on = call_day
            state.note = FIXED_NOTE
            touched.append(customer_id)
    if touched:
        usage_summary.refresh(session, sorted(set(touched)), today=as_of)
    return len(touched)


def _apply_fix(session: Session, customer_id: str, fix: FixOnCall, since: dt.date) -> None:
    usage = models.table(models.Usage)
    for metric, factor in fix.usage:
        rows = (usage.c.customer_id == customer_id) & (usage.c.metric == metric)
        rows &= usage.c.date >= since
        if factor == 0:
            session.execute(delete(usage).where(rows))
        else:
            session.execute(
                update(usage).where(rows).values(value=cast(usage.c.value * factor, BigInteger))
            )
    for key, value in fix.config:
        row = session.get(models.ConfigValue, (customer_id, key))
        if row is None:
            session.add(models.ConfigValue(customer_id=customer_id, key=key, value=value))
        else:
            row.value = value
    for product in fix.drop_products:
        subscriptions = models.table(models.Subscription)
        session.execute(
            delete(subscriptions).where(
                (subscriptions.c.customer_id == customer_id) & (subscriptions.c.product == product)
            )
        )


def _record_refunds(session: Session, as_of: dt.date, rng: np.random.Generator) -> list[int]:
    """Record each customer's refunds of the story (lib.demo.history.plan_refunds), oldest
    first, each as the customer's owner; returns each refund's number for its customer."""
    outreach_on = {
        customer_id: day
        for customer_id, day in session.execute(
            select(models.Step.customer_id, models.Step.date).where(
                (models.Step.step == "initial_outreach") & (models.Step.status == "done")
            )
        )
        if day is not None and day <= as_of
    }
    reports = report_store.build(session, as_of)
    owners = {r.customer_id: r.customer.owner for r in reports}
    writer = journal.user_of(session)
    occurrences = []
    for refund in plan_refunds(reports, outreach_on, as_of, rng):
        # The owner records it (the refund's recorded_by and the change journal say so).
        journal.set_user(session, owners[refund.customer_id] or writer)
        extra = {"status": refund.status} if refund.status else {}
        try:
            refund_store.record(
                session,
                customer_id=refund.customer_id,
                scenario=refund.scenario,
                amount_usd=refund.amount_usd,
                per_product=refund.per_product,
                billing_month=refund.billing_month,
                note=refund.note,
                rule=refund.rule,
                on=refund.on,
                **extra,
            )
        finally:
            journal.set_user(session, writer)
        occurrences.append(refund.occurrence)
    return occurrences
