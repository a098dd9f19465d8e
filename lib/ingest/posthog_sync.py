"""A PostHog sync's fetching: which days each query asks for, every page fetched, and the
rows checked exactly like a CSV. No database: lib.ingest.posthog_store reads and writes."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lib.ingest.http_retry import RetryPolicy
from lib.ingest.posthog_client import (
    PAGE_SIZE,
    ConfigError,
    Connection,
    PostHogClient,
    Query,
    SyncError,
    load_queries,
)
from lib.ingest.sources import FrameSource
from lib.ingest.spec import SPECS, ImportRejected, ImportResult
from lib.ingest.validate import Loaded, load_frames

FIRST_SYNC_DAYS = 120  # history for a customer seen for the first time (3-month baselines)

_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]00:00:00(\.0+)?(Z|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True)
class Progress:
    """What a progress bar shows: queries done of total, and the latest news."""

    done: int
    total: int
    message: str

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


@dataclass
class QueryRun:
    query: str
    kind: str
    since: dt.date | None  # None: already up to date, not asked
    until: dt.date
    rows: int = 0
    pages: int = 0

    def summary(self) -> str:
        if self.since is None:
            return f"{self.query}: up to date (through {self.until})"
        pages = f"{self.pages} page{'s' if self.pages != 1 else ''}"
        return f"{self.query}: {self.since} .. {self.until}, {self.rows:,} rows in {pages}"


@dataclass(frozen=True)
class SyncState:
    """What the database knows before a sync: its customers, and per usage query the
    last day synced for each customer."""

    customers: set[str]
    synced: dict[str, dict[str, dt.date]]


@dataclass(frozen=True)
class Fetched:
    """Everything a sync fetched, checked and ready to write (lib.ingest.posthog_store)."""

    connection: Connection
    runs: list[QueryRun]
    loaded: dict[str, Loaded]
    known: set[str]  # the customers whose rows were kept
    warnings: list[str]  # rows of PostHog groups that are not customers here
    load_warnings: list[str]  # the CSV checks' warnings (columns ignored)
    rows: int


@dataclass
class SyncResult:
    connection: str
    runs: list[QueryRun]
    imported: ImportResult
    dry_run: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.imported.changed

    def summary(self) -> str:
        lines = [f"{'Dry run against' if self.dry_run else 'Synced from'} {self.connection}"]
        lines += [f"  {run.summary()}" for run in self.runs]
        if self.imported.kinds:
            lines += [
                f"{kind}: {r.added:,} added, {r.updated:,} updated, {r.unchanged:,} unchanged"
                for kind, r in self.imported.kinds.items()
            ]
        else:
            lines.append("Nothing new in PostHog.")
        lines += [f"warning: {w}" for w in (*self.warnings, *self.imported.warnings)]
        if self.dry_run:
            lines.append("Dry run: nothing was written.")
        return "\n".join(lines)


def yesterday() -> dt.date:
    """The last whole day, what a sync fetches through (today's counts are still growing)."""
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


def fetch(
    connection: Connection,
    state: SyncState,
    until: dt.date,
    since: dt.date | None = None,
    queries: list[Query] | None = None,
    progress: Callable[[Progress], None] | None = None,
    page_size: int = PAGE_SIZE,
    policy: RetryPolicy | None = None,
) -> Fetched:
    """Every query's new days from PostHog, checked like a CSV.

    Usage queries resume per customer the day after their last synced day;
    `since` re-fetches from that day for everyone. Raises ConfigError
    (settings, query files), SyncError (PostHog, network) or ImportRejected
    (rows that fail the CSV checks).
    """
    queries = load_queries() if queries is None else queries
    if since is not None and since > until:
        raise ConfigError(f"--since {since} is after {until}, the last whole day to sync")
    if not 1 <= page_size <= PAGE_SIZE:
        raise ConfigError(f"page size must be 1..{PAGE_SIZE}")
    report = progress or (lambda _p: None)
    total = len(queries) + 1  # + writing
    customers = state.customers
    if not customers and not any(q.kind == "customers" for q in queries):
        # Every usage row would be skipped: save the hourly query allowance.
        raise ConfigError(
            "no customers yet: import customers.csv first (usage is only kept for customers "
            "of the console), or add a customers.sql query"
        )

    client = PostHogClient(connection, policy)
    runs: list[QueryRun] = []
    fetched: list[tuple[Query, pd.DataFrame]] = []
    try:
        for number, query in enumerate(queries):
            first = _first_day(query, since, until, customers, state.synced.get(query.name, {}))
            run = QueryRun(query.name, query.kind, first, until)
            runs.append(run)
            if first is None:
                report(Progress(number + 1, total, run.summary()))
                continue
            report(Progress(number, total, f"{query.name}: asking PostHog for {first} .. {until}"))

            def on_rows(rows: int, number: int = number, name: str = query.name) -> None:
                report(Progress(number, total, f"{name}: {rows:,} rows"))

            def on_wait(message: str, number: int = number, name: str = query.name) -> None:
                report(Progress(number, total, f"{name}: {message}"))

            values = {"since": first.isoformat(), "until": until.isoformat()}
            columns, rows, run.pages = client.fetch(query, values, page_size, on_rows, on_wait)
            run.rows = len(rows)
            fetched.append((query, _frame(query, columns, rows)))
            report(Progress(number + 1, total, run.summary()))
    finally:
        client.close()

    sources, known, warnings = _sources(fetched, customers)
    loaded, problems, load_warnings = load_frames(sources)
    if problems:
        raise ImportRejected(problems)
    total_rows = sum(len(s.frame) for s in sources)
    return Fetched(connection, runs, loaded, known, warnings, load_warnings, total_rows)


def _first_day(
    query: Query,
    since: dt.date | None,
    until: dt.date,
    customers: set[str],
    synced: dict[str, dt.date],
) -> dt.date | None:
    """The first day to ask for, or None when every customer is up to date."""
    if since is not None:
        return since
    fresh_start = until - dt.timedelta(days=FIRST_SYNC_DAYS - 1)
    if not query.incremental or not customers:
        return fresh_start
    # One window for everyone: the customer furthest behind decides; rows of
    # days others already have come back unchanged and write nothing.
    first = min(synced[c] + dt.timedelta(days=1) if c in synced else fresh_start for c in customers)
    return first if first <= until else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value)
    text = str(value)
    midnight = _MIDNIGHT.match(text)
    return midnight.group(1) if midnight else text


