"""The per-customer window sums kept per as-of date instead of summed per page load
(docs/rules.md, "Usage sums kept per date")."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine, delete, exc, insert, literal, select
from sqlalchemy.orm import Session

from lib import windows
from lib.store import bulk, db, models
from lib.store.customer_data import aggregate_select

KEEP_DATES = 3
# Up to this many touched customers are refreshed by id (an IN list on the
# primary key); more, and the date is recomputed for everyone in one pass.
REFRESH_BY_ID_UP_TO = 500

log = logging.getLogger(__name__)

_SUMMARY = models.table(models.CustomerUsageSummary)
_DATES = models.table(models.UsageSummaryDate)


def kept_dates(session: Session) -> list[dt.date]:
    return sorted(session.scalars(select(_DATES.c.as_of)), reverse=True)


def is_kept(session: Session, as_of: dt.date) -> bool:
    return session.scalar(select(_DATES.c.as_of).where(_DATES.c.as_of == as_of)) is not None


def _fill(session: Session, as_of: dt.date, customer_ids: list[str] | None) -> None:
    """Sum usage into the summary for `as_of` (everyone, or these customers)."""
    sums = aggregate_select(
        as_of, customer_ids, leading=[literal(as_of, _SUMMARY.c.as_of.type).label("as_of")]
    )
    session.execute(
        insert(_SUMMARY).from_select(["as_of", "customer_id", "metric", *windows.AGGREGATES], sums)
    )


def _forget(session: Session, as_of: dt.date, customer_ids: list[str] | None = None) -> None:
    where = _SUMMARY.c.as_of == as_of
    if customer_ids is not None:
        where = where & _SUMMARY.c.customer_id.in_(customer_ids)
    session.execute(delete(_SUMMARY).where(where))


def _remember(session: Session, as_of: dt.date) -> None:
    session.execute(delete(_DATES).where(_DATES.c.as_of == as_of))
    session.execute(insert(_DATES).values(as_of=as_of, refreshed_at=models.utcnow()))


def _drop(session: Session, as_of: dt.date) -> None:
    session.execute(delete(_DATES).where(_DATES.c.as_of == as_of))
    _forget(session, as_of)


@dataclass(frozen=True)
class Rows:
    """Every usage row of some dates, as the import holds them (validated): when
    nothing else is stored for those dates, the sums come from these in memory."""

    customer_ids: pd.Series
    metrics: pd.Series
    dates: pd.Series  # ISO text
    values: np.ndarray  # int64

    def covers(self, as_of: dt.date) -> bool:
        """Whether every day the sums as of `as_of` read is among these rows' dates."""
        if self.dates.empty:
            return False
        first, last = str(self.dates.min()), str(self.dates.max())
        return (
            first <= windows.Windows(as_of).baseline_start.isoformat() and as_of.isoformat() <= last
        )


