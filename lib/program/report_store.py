"""Reports of stored customers: everyone's, one customer's or one owner's."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from lib.program.report import CustomerReport, build_from_data
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
