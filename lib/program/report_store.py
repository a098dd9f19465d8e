"""Reports of stored customers: everyone's, one customer's or one owner's; and, after a
write, the same list with only the written customers' reports built again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lib.program.report import CustomerReport, build_from_data
from lib.store import models
from lib.store.customer_data import load_customer_data


def build(
    session: Session,
    as_of: dt.date,
    customer_id: str | None = None,
    owner: str | None = None,
) -> list[CustomerReport]:
    """Reports of every customer, or of one customer, or of one owner's customers.

    Everyone's usage sums come from the summary table: call
    lib.store.usage_summary.ensure first for a date it may lack.
    """
    return build_from_data(load_customer_data(session, as_of, customer_id, owner), as_of)


def audit_mark(session: Session) -> int:
    """The newest audit-log entry's id (0 when there is none): every write leaves one
    (lib.store.journal), so a list built after reading it misses nothing written before."""
    return int(session.scalar(select(func.max(models.AuditLog.id))) or 0)


def written_since(session: Session, mark: int, limit: int) -> tuple[int, list[str] | None]:
    """The newest audit-log entry's id and the customers written after entry `mark`; the
    customers are None when a write after it named no customer (an import, settings) or
    more than `limit` customers were written: only building everything again is safe."""
    log = models.AuditLog
    newest = int(session.scalar(select(func.max(log.id)).where(log.id > mark)) or mark)
    if newest == mark:
        return mark, []
    unscoped = session.scalar(
        select(log.id).where(log.id > mark, log.customer_id.is_(None)).limit(1)
    )
    if unscoped is not None:
        return newest, None
    found = list(
        session.scalars(
            select(log.customer_id)
            .where(log.id > mark, log.id <= newest)
            .distinct()
            .limit(limit + 1)
        )
    )
    return newest, None if len(found) > limit else [str(c) for c in found]


def refreshed(
    session: Session,
    as_of: dt.date,
    reports: list[CustomerReport],
    customer_ids: Iterable[str],
    owner: str | None = None,
) -> list[CustomerReport] | None:
    """A new list: `reports` (everyone's, or `owner`'s) with these customers' reports built
    again; `reports` itself is shared and stays as it is. None when a customer joined or
    left the list (added, removed, given to another owner): build the list again."""
    where = {r.customer.customer_id: i for i, r in enumerate(reports)}
    fresh = list(reports)
    for customer_id in customer_ids:
        found = build(session, as_of, customer_id)
        if found and owner is not None and found[0].customer.owner != owner:
            found = []
        at = where.get(customer_id)
        if at is None and not found:
            continue  # neither in the list before nor now
        if at is None or not found:
            return None
        fresh[at] = found[0]
    return fresh
