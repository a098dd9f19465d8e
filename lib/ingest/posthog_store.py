"""A PostHog sync's database side: the sync state that decides what to fetch, and the
fetched rows written like an import, with the new state, in the caller's transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from lib.ingest.posthog_client import Connection
from lib.ingest.posthog_sync import Fetched, Progress, QueryRun, SyncResult, SyncState
from lib.ingest.store import write as write_rows
from lib.store import journal, models

_STATE = models.table(models.PostHogSyncState)


def read_state(session: Session, connection: Connection) -> SyncState:
    """The customers, and each usage query's last synced day per customer."""
    customers = set(session.scalars(select(models.Customer.customer_id)))
    return SyncState(customers, _synced_through(session, connection.source))


def last_synced(session: Session, connection: Connection) -> dict[str, dt.date]:
    """Each usage query's oldest per-customer synced day (for the Data page)."""
    synced = _synced_through(session, connection.source)
    return {query: min(days.values()) for query, days in synced.items() if days}


def write(
    session: Session,
    fetched: Fetched,
    as_of: dt.date,
    dry_run: bool = False,
    progress: Callable[[Progress], None] | None = None,
) -> SyncResult:
    """Write the fetched rows (lib.ingest.store.write: the checks, then after_data_change
    as of `as_of`) and the sync state. A dry run does all of it in a savepoint it rolls
    back: it says what would change and writes nothing."""
    report = progress or (lambda _p: None)
    total = len(fetched.runs) + 1
    report(Progress(total - 1, total, f"writing {fetched.rows:,} rows"))
    savepoint = session.begin_nested() if dry_run else None
    try:
        imported = write_rows(session, fetched.loaded, as_of, fetched.load_warnings)
        _record_state(session, fetched.connection, fetched.runs, fetched.known)
    finally:
        if savepoint is not None:
            savepoint.rollback()
    result = SyncResult(
        fetched.connection.describe(), fetched.runs, imported, dry_run, fetched.warnings
    )
    report(Progress(total, total, "dry run: nothing written" if dry_run else "done"))
    return result


def _synced_through(session: Session, source: str) -> dict[str, dict[str, dt.date]]:
    rows = session.execute(
        select(_STATE.c.query, _STATE.c.customer_id, _STATE.c.synced_through).where(
            _STATE.c.project == source
        )
    )
    out: dict[str, dict[str, dt.date]] = {}
    for query, customer_id, through in rows:
        out.setdefault(query, {})[customer_id] = through
    return out


def _record_state(
    session: Session, connection: Connection, runs: list[QueryRun], known: set[str]
) -> None:
    """The customers whose rows were kept are synced through `until` for each usage
    query asked; one added while PostHog was answering gets its history next time."""
    user = journal.user_of(session)
    customers = sorted(known & set(session.scalars(select(models.Customer.customer_id))))
    asked = [run for run in runs if run.since is not None and run.kind == "usage"]
    now = models.utcnow()
    for run in asked:
        session.execute(
            delete(_STATE).where(_STATE.c.project == connection.source, _STATE.c.query == run.query)
        )
        if customers:
            session.execute(
                insert(_STATE),
                [
                    {
                        "project": connection.source,
                        "query": run.query,
                        "customer_id": customer_id,
                        "synced_through": run.until,
                        "synced_by": user,
                        "synced_at": now,
                    }
                    for customer_id in customers
                ],
            )
    if asked:
        journal.log_write(
            session,
            "posthog_sync",
            _STATE.name,
            {
                "project": connection.source,
                "queries": {run.query: [run.since, run.until, run.rows] for run in asked},
            },
        )
