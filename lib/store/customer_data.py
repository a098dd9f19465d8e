"""Everything stored about the customers a report covers, read in a few queries (window
sums from customer_usage_summary when it holds the date, else from usage)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from lib.store import models
from lib.vocabulary import METRICS, REFUND_REPEAT_STATUSES
from lib.windows import AGGREGATES, Windows

# A recorded step as stored: (status, date); lib.program.timeline reads it.
StepRow = tuple[str, dt.date]


@dataclass
class UsageAggregates:
    """Per customer (index) and metric (columns): the window sums the audit reads."""

    last_30: pd.DataFrame  # sum over the 30 days ending on as-of
    prior_90: pd.DataFrame  # sum over the 90 days before that window
    max_day_30: pd.DataFrame  # the largest single day inside the window
    days_30: pd.DataFrame  # days with a non-zero value inside the window
    # For the audit and health: recent days (spike over? 7-day trend) and how much
    # history the baseline really has.
    last_7: pd.DataFrame = field(default_factory=pd.DataFrame)  # the 7 days ending on as-of
    prev_7: pd.DataFrame = field(default_factory=pd.DataFrame)  # the 7 days before those
    last_3: pd.DataFrame = field(default_factory=pd.DataFrame)  # the 3 days ending on as-of
    days_prior_90: pd.DataFrame = field(default_factory=pd.DataFrame)  # non-zero baseline days

    def customer(self, customer_id: str) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for name in AGGREGATES:
            frame: pd.DataFrame = getattr(self, name)
            if customer_id in frame.index:
                row = frame.loc[customer_id].to_numpy(dtype=float)
                out[name] = {str(c): float(v) for c, v in zip(frame.columns, row, strict=True)}
            else:
                out[name] = dict.fromkeys(METRICS, 0.0)
        return out


def aggregate_select(
    as_of: dt.date, customer_ids: list[str] | None = None, leading: Sequence[Any] = ()
) -> Select[Any]:
    """The direct sums: customer_id, metric, then AGGREGATES, grouped per customer x metric
    (after any `leading` columns). lib.store.usage_summary stores exactly this."""
    windows = Windows(as_of)
    usage = models.table(models.Usage)
    in_window = usage.c.date.between(windows.start, as_of)
    in_baseline = usage.c.date.between(windows.baseline_start, windows.baseline_end)
    in_last_7 = usage.c.date >= as_of - dt.timedelta(days=6)
    in_prev_7 = usage.c.date.between(as_of - dt.timedelta(days=13), as_of - dt.timedelta(days=7))
    in_last_3 = usage.c.date >= as_of - dt.timedelta(days=2)
    stmt = (
        select(
            *leading,
            usage.c.customer_id,
            usage.c.metric,
            func.sum(case((in_window, usage.c.value), else_=0)).label("last_30"),
            func.sum(case((in_baseline, usage.c.value), else_=0)).label("prior_90"),
            func.max(case((in_window, usage.c.value), else_=0)).label("max_day_30"),
            func.sum(case((in_window & (usage.c.value > 0), 1), else_=0)).label("days_30"),
            func.sum(case((in_last_7, usage.c.value), else_=0)).label("last_7"),
            func.sum(case((in_prev_7, usage.c.value), else_=0)).label("prev_7"),
            func.sum(case((in_last_3, usage.c.value), else_=0)).label("last_3"),
            func.sum(case((in_baseline & (usage.c.value > 0), 1), else_=0)).label("days_prior_90"),
        )
        .where(usage.c.date.between(windows.baseline_start, as_of))
        .group_by(usage.c.customer_id, usage.c.metric)
    )
    if customer_ids is not None:
        stmt = stmt.where(usage.c.customer_id.in_(customer_ids))
    return stmt


def _summary_select(as_of: dt.date, customer_ids: list[str] | None) -> Select[Any]:
    summary = models.table(models.CustomerUsageSummary)
    stmt = select(
        summary.c.customer_id, summary.c.metric, *[summary.c[name] for name in AGGREGATES]
    ).where(summary.c.as_of == as_of)
    if customer_ids is not None:
        stmt = stmt.where(summary.c.customer_id.in_(customer_ids))
    return stmt


def usage_aggregates(
    session: Session, as_of: dt.date, customer_ids: list[str] | None = None
) -> UsageAggregates:
    """From the summary table when it holds `as_of` (lib.store.usage_summary), else summed
    from usage directly; the two are the same numbers."""
    dates = models.table(models.UsageSummaryDate)
    kept = session.scalar(select(dates.c.as_of).where(dates.c.as_of == as_of)) is not None
    stmt = _summary_select(as_of, customer_ids) if kept else aggregate_select(as_of, customer_ids)
    return _wide(session.execute(stmt).all())


def _wide(rows: Sequence[Any]) -> UsageAggregates:
    """(customer_id, metric, *AGGREGATES) rows -> one customer x metric frame per aggregate,
    in one numpy pass (a pandas pivot per aggregate cost ~1 s at 10,000 customers)."""
    metrics = pd.Index(list(METRICS), name="metric")
    if not rows:
        empty = pd.DataFrame(columns=metrics, dtype=float, index=pd.Index([], name="customer_id"))
        return UsageAggregates(**{name: empty.copy() for name in AGGREGATES})
    customer_ids, metric_names, *values = zip(*rows, strict=True)
    customers, row_of = np.unique(np.asarray(customer_ids, dtype=object), return_inverse=True)
    position = {metric: i for i, metric in enumerate(METRICS)}
    column_of = np.fromiter((position.get(m, -1) for m in metric_names), dtype=np.int64)
    known = column_of >= 0  # a metric the vocabulary does not know is not reported
    cube = np.zeros((len(customers), len(METRICS), len(AGGREGATES)), dtype=float)
    cube[row_of[known], column_of[known]] = np.asarray(values, dtype=float).T[known]
    index = pd.Index(customers, name="customer_id", dtype=object)
    return UsageAggregates(
        **{
            name: pd.DataFrame(cube[:, :, k], index=index, columns=metrics)
            for k, name in enumerate(AGGREGATES)
        }
    )


@dataclass
class CustomerData:
    """Everything stored about the customers a report covers, read in a few queries."""

    customers: list[models.Customer]
    steps: dict[str, dict[str, StepRow]]
    subscriptions: dict[str, dict[str, float | None]]  # product -> billing limit
    config: dict[str, dict[str, str]]
    usage: UsageAggregates
    # The team's decisions on findings, and refunds already given (repeats count).
    finding_states: dict[str, dict[str, models.FindingState]] = field(default_factory=dict)
    refunds: dict[str, dict[str, int]] = field(default_factory=dict)  # scenario -> count
    # (scenario, billing month) of every refund on record and not declined, proposals too:
    # a finding whose refund is on record does not offer it again.
    refunds_on_record: dict[str, frozenset[tuple[str, dt.date]]] = field(default_factory=dict)
    # What the engagement stage reads (lib.program.stage): the customer's answers (first
    # and last day, on or before as-of), the kinds of email sent from the console, and
    # stages set by hand.
    replies: dict[str, tuple[dt.date, dt.date]] = field(default_factory=dict)
    sent: dict[str, frozenset[str]] = field(default_factory=dict)
    stage_overrides: dict[str, models.StageOverride] = field(default_factory=dict)

    def subscribed_frame(self) -> pd.DataFrame:
        index = [c.customer_id for c in self.customers]
        products = sorted({p for subs in self.subscriptions.values() for p in subs})
        return pd.DataFrame(
            {
                product: [product in self.subscriptions.get(cid, ()) for cid in index]
                for product in products
            },
            index=index,
            columns=products,
            dtype=bool,
        )


def load_customer_data(
    session: Session, as_of: dt.date, customer_id: str | None = None, owner: str | None = None
) -> CustomerData:
    """Everything about every customer, one customer, or one owner's customers."""
    customer_stmt = select(models.Customer).order_by(models.Customer.customer_id)
    if customer_id is not None:
        customer_stmt = customer_stmt.where(models.Customer.customer_id == customer_id)
    if owner is not None:
        customer_stmt = customer_stmt.where(models.Customer.owner == owner)
    customers = list(session.scalars(customer_stmt))
    ids = (
        None
        if customer_id is None and owner is None
        else [customer.customer_id for customer in customers]
    )

    def scoped(stmt: Any, model: Any) -> Any:
        return stmt if ids is None else stmt.where(model.customer_id.in_(ids))

    steps: dict[str, dict[str, StepRow]] = defaultdict(dict)
    for cid, step, status, date in session.execute(
        scoped(
            select(models.Step.customer_id, models.Step.step, models.Step.status, models.Step.date),
            models.Step,
        )
    ):
        steps[cid][step] = (status, date)

    subscriptions: dict[str, dict[str, float | None]] = defaultdict(dict)
    for cid, product, limit in session.execute(
        scoped(
            select(
                models.Subscription.customer_id,
                models.Subscription.product,
                models.Subscription.billing_limit_usd,
            ),
            models.Subscription,
        )
    ):
        subscriptions[cid][product] = limit

    config: dict[str, dict[str, str]] = defaultdict(dict)
    for cid, key, value in session.execute(
        scoped(
            select(
                models.ConfigValue.customer_id, models.ConfigValue.key, models.ConfigValue.value
            ),
            models.ConfigValue,
        )
    ):
        config[cid][key] = value

    finding_states: dict[str, dict[str, models.FindingState]] = defaultdict(dict)
    for state in session.scalars(scoped(select(models.FindingState), models.FindingState)):
        finding_states[state.customer_id][state.rule] = state

    return CustomerData(
        customers=customers,
        steps=dict(steps),
        subscriptions=dict(subscriptions),
        config=dict(config),
        usage=usage_aggregates(session, as_of, ids),
        finding_states=dict(finding_states),
        refunds=prior_refund_counts(session, ids),
        refunds_on_record=refunds_on_record(session, ids),
        **engagement(session, as_of, ids),
    )