def _frame(query: Query, columns: list[str], rows: list[list[Any]]) -> pd.DataFrame:
    required = SPECS[query.kind].required
    missing = [c for c in required if c not in columns]
    if missing:
        raise SyncError(
            f"PostHog query {query.name}: returns the columns {', '.join(columns) or '(none)'}; "
            f"a {query.kind} query must return {', '.join(required)} "
            f"(missing: {', '.join(missing)}); nothing was written"
        )
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    for column in frame.columns:
        frame[column] = _text(frame[column])
    return frame


def _text(values: pd.Series) -> pd.Series:
    """A result column as the text cells a CSV would have given the importer."""
    # Fast paths for the usual all-text and all-integer columns (a sync can be
    # millions of cells); anything else goes cell by cell.
    kinds = set(map(type, values.to_numpy()))
    if kinds <= {str} and not values.str.contains(":00:00", regex=False).any():
        return values.astype(object)
    if kinds <= {int}:
        return values.astype(str).astype(object)
    return values.map(_cell).astype(object)


def _sources(
    fetched: list[tuple[Query, pd.DataFrame]], customers: set[str]
) -> tuple[list[FrameSource], set[str], list[str]]:
    """Validation sources; usage of PostHog groups that are not customers here is
    left out (a project has far more organisations than the onboarding segment)."""
    known = set(customers)
    for query, frame in fetched:
        if query.kind == "customers":
            known |= set(frame["customer_id"])
    sources: list[FrameSource] = []
    warnings: list[str] = []
    for query, frame in fetched:
        if query.kind != "customers":
            unknown = ~frame["customer_id"].isin(known)
            if unknown.any():
                groups = sorted(set(frame.loc[unknown, "customer_id"]))
                shown = ", ".join(repr(g) for g in groups[:3]) + (
                    ", ..." if len(groups) > 3 else ""
                )
                warnings.append(
                    f"{query.name}: skipped {int(unknown.sum()):,} rows of {len(groups):,} "
                    f"PostHog groups that are not customers here ({shown})"
                )
                frame = frame.loc[~unknown].reset_index(drop=True)
        if len(frame):
            sources.append(FrameSource(query.name, query.kind, frame, first_row=1))
    return sources, known, warnings


@contextmanager
def progress_bar() -> Iterator[Callable[[Progress], None]]:
    """A tqdm bar on stderr for the command line (silent when not a terminal)."""
    from tqdm import tqdm

    with tqdm(total=1, unit="query", disable=None, leave=False) as bar:

        def show(progress: Progress) -> None:
            bar.total = progress.total
            bar.n = progress.done
            bar.set_description_str(progress.message[:70], refresh=False)
            bar.refresh()

        yield show
