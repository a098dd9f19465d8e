"""The database engine and the cached reports every page reads.

The engine is a process-wide resource (one pool per database URL). The report lists
(everyone's, or one owner's) and the health scores are one shared read-only object
each, kept up to date by ui.patched from the audit log: only the customers written
since are built again (a save no longer costs everyone's reports, ~5 s at 10,000
customers), a write from the command line or another server shows within
ui.patched.CHECK_S, and nothing expires on a timer (at 10,000 customers an expiry cost
whoever came next 4-10 s). The smaller reads are st.cache_data for REPORT_TTL_S
seconds; `changed()`, which every write path in the app calls (through
`ui.access.writing`), drops them all at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lib import audit, outreach
from lib.audit import finding_store, health, health_store
from lib.errors import NotFound
from lib.program import portfolio, report_store
from lib.program.report import CustomerReport
from lib.store import customer_data, db, usage_summary
from ui import settings
from ui.patched import Marked, Patched

AS_OF_KEY = "as_of"
REPORT_TTL_S = 120


# Page scripts run again on every rerun, so their decorators do too: one entry per
# function (module and name), not one per run.
_SHARED: dict[str, Any] = {}


def shared(ttl: float, max_entries: int, show_spinner: bool | str = False) -> Any:
    """st.cache_resource for read-only results a page computes (one object shared by
    every session, no copy per rerun as st.cache_data makes), dropped by changed()
    like every st.cache_data. The page must never modify what it gets back."""

    def decorate(function: Any) -> Any:
        cached = st.cache_resource(ttl=ttl, max_entries=max_entries, show_spinner=show_spinner)(
            function
        )
        _SHARED[f"{function.__module__}.{function.__qualname__}"] = cached
        return cached

    return decorate


def _dispose(engine: Engine) -> None:
    engine.dispose()


@st.cache_resource(show_spinner=False, on_release=_dispose)
def _engine(url: str) -> Engine:
    engine = db.make_engine(url)
    # Create or upgrade the schema once per process: a fresh database works at once.
    db.ensure_schema(engine)
    return engine


def engine() -> Engine:
    # The URL is passed explicitly (not st.connection): AppTest.secrets and
    # the CLI's --db both reach it.
    return _engine(settings.database_url())


@contextmanager
def reading() -> Iterator[Session]:
    """A read session on the app's database, for one page's reads (closed at the end)."""
    with db.read_session(engine()) as session:
        yield session


def as_of() -> dt.date:
    """The date the pages show: the sidebar's "As of" (today unless changed)."""
    value = st.session_state.get(AS_OF_KEY)
    return value if isinstance(value, dt.date) else dt.date.today()


# Every customer's report is one shared, read-only object per (database, date):
# st.cache_data would unpickle a fresh copy on every rerun (~1.6 s for 10,000
# customers), st.cache_resource hands back the same list. Pages never mutate it.
# No expiry: ui.patched keeps it up to date (a write anywhere shows within CHECK_S).
@st.cache_resource(max_entries=2, show_spinner="Reading the program...")
def _reports(url: str, as_of: dt.date) -> Marked[list[CustomerReport]]:
    engine = _engine(url)
    usage_summary.ensure(engine, as_of)  # everyone's sums, from the summary table
    with db.read_session(engine) as session:
        mark = report_store.audit_mark(session)
        return Marked(report_store.build(session, as_of), mark)


@st.cache_data(ttl=REPORT_TTL_S, max_entries=64, show_spinner=False)
def _report(url: str, as_of: dt.date, customer_id: str) -> CustomerReport | None:
    with db.read_session(_engine(url)) as session:
        found = report_store.build(session, as_of, customer_id)
    return found[0] if found else None


@st.cache_resource(max_entries=16, show_spinner="Reading the worklist...")
def _owner_reports(url: str, as_of: dt.date, owner: str) -> Marked[list[CustomerReport]]:
    engine = _engine(url)
    usage_summary.ensure(engine, as_of)
    with db.read_session(engine) as session:
        mark = report_store.audit_mark(session)
        return Marked(report_store.build(session, as_of, owner=owner), mark)


# The report lists and the health scores as brought up to date after writes.
_REPORTS: Patched[list[CustomerReport]] = Patched()
_SCORES: Patched[dict[str, float]] = Patched()


def reports(on: dt.date | None = None, owner: str | None = None) -> list[CustomerReport]:
    """Every customer's report as of `on` (default: the sidebar's date); with `owner`,
    only that owner's customers (a twelfth of the work on Today for a team member)."""
    url, day = settings.database_url(), on or as_of()

    def patch(
        session: Session, reports: list[CustomerReport], written: list[str]
    ) -> list[CustomerReport] | None:
        return report_store.refreshed(session, day, reports, written, owner)

    if owner is not None:
        return _REPORTS.get(
            (url, day, owner),
            _engine(url),
            lambda: _owner_reports(url, day, owner),
            _owner_reports.clear,
            patch,
        )
    return _REPORTS.get(
        (url, day, None), _engine(url), lambda: _reports(url, day), _reports.clear, patch
    )


# The Customers table's rows of the newest (reports, scores) pair: they are shared
# objects, the same until a write patches them (0.2 s a run saved at 10,000 customers).
_ROWS: list[tuple[list[CustomerReport], dict[str, float], list[portfolio.Row]]] = []