def engagement(session: Session, as_of: dt.date, customer_ids: list[str] | None) -> dict[str, Any]:
    """replies, sent and stage_overrides of CustomerData, in three grouped queries."""
    message = models.EmailMessage
    replies_stmt = (
        select(message.customer_id, func.min(message.on), func.max(message.on))
        .where(message.direction == "in", message.on <= as_of)
        .group_by(message.customer_id)
    )
    sent_stmt = (
        select(message.customer_id, message.kind)
        .where(message.direction == "out", message.status == "sent", message.on <= as_of)
        .distinct()
    )
    override_stmt = select(models.StageOverride)
    if customer_ids is not None:
        replies_stmt = replies_stmt.where(message.customer_id.in_(customer_ids))
        sent_stmt = sent_stmt.where(message.customer_id.in_(customer_ids))
        override_stmt = override_stmt.where(models.StageOverride.customer_id.in_(customer_ids))
    sent: dict[str, set[str]] = defaultdict(set)
    for customer_id, kind in session.execute(sent_stmt):
        sent[customer_id].add(kind)
    return {
        "replies": {cid: (first, last) for cid, first, last in session.execute(replies_stmt)},
        "sent": {cid: frozenset(kinds) for cid, kinds in sent.items()},
        "stage_overrides": {o.customer_id: o for o in session.scalars(override_stmt)},
    }


