"""Tests call lib as the pages and commands do: each call in a session of its own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine

from lib.program import report_store
from lib.program.report import CustomerReport
from lib.store import db, usage_summary

T = TypeVar("T")


def reports(
    engine: Engine, as_of: dt.date, customer_id: str | None = None, owner: str | None = None
) -> list[CustomerReport]:
    """lib.program.report.build as the CLI and the pages call it (everyone's sums from
    the summary table, filled for `as_of` first)."""
    if customer_id is None:
        usage_summary.ensure(engine, as_of)
    with db.read_session(engine) as session:
        return report_store.build(session, as_of, customer_id, owner)


def write(engine: Engine, user: str, change: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`change(session, *args, **kwargs)` in a unit of work of its own as `user`, as a page
    or a command makes each change (committed at the end, rolled back if it raises)."""
    with db.write_session(engine, user) as session:
        return change(session, *args, **kwargs)


def read(engine: Engine, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`query(session, *args, **kwargs)` in a read session of its own."""
    with db.read_session(engine) as session:
        return query(session, *args, **kwargs)