def portfolio_rows(on: dt.date | None = None) -> list[portfolio.Row]:
    """Every customer's row of the Customers table (lib.program.portfolio), by name."""
    reports_now, scores = reports(on), health_scores(on)
    found = _ROWS[0] if _ROWS else None
    if found is not None and found[0] is reports_now and found[1] is scores:
        return found[2]
    rows = portfolio.rows(reports_now, scores)
    _ROWS[:] = [(reports_now, scores, rows)]  # one pair: the references keep it honest
    return rows


@st.cache_data(ttl=REPORT_TTL_S, max_entries=8, show_spinner=False)
def _owners(url: str) -> list[str]:
    with db.read_session(_engine(url)) as session:
        return customer_data.owners(session)


def owners() -> list[str]:
    """Every owner named on a customer, sorted."""
    return _owners(settings.database_url())


@st.cache_data(ttl=REPORT_TTL_S, max_entries=8, show_spinner=False)
def _customer_count(url: str) -> int:
    with db.read_session(_engine(url)) as session:
        return customer_data.customer_count(session)


def customer_count() -> int:
    return _customer_count(settings.database_url())


def report_for(customer_id: str, on: dt.date | None = None) -> CustomerReport | None:
    return _report(settings.database_url(), on or as_of(), customer_id)


@st.cache_data(ttl=REPORT_TTL_S, max_entries=64, show_spinner=False)
def _findings(url: str, as_of: dt.date, customer_id: str) -> list[audit.Finding]:
    with db.read_session(_engine(url)) as session:
        return finding_store.for_customer(session, customer_id, as_of, include_closed=True)


def findings_for(customer_id: str, on: dt.date | None = None) -> list[audit.Finding]:
    """Every finding of a customer, open, fixed and dismissed (the report lists open ones)."""
    return _findings(settings.database_url(), on or as_of(), customer_id)


@st.cache_data(ttl=REPORT_TTL_S, max_entries=64, show_spinner=False)
def _overlaps(url: str, as_of: dt.date, customer_id: str) -> dict[str, tuple[str, ...]]:
    with db.read_session(_engine(url)) as session:
        return finding_store.overlaps_for(session, customer_id, as_of)


def overlaps_for(customer_id: str, on: dt.date | None = None) -> dict[str, tuple[str, ...]]:
    """rule -> the open findings whose fixes save some of the same dollars."""
    return _overlaps(settings.database_url(), on or as_of(), customer_id)


@st.cache_data(ttl=REPORT_TTL_S, max_entries=64, show_spinner=False)
def _health(url: str, as_of: dt.date, customer_id: str) -> health.Health:
    with db.read_session(_engine(url)) as session:
        return health_store.for_customer(session, customer_id, as_of)


def health_for(customer_id: str, on: dt.date | None = None) -> health.Health:
    return _health(settings.database_url(), on or as_of(), customer_id)


@st.cache_resource(max_entries=2, show_spinner="Scoring health...")
def _health_scores(url: str, as_of: dt.date) -> Marked[dict[str, float]]:
    with db.read_session(_engine(url)) as session:
        mark = report_store.audit_mark(session)
        return Marked(health_store.scores(session, as_of), mark)


def health_scores(on: dt.date | None = None) -> dict[str, float]:
    """customer id -> every customer's 0-10 health score (the Customers table; shared,
    read-only), kept up to date as reports() is."""
    url, day = settings.database_url(), on or as_of()

    def patch(
        session: Session, scores: dict[str, float], written: list[str]
    ) -> dict[str, float] | None:
        if not all(c in scores for c in written):
            return None  # a new customer: score everyone again
        fresh = dict(scores)
        try:
            for customer_id in written:
                fresh[customer_id] = health_store.for_customer(session, customer_id, day).score
        except NotFound:  # removed: score everyone again
            return None
        return fresh

    return _SCORES.get(
        (url, day), _engine(url), lambda: _health_scores(url, day), _health_scores.clear, patch
    )


@st.cache_data(ttl=REPORT_TTL_S, max_entries=64, show_spinner="Writing the draft...")
def _draft(url: str, kind: str, customer_id: str, as_of: dt.date, sender: str) -> outreach.Draft:
    make = outreach.initial_draft if kind == "initial" else outreach.final_draft
    with db.read_session(_engine(url)) as session:
        return make(session, customer_id, as_of, sender)


def draft(kind: str, customer_id: str, sender: str, on: dt.date | None = None) -> outreach.Draft:
    """The initial (week 1) or final (weeks 7-8) outreach email, from lib.outreach."""
    return _draft(settings.database_url(), kind, customer_id, on or as_of(), sender)


def forget_reports() -> None:
    """Drop the report lists too, as if none had been read (bench.pages' cold runs)."""
    _reports.clear()
    _owner_reports.clear()
    _health_scores.clear()
    _REPORTS.forget()
    _SCORES.forget()


def changed() -> None:
    """The app wrote data: drop every cached read (all pages' st.cache_data and shared
    results; the engine stays); the report lists are brought up to date on their next
    read (reports())."""
    st.cache_data.clear()
    for cached in _SHARED.values():
        cached.clear()
    _REPORTS.written()
    _SCORES.written()
