"""Usage straight from PostHog: HogQL queries -> the importer's checks -> one transaction.

Each file in data/posthog_queries/*.sql is one HogQL query. A usage query
returns the columns customer_id, date, metric, value (metric names from the
contract); a file named like an import kind (customers.sql, config_sdk.sql)
returns that CSV's columns instead. Queries read the window through the
HogQL placeholders {since} and {until} (ISO dates, inclusive), which PostHog
fills from the request's `values`: nothing is pasted into the query text.

Everything is fetched first (paged, retried within bounds), then validated by
lib.importer exactly like a CSV, then written in one transaction together
with the sync state. Any failure raises before the transaction: a failed sync
writes nothing. The personal API key is only sent in the Authorization header
and is shown masked everywhere else.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import requests
from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.orm import Session

from lib import db, http_retry, importer, models, settings

ENV_API_KEY = "POSTHOG_PERSONAL_API_KEY"
ENV_PROJECT_ID = "POSTHOG_PROJECT_ID"
ENV_HOST = "POSTHOG_HOST"
DEFAULT_HOST = "https://us.posthog.com"
HOST_SHORTCUTS = {"us": "https://us.posthog.com", "eu": "https://eu.posthog.com"}
QUERIES_DIR = settings.DATA_DIR / "posthog_queries"

# PostHog answers at most 50,000 rows per API query and allows about 120 HogQL
# API queries an hour: big pages keep a sync to a handful of requests.
PAGE_SIZE = 50_000
FIRST_SYNC_DAYS = 120  # history for a customer seen for the first time (3-month baselines)
PLACEHOLDERS = ("since", "until")
TIMEOUT_S = (10.0, 300.0)  # connect, read: a HogQL query over months can take a while

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]00:00:00(\.0+)?(Z|[+-]\d{2}:?\d{2})?$")


# ------------------------------------------------------------------- errors


class SyncError(Exception):
    """The sync stopped; nothing was written. The message says why."""


class ConfigError(SyncError):
    """Missing or unusable settings or query files (the admin must fix them)."""


# ----------------------------------------------------------------- settings


def mask(secret: str) -> str:
    """Enough of a key to tell two keys apart, never enough to use one."""
    if len(secret) < 12:
        return "…" if secret else "(empty)"
    prefix = secret[:4] if secret[3:4] == "_" else ""
    return f"{prefix}…{secret[-4:]}"


@dataclass(frozen=True)
class Connection:
    host: str
    project_id: str
    api_key: str = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Connection:
        """From the environment (Streamlit also exports root-level secrets there)."""
        env = os.environ if env is None else env
        api_key = env.get(ENV_API_KEY, "").strip()
        project_id = env.get(ENV_PROJECT_ID, "").strip()
        host = env.get(ENV_HOST, "").strip() or DEFAULT_HOST
        missing = [
            name
            for name, value in ((ENV_API_KEY, api_key), (ENV_PROJECT_ID, project_id))
            if not value
        ]
        if missing:
            raise ConfigError(
                f"PostHog is not configured: set {' and '.join(missing)} (a personal API key "
                f"with the query:read scope, and the project's id), and {ENV_HOST} if the "
                f"project is not on {DEFAULT_HOST} (eu, or a self-hosted address)"
            )
        if not project_id.isdigit():
            raise ConfigError(f"{ENV_PROJECT_ID} must be the project's number, not {project_id!r}")
        return cls(_normalise_host(host), project_id, api_key)

    @property
    def source(self) -> str:
        """What the sync state is kept under: the project, not the key."""
        return f"{self.host}#{self.project_id}"

    @property
    def query_url(self) -> str:
        return f"{self.host}/api/projects/{self.project_id}/query/"

    def describe(self) -> str:
        return f"PostHog project {self.project_id} at {self.host} (key {mask(self.api_key)})"


def _normalise_host(host: str) -> str:
    host = HOST_SHORTCUTS.get(host.lower(), host).rstrip("/")
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{ENV_HOST} must be an address like https://eu.posthog.com (or us / eu), not {host!r}"
        )
    if parts.path or parts.query or parts.fragment:
        raise ConfigError(f"{ENV_HOST} must be just the address, like https://eu.posthog.com")
    if parts.scheme == "http" and not _is_local(parts.hostname):
        # The key would travel in clear text.
        raise ConfigError(f"{ENV_HOST} must use https:// (http:// only for this machine)")
    return host


def _is_local(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


# ------------------------------------------------------------------ queries


@dataclass(frozen=True)
class Query:
    name: str  # the file name, e.g. events.sql
    kind: str  # usage, or another import kind (customers, config, ...)
    text: str  # HogQL without full-line comments

    @property
    def incremental(self) -> bool:
        return self.kind == "usage"


def load_queries(folder: Path = QUERIES_DIR) -> list[Query]:
    paths = sorted(folder.glob("*.sql"))
    if not paths:
        raise ConfigError(f"no PostHog queries in {folder} (expected *.sql files)")
    return [parse_query(path.name, path.read_text(encoding="utf-8")) for path in paths]


def parse_query(name: str, source: str) -> Query:
    stem = name[:-4] if name.lower().endswith(".sql") else name
    kind = importer.kind_from_name(stem) or "usage"
    # Full-line comments only: the paging wrapper must not end inside one.
    lines = [line for line in source.splitlines() if not line.lstrip().startswith("--")]
    text = "\n".join(lines).strip().rstrip(";").strip()
    if not text:
        raise ConfigError(f"{name}: the query is empty")
    used = set(_PLACEHOLDER.findall(text))
    unknown = sorted(used - set(PLACEHOLDERS))
    if unknown:
        raise ConfigError(
            f"{name}: uses {', '.join('{' + u + '}' for u in unknown)}; "
            "only {since} and {until} are filled in"
        )
    if kind == "usage" and used != set(PLACEHOLDERS):
        raise ConfigError(
            f"{name}: a usage query must filter its days with {{since}} and {{until}} "
            "(inclusive ISO dates), or every sync would fetch everything"
        )
    return Query(name, kind, text)


def _paged(query: Query, limit: int, offset: int) -> str:
    # A stable order makes LIMIT/OFFSET pages add up to the whole result.
    # HogQL for PostHog, not SQL for our database: the admin's own query file,
    # our key columns and two integers; the user's dates travel in `values`.
    order = ", ".join(importer.SPECS[query.kind].key)
    wrapped = f"SELECT * FROM (\n{query.text}\n) ORDER BY {order}"  # noqa: S608
    return f"{wrapped} LIMIT {int(limit)} OFFSET {int(offset)}"


# ------------------------------------------------------------------- client


@dataclass(frozen=True)
class Page:
    columns: list[str]
    rows: list[list[Any]]
    has_more: bool | None


class PostHogClient:
    """PostHog's query endpoint through `requests`, with bounded retries."""

    def __init__(
        self,
        connection: Connection,
        policy: http_retry.RetryPolicy | None = None,
        timeout: tuple[float, float] = TIMEOUT_S,
    ) -> None:
        self.connection = connection
        self.policy = policy or http_retry.RetryPolicy()
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {connection.api_key}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
        )

    def close(self) -> None:
        self.session.close()

    def fetch(
        self,
        query: Query,
        values: dict[str, str],
        page_size: int = PAGE_SIZE,
        on_rows: Callable[[int], None] | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> tuple[list[str], list[list[Any]], int]:
        """Every row of the query: (columns, rows, pages)."""
        columns: list[str] | None = None
        rows: list[list[Any]] = []
        pages = 0
        while True:
            page = self._page(query, values, page_size, len(rows), on_wait)
            pages += 1
            if columns is None:
                columns = page.columns
            elif page.columns != columns:
                raise self._error(
                    query, f"page {pages} has other columns than page 1 ({page.columns})"
                )
            rows += page.rows
            if on_rows:
                on_rows(len(rows))
            # hasMore is only sent for queries without a LIMIT; ours always has one,
            # so a short page is the end (PostHog caps a page at 50,000 rows).
            if not page.rows or page.has_more is False:
                break
            if page.has_more is None and len(page.rows) < page_size:
                break
        return columns or [], rows, pages

    def _page(
        self,
        query: Query,
        values: dict[str, str],
        limit: int,
        offset: int,
        on_wait: Callable[[str], None] | None,
    ) -> Page:
        body: dict[str, Any] = {
            "query": {"kind": "HogQLQuery", "query": _paged(query, limit, offset), "values": values}
        }

        def post() -> requests.Response:
            return self.session.post(
                self.connection.query_url, json=body, timeout=self.timeout, allow_redirects=False
            )

        outcome = http_retry.send(post, self.policy, on_wait)
        response = outcome.response
        if response is None:
            raise self._error(
                query,
                f"could not reach {self.connection.host}: {self._scrub(str(outcome.error))} "
                f"(gave up after {outcome.gave_up_because})",
            )
        if response.status_code != 200:
            raise self._error(query, self._status_message(response, outcome))
        try:
            data = response.json()
        except ValueError:
            raise self._error(
                query,
                f"PostHog's answer is not JSON ({response.headers.get('Content-Type', 'no content type')}): "
                f"{self._scrub(response.text[:120])!r}",
            ) from None
        return self._parse(query, data)

    def _parse(self, query: Query, data: Any) -> Page:
        if not isinstance(data, dict):
            raise self._error(query, "PostHog's answer is not a query result (not a JSON object)")
        if data.get("error"):
            raise self._error(query, f"PostHog: {self._scrub(str(data['error']))}")
        results, columns = data.get("results"), data.get("columns")
        if not isinstance(results, list) or not isinstance(columns, list):
            keys = ", ".join(sorted(map(str, data))) or "nothing"
            raise self._error(
                query, f"PostHog's answer has no results/columns (it has: {keys[:200]})"
            )
        if not all(isinstance(c, str) for c in columns):
            raise self._error(query, "PostHog's answer has column names that are not text")
        for number, row in enumerate(results, start=1):
            if not isinstance(row, list) or len(row) != len(columns):
                raise self._error(
                    query,
                    f"PostHog's answer is malformed: result row {number} is not "
                    f"{len(columns)} values ({str(row)[:80]})",
                )
        has_more = data.get("hasMore")
        return Page(list(columns), results, has_more if isinstance(has_more, bool) else None)

    def _status_message(self, response: requests.Response, outcome: http_retry.Outcome) -> str:
        status = response.status_code
        detail = self._detail(response)
        connection = self.connection
        if status == 401:
            return (
                f"PostHog refused the personal API key {mask(connection.api_key)} (HTTP 401: "
                f"{detail}). It may be expired, revoked or mistyped: create a personal API key "
                f"with the query:read scope and set {ENV_API_KEY}"
            )
        if status == 403:
            return (
                f"the key {mask(connection.api_key)} may not query project {connection.project_id} "
                f"(HTTP 403: {detail}); it needs the query:read scope and access to that project"
            )
        if status == 404:
            return (
                f"no project {connection.project_id} at {connection.host} (HTTP 404: {detail}); "
                f"check {ENV_PROJECT_ID} and {ENV_HOST} (us, eu, or your own address)"
            )
        if 300 <= status < 400:
            where = response.headers.get("Location", "elsewhere")
            return f"PostHog redirects to {where} (HTTP {status}); set {ENV_HOST} to that address"
        if outcome.gave_up_because:
            return (
                f"PostHog kept answering HTTP {status} ({detail}); gave up after "
                f"{outcome.gave_up_because}. Try again later"
            )
        return f"PostHog rejected the query (HTTP {status}): {detail}"

    def _detail(self, response: requests.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            for key in ("detail", "error", "message"):
                if body.get(key):
                    return self._scrub(str(body[key]))[:500]
        text = response.text.strip()
        return self._scrub(text[:200]) if text else "no details"

    def _scrub(self, text: str) -> str:
        key = self.connection.api_key
        return text.replace(key, mask(key)) if key else text

    def _error(self, query: Query, message: str) -> SyncError:
        return SyncError(f"PostHog query {query.name}: {message}; nothing was written")


# --------------------------------------------------------------------- sync


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


@dataclass
class SyncResult:
    connection: str
    runs: list[QueryRun]
    imported: importer.ImportResult
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


class _DryRun(Exception):
    """Leaves the write transaction so it rolls back, carrying what it would have done."""

    def __init__(self, result: importer.ImportResult) -> None:
        super().__init__("dry run")
        self.result = result


def yesterday() -> dt.date:
    # Only whole days: today's counts are still growing.
    return dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


def sync(
    engine: Engine,
    user: str = "cli",
    since: dt.date | None = None,
    dry_run: bool = False,
    progress: Callable[[Progress], None] | None = None,
    connection: Connection | None = None,
    queries: list[Query] | None = None,
    until: dt.date | None = None,
    page_size: int = PAGE_SIZE,
    policy: http_retry.RetryPolicy | None = None,
) -> SyncResult:
    """Fetch every query's new days from PostHog and upsert them in one transaction.

    Usage queries resume per customer the day after their last synced day;
    `since` re-fetches from that day for everyone. Raises ConfigError
    (settings, query files), SyncError (PostHog, network) or
    importer.ImportRejected (rows that fail the CSV checks); all write nothing.
    """
    connection = connection or Connection.from_env()
    queries = load_queries() if queries is None else queries
    until = until or yesterday()
    if since is not None and since > until:
        raise ConfigError(f"--since {since} is after {until}, the last whole day to sync")
    if not 1 <= page_size <= PAGE_SIZE:
        raise ConfigError(f"page size must be 1..{PAGE_SIZE}")
    report = progress or (lambda _p: None)
    total = len(queries) + 1  # + writing

    db.ensure_schema(engine)
    with db.read_session(engine) as session:
        customers = set(session.scalars(select(models.Customer.customer_id)))
        synced = _synced_through(session, connection.source)
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
            first = _first_day(query, since, until, customers, synced.get(query.name, {}))
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
    loaded, problems, load_warnings = importer.load_frames(sources)
    if not problems:
        with db.read_session(engine) as session:
            problems = importer._check_customer_references(session, loaded)
    if problems:
        raise importer.ImportRejected(problems)

    report(Progress(total - 1, total, f"writing {sum(len(s.frame) for s in sources):,} rows"))
    try:
        with db.write_session(engine, user) as session:
            imported = importer.write_loaded(session, loaded, user, load_warnings)
            _record_state(session, connection, runs, known, user)
            if dry_run:
                raise _DryRun(imported)
    except _DryRun as rolled_back:
        imported = rolled_back.result
    result = SyncResult(connection.describe(), runs, imported, dry_run, warnings)
    report(Progress(total, total, "dry run: nothing written" if dry_run else "done"))
    return result


def _synced_through(session: Session, source: str) -> dict[str, dict[str, dt.date]]:
    state = models.table(models.PostHogSyncState)
    rows = session.execute(
        select(state.c.query, state.c.customer_id, state.c.synced_through).where(
            state.c.project == source
        )
    )
    out: dict[str, dict[str, dt.date]] = {}
    for query, customer_id, through in rows:
        out.setdefault(query, {})[customer_id] = through
    return out


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
    required = importer.SPECS[query.kind].required
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
) -> tuple[list[importer.FrameSource], set[str], list[str]]:
    """Validation sources; usage of PostHog groups that are not customers here is
    left out (a project has far more organisations than the onboarding segment)."""
    known = set(customers)
    for query, frame in fetched:
        if query.kind == "customers":
            known |= set(frame["customer_id"])
    sources: list[importer.FrameSource] = []
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
            sources.append(importer.FrameSource(query.name, query.kind, frame, first_row=1))
    return sources, known, warnings


def _record_state(
    session: Session, connection: Connection, runs: list[QueryRun], known: set[str], user: str
) -> None:
    """The customers whose rows were kept are synced through `until` for each usage
    query asked; one added while PostHog was answering gets its history next time."""
    state = models.table(models.PostHogSyncState)
    customers = sorted(known & set(session.scalars(select(models.Customer.customer_id))))
    asked = [run for run in runs if run.since is not None and run.kind == "usage"]
    now = models.utcnow()
    for run in asked:
        session.execute(
            delete(state).where(state.c.project == connection.source, state.c.query == run.query)
        )
        if customers:
            session.execute(
                insert(state),
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
        db.log_write(
            session,
            "posthog_sync",
            state.name,
            {
                "project": connection.source,
                "queries": {run.query: [run.since, run.until, run.rows] for run in asked},
            },
        )


def last_synced(engine: Engine, connection: Connection) -> dict[str, dt.date]:
    """Each usage query's oldest per-customer synced day (for the Data page)."""
    with db.read_session(engine) as session:
        synced = _synced_through(session, connection.source)
    return {query: min(days.values()) for query, days in synced.items() if days}


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
