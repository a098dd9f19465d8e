"""The database engine and the cached reports every page reads.

The engine is a process-wide resource (one pool per database URL). Reports are
cached (everyone's, or one owner's, as one shared read-only object) for
REPORT_TTL_S seconds (writes from the command line or another server show up by
then). `changed()`, which every write path in the app calls (through
`ui.access.writing`), drops every st.cache_data at once; the report lists are
brought up to date on their next read from the audit log: only the customers
written since the list was read are built again (a save no longer costs everyone's
reports, ~5 s at 10,000 customers), and anything else (an import, more than
PATCH_MAX_CUSTOMERS customers) builds the list again.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from lib import audit, outreach
from lib.audit import finding_store, health, health_store
from lib.errors import NotFound
from lib.program import report_store
from lib.program.report import CustomerReport
from lib.store import customer_data, db, usage_summary
from ui import settings

AS_OF_KEY = "as_of"
REPORT_TTL_S = 120
# More customers written than this since a report list was read: build it again
# (each one costs a single-customer build, ~0.3 s, whatever the list's size).
PATCH_MAX_CUSTOMERS = 3


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


@dataclass(frozen=True)
class _Built:
    """A report list and the newest audit-log entry read before it (report_store.audit_mark)."""

    reports: list[CustomerReport]
    mark: int


# Every customer's report is one shared, read-only object per (database, date):
# st.cache_data would unpickle a fresh copy on every rerun (~1.6 s for 10,000
# customers), st.cache_resource hands back the same list. Pages never mutate it.
@st.cache_resource(ttl=REPORT_TTL_S, max_entries=2, show_spinner="Reading the program...")
def _reports(url: str, as_of: dt.date) -> _Built:
    engine = _engine(url)
    usage_summary.ensure(engine, as_of)  # everyone's sums, from the summary table
    with db.read_session(engine) as session:
        mark = report_store.audit_mark(session)
        return _Built(report_store.build(session, as_of), mark)


@st.cache_data(ttl=REPORT_TTL_S, max_entries=64, show_spinner=False)
def _report(url: str, as_of: dt.date, customer_id: str) -> CustomerReport | None:
    with db.read_session(_engine(url)) as session:
        found = report_store.build(session, as_of, customer_id)
    return found[0] if found else None


@st.cache_resource(ttl=REPORT_TTL_S, max_entries=16, show_spinner="Reading the worklist...")
def _owner_reports(url: str, as_of: dt.date, owner: str) -> _Built:
    engine = _engine(url)
    usage_summary.ensure(engine, as_of)
    with db.read_session(engine) as session:
        mark = report_store.audit_mark(session)
        return _Built(report_store.build(session, as_of, owner=owner), mark)


# The process's report lists as brought up to date after writes: (url, date, owner) ->
# (the cached list they started from, the list now, the changed() count it is good for).
_LOCK = threading.Lock()
_WRITES = [0]  # changed() calls in this process
_LATEST: dict[tuple[str, dt.date, str | None], tuple[_Built, _Built, int]] = {}


def _up_to_date(
    key: tuple[str, dt.date, str | None], full: Callable[[], _Built], clear: Callable[[], None]
) -> list[CustomerReport]:
    url, day, owner = key
    base = full()
    with _LOCK:
        writes = _WRITES[0]
        found = _LATEST.get(key)
        if found is None or found[0] is not base:
            found = (base, base, -1)
        if found[2] == writes:
            return found[1].reports
    current = found[1]
    with db.read_session(_engine(url)) as session:
        newest, written = report_store.written_since(session, current.mark, PATCH_MAX_CUSTOMERS)
        fresh = (
            None
            if written is None
            else report_store.refreshed(session, day, current.reports, written, owner)
        )
    if fresh is None:  # an import, settings, many customers: build the list again
        clear()
        base = current = full()
    else:
        current = _Built(fresh, newest)
    with _LOCK:
        if len(_LATEST) > 64:
            _LATEST.clear()
        _LATEST[key] = (base, current, writes)
    return current.reports


def reports(on: dt.date | None = None, owner: str | None = None) -> list[CustomerReport]:
    """Every customer's report as of `on` (default: the sidebar's date); with `owner`,
    only that owner's customers (a twelfth of the work on Today for a team member)."""
    url, day = settings.database_url(), on or as_of()
    if owner is not None:
        return _up_to_date(
            (url, day, owner), lambda: _owner_reports(url, day, owner), _owner_reports.clear
        )
    return _up_to_date((url, day, None), lambda: _reports(url, day), _reports.clear)


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


@st.cache_resource(ttl=REPORT_TTL_S, max_entries=2, show_spinner="Scoring health...")
def _health_scores(url: str, as_of: dt.date) -> _Scores:
    with db.read_session(_engine(url)) as session:
        mark = report_store.audit_mark(session)
        return _Scores(health_store.scores(session, as_of), mark)


@dataclass(frozen=True)
class _Scores:
    scores: dict[str, float]
    mark: int  # as _Built's


# (url, date) -> (the cached scores they started from, the scores now, changed() count).
_LATEST_SCORES: dict[tuple[str, dt.date], tuple[_Scores, _Scores, int]] = {}


def health_scores(on: dt.date | None = None) -> dict[str, float]:
    """customer id -> every customer's 0-10 health score (the Customers table; shared,
    read-only). After a write only the customers written since are scored again, as
    reports() does."""
    key = (settings.database_url(), on or as_of())
    base = _health_scores(*key)
    with _LOCK:
        writes = _WRITES[0]
        found = _LATEST_SCORES.get(key)
        if found is None or found[0] is not base:
            found = (base, base, -1)
        if found[2] == writes:
            return found[1].scores
    current = found[1]
    fresh: dict[str, float] | None = None
    with db.read_session(_engine(key[0])) as session:
        newest, written = report_store.written_since(session, current.mark, PATCH_MAX_CUSTOMERS)
        if written is not None and all(c in current.scores for c in written):
            try:
                fresh = dict(current.scores)
                for customer_id in written:
                    fresh[customer_id] = health_store.for_customer(
                        session, customer_id, key[1]
                    ).score
            except NotFound:  # removed: score everyone again
                fresh = None
    if fresh is None:
        _health_scores.clear()
        base = current = _health_scores(*key)
    else:
        current = _Scores(fresh, newest)
    with _LOCK:
        if len(_LATEST_SCORES) > 8:
            _LATEST_SCORES.clear()
        _LATEST_SCORES[key] = (base, current, writes)
    return current.scores


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
    with _LOCK:
        _LATEST.clear()
        _LATEST_SCORES.clear()


def changed() -> None:
    """The app wrote data: drop every cached read (all pages' st.cache_data and shared
    results; the engine stays); the report lists are brought up to date on their next
    read (reports())."""
    st.cache_data.clear()
    for cached in _SHARED.values():
        cached.clear()
    with _LOCK:
        _WRITES[0] += 1