def refunds_on_record(
    session: Session, customer_ids: list[str] | None = None
) -> dict[str, frozenset[tuple[str, dt.date]]]:
    """(scenario, billing month) of each customer's refunds that are not declined."""
    refund = models.Refund
    stmt = select(refund.customer_id, refund.scenario, refund.billing_month).where(
        refund.status != "declined", refund.billing_month.is_not(None)
    )
    if customer_ids is not None:
        stmt = stmt.where(refund.customer_id.in_(customer_ids))
    found: dict[str, set[tuple[str, dt.date]]] = defaultdict(set)
    for customer_id, scenario, month in session.execute(stmt):
        if month is not None:
            found[customer_id].add((scenario, month))
    return {cid: frozenset(pairs) for cid, pairs in found.items()}


def prior_refund_counts(
    session: Session, customer_ids: list[str] | None = None
) -> dict[str, dict[str, int]]:
    """Refunds the customer asked for and nobody declined, per customer and scenario
    (repeats count; a proposal the customer has not asked for yet does not)."""
    refund = models.Refund
    stmt = (
        select(refund.customer_id, refund.scenario, func.count())
        .where(refund.status.in_(REFUND_REPEAT_STATUSES))
        .group_by(refund.customer_id, refund.scenario)
    )
    if customer_ids is not None:
        stmt = stmt.where(refund.customer_id.in_(customer_ids))
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for customer_id, scenario, count in session.execute(stmt):
        counts[customer_id][scenario] = int(count)
    return dict(counts)


def owners(session: Session) -> list[str]:
    """Every owner named on a customer, sorted."""
    named = session.scalars(
        select(models.Customer.owner).where(models.Customer.owner.is_not(None)).distinct()
    )
    return sorted(str(owner) for owner in named if owner)


def customer_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(models.Customer)) or 0)