def sums_from_rows(rows: Rows, as_of: dt.date) -> list[np.ndarray]:
    """The report's aggregates as of `as_of` (the same numbers as report.aggregate_select
    over these rows), as columns: customer_id, metric, then AGGREGATES. Integer sums."""
    day_codes, days = pd.factorize(rows.dates)
    age = np.array([(as_of - dt.date.fromisoformat(str(d))).days for d in days], dtype=np.int64)
    age = age[day_codes]  # days before as-of, per row
    keep = (age >= 0) & (age < windows.WINDOW_DAYS + windows.BASELINE_DAYS)
    customer_codes, customers = pd.factorize(rows.customer_ids[keep])
    metric_codes, metrics = pd.factorize(rows.metrics[keep])
    key = customer_codes.astype(np.int64) * len(metrics) + metric_codes
    order = np.argsort(key, kind="stable")
    key, age, value = key[order], age[keep][order], rows.values[keep][order]
    if not len(key):
        return [np.array([], dtype=object)] * (2 + len(windows.AGGREGATES))
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    window = age < windows.WINDOW_DAYS
    baseline = ~window
    positive = value > 0

    def total(mask: np.ndarray) -> np.ndarray:
        return np.add.reduceat(np.where(mask, value, 0), starts)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.add.reduceat(mask.astype(np.int64), starts)

    sums = {
        "last_30": total(window),
        "prior_90": total(baseline),
        "max_day_30": np.maximum.reduceat(np.where(window, value, 0), starts),
        "days_30": count(window & positive),
        "last_7": total(age < 7),
        "prev_7": total((age >= 7) & (age < 14)),
        "last_3": total(age < 3),
        "days_prior_90": count(baseline & positive),
    }
    first = key[starts]
    return [
        np.asarray(customers, dtype=object)[first // len(metrics)],
        np.asarray(metrics, dtype=object)[first % len(metrics)],
        *[sums[name].astype(object) for name in windows.AGGREGATES],
    ]


def _fill_from_rows(session: Session, as_of: dt.date, rows: Rows) -> None:
    columns = sums_from_rows(rows, as_of)
    count = len(columns[0])
    bulk.insert_columns(
        session.connection(),
        _SUMMARY,
        ["as_of", "customer_id", "metric", *windows.AGGREGATES],
        [
            [
                np.full(min(bulk.CHUNK, count - start), as_of.isoformat(), dtype=object),
                *[column[start : start + bulk.CHUNK] for column in columns],
            ]
            for start in range(0, count, bulk.CHUNK)
        ],
    )


def refresh(
    session: Session,
    customer_ids: Iterable[str] | None = None,
    dates: Iterable[dt.date] = (),
    today: dt.date | None = None,
    only_rows: Rows | None = None,
) -> list[dt.date]:
    """After usage of `customer_ids` (None: anyone) changed, inside the writing transaction.

    Refreshes today's date (and `dates`) for everyone who needs it, the other kept
    dates for the touched customers when they are few (else drops them). Returns
    the dates now kept. `only_rows`: the whole of the usage of their dates (a first
    load); a wanted date they cover is summed from them in memory, not from the table.
    """
    today = today or dt.date.today()
    touched = None if customer_ids is None else sorted(set(customer_ids))
    few = touched is not None and len(touched) <= REFRESH_BY_ID_UP_TO
    kept = set(kept_dates(session))
    wanted = {today, *dates}
    # The wanted dates last: they are then the most recently refreshed, kept by _prune.
    for as_of in [*sorted(kept - wanted), *sorted(wanted)]:
        if as_of in kept and few:
            _forget(session, as_of, touched)
            _fill(session, as_of, touched)
            _remember(session, as_of)
        elif as_of in wanted:
            _forget(session, as_of)
            if only_rows is not None and only_rows.covers(as_of):
                _fill_from_rows(session, as_of, only_rows)
            else:
                _fill(session, as_of, None)
            _remember(session, as_of)
        else:
            _drop(session, as_of)
    return _prune(session)


def _prune(session: Session) -> list[dt.date]:
    """Keep the KEEP_DATES most recently refreshed dates."""
    kept = list(
        session.scalars(
            select(_DATES.c.as_of).order_by(_DATES.c.refreshed_at.desc(), _DATES.c.as_of.desc())
        )
    )
    for as_of in kept[KEEP_DATES:]:
        _drop(session, as_of)
    return sorted(kept[:KEEP_DATES], reverse=True)


def ensure(engine: Engine, as_of: dt.date, user: str = "system") -> bool:
    """Make sure the summary holds `as_of` (filled once, in a write transaction of
    its own). Returns False when it could not be written (e.g. a read-only
    database): the report then sums usage directly, as before."""
    with db.read_session(engine) as session:
        if is_kept(session, as_of):
            return True
    try:
        with db.write_session(engine, user) as session:
            if not is_kept(session, as_of):  # another writer may have filled it meanwhile
                _forget(session, as_of)
                _fill(session, as_of, None)
                _remember(session, as_of)
                _prune(session)
    except exc.DBAPIError as error:
        log.warning("usage summary for %s not stored (%s); summing usage directly", as_of, error)
        return False
    return True
