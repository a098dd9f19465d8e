"""The PostHog sync against a local server that answers like PostHog's query API.

The real HTTP client (requests) talks to an http.server on 127.0.0.1 that
parses what PostHog would parse from our requests (project, bearer key, the
HogQL `values`, the LIMIT/OFFSET of the paging wrapper, the metric a query
asks for) and answers in the query API's documented shape: results, columns,
types, hasMore, or DRF-style errors ({"type", "code", "detail", "attr"}).
DB tests run on SQLite and PostgreSQL through the `engine` / `db_url` fixtures.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from lib import cli
from lib.ingest import (
    KINDS,
    ImportRejected,
    Source,
    http_retry,
    posthog_client,
    posthog_store,
    posthog_sync,
)
from lib.store import db, models
from tests.csv_fixtures import import_sources
from tests.markdown_text import shown

KEY = "phx_test_0123456789abcdefSECRET"
PROJECT = "4242"
UNTIL = dt.date(2026, 3, 31)
CUSTOMERS = ("acme", "globex", "initech")
STRANGER = "not-a-customer-org"
METRICS = (
    "active_users",
    "autocapture_events",
    "events",
    "groupidentify_events",
    "identified_events",
    "identify_events",
    "insights_viewed",
    "sessions",
)
AUTH_FAILED = {
    "type": "authentication_error",
    "code": "authentication_failed",
    "detail": "Personal API key found in request Authorization header is invalid.",
    "attr": None,
}


# ------------------------------------------------------- a PostHog-shaped server


@dataclass
class Answer:
    """One canned answer: status, headers and a body (a dict is sent as JSON)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakePostHog:
    url: str = ""
    usage: dict[tuple[str, dt.date, str], int] = field(default_factory=dict)
    # Other query kinds: a marker found in the HogQL -> (columns, rows).
    tables: dict[str, tuple[list[str], list[list[Any]]]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    # Canned answers served before the real one, for queries whose HogQL contains the key
    # ("" = every query), in order.
    faults: dict[str, list[Answer]] = field(default_factory=dict)
    send_has_more: bool = False
    api_key: str = KEY

    def fail(self, marker: str, *answers: Answer) -> None:
        self.faults.setdefault(marker, []).extend(answers)

    def asked(self, metric: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if f"'{metric}' AS metric" in r["hogql"]]

    def answer(self, path: str, headers: Any, raw: bytes) -> Answer:
        body = json.loads(raw)
        hogql = body["query"]["query"]
        self.requests.append(
            {"path": path, "auth": headers.get("Authorization"), "body": body, "hogql": hogql}
        )
        if path != f"/api/projects/{PROJECT}/query/":
            return Answer(
                404,
                {
                    "type": "invalid_request",
                    "code": "not_found",
                    "detail": "Not found.",
                    "attr": None,
                },
            )
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            return Answer(401, AUTH_FAILED)
        for marker, queued in self.faults.items():
            if marker in hogql and queued:
                return queued.pop(0)
        assert body["query"]["kind"] == "HogQLQuery"
        values = body["query"]["values"]
        since, until = (
            dt.date.fromisoformat(values["since"]),
            dt.date.fromisoformat(values["until"]),
        )
        paging = re.search(r"LIMIT (\d+) OFFSET (\d+)$", hogql)
        assert paging, "the sync always pages"
        limit, offset = int(paging.group(1)), int(paging.group(2))
        table = next((t for marker, t in self.tables.items() if marker in hogql), None)
        if table is not None:
            columns, rows = table
        else:
            metric = re.search(r"'(\w+)' AS metric", hogql)
            assert metric, hogql
            columns = ["customer_id", "date", "metric", "value"]
            rows = [
                [c, d.isoformat(), m, v]
                for (c, d, m), v in sorted(self.usage.items())
                if m == metric.group(1) and since <= d <= until
            ]
        page = rows[offset : offset + limit]
        result: dict[str, Any] = {
            "cache_key": "x",
            "is_cached": False,
            "columns": columns,
            "types": [[c, "String"] for c in columns],
            "results": page,
            "hogql": hogql,
            "timings": [],
            "modifiers": {},
            "query_status": None,
        }
        if self.send_has_more:
            result |= {"hasMore": offset + limit < len(rows), "limit": limit, "offset": offset}
        return Answer(200, result)


@pytest.fixture
def posthog() -> Iterator[FakePostHog]:
    with serve(FakePostHog()) as fake:
        yield fake


@contextmanager
def serve(fake: FakePostHog) -> Iterator[FakePostHog]:
    """`fake` answering on a free 127.0.0.1 port (its url set) until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            answer = fake.answer(self.path, self.headers, raw)
            body = answer.body
            if isinstance(body, dict | list):
                data, kind = json.dumps(body).encode(), "application/json"
            else:
                data, kind = (body or b""), "text/html"
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.headers.get("Content-Type", kind))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def fill(
    fake: FakePostHog, customers: tuple[str, ...], first: dt.date, last: dt.date, bump: int = 0
) -> None:
    day = first
    while day <= last:
        for ci, customer in enumerate(customers):
            for mi, metric in enumerate(METRICS):
                fake.usage[(customer, day, metric)] = 1000 * (ci + 1) + 10 * mi + day.day + bump
        day += dt.timedelta(days=1)


# ------------------------------------------------------------------ helpers


class Clock:
    """Time that passes only when the retry policy sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def policy(self, attempts: int = 3, max_total_s: float = 60.0) -> http_retry.RetryPolicy:
        return http_retry.RetryPolicy(
            attempts=attempts,
            base_delay_s=0.5,
            max_delay_s=4.0,
            max_total_s=max_total_s,
            sleep=self.sleep,
            clock=lambda: self.now,
        )


def connection(fake: FakePostHog, key: str = KEY) -> posthog_client.Connection:
    return posthog_client.Connection.from_env(
        {"POSTHOG_PERSONAL_API_KEY": key, "POSTHOG_PROJECT_ID": PROJECT, "POSTHOG_HOST": fake.url}
    )


def add_customers(engine: Engine, *ids: str) -> None:
    lines = ["customer_id,name,segment_entered_on"] + [f"{c},{c.title()},2026-02-01" for c in ids]
    import_sources(engine, [Source("customers.csv", "\n".join(lines).encode())])


def run(
    engine: Engine, fake: FakePostHog, clock: Clock | None = None, **kwargs: Any
) -> posthog_sync.SyncResult:
    """A sync as the CLI runs it: the state read, PostHog asked with no transaction
    open, then one write transaction."""
    conn = kwargs.pop("connection", None) or connection(fake)
    until = kwargs.pop("until", UNTIL)
    dry_run = kwargs.pop("dry_run", False)
    with db.read_session(engine) as session:
        state = posthog_store.read_state(session, conn)
    fetched = posthog_sync.fetch(conn, state, until, policy=(clock or Clock()).policy(), **kwargs)
    with db.write_session(engine, "tester") as session:
        return posthog_store.write(
            session, fetched, dt.date.today(), dry_run, kwargs.get("progress")
        )


def usage(engine: Engine) -> dict[tuple[str, dt.date, str], int]:
    with engine.connect() as c:
        rows = c.execute(
            select(
                models.Usage.customer_id, models.Usage.date, models.Usage.metric, models.Usage.value
            )
        )
        return {(cid, d, m): v for cid, d, m, v in rows}


def snapshot(engine: Engine) -> dict[str, Any]:
    """Everything a sync may write."""
    out: dict[str, Any] = {}
    with engine.connect() as c:
        for model in (models.Customer, models.ConfigValue, models.Usage, models.PostHogSyncState):
            table = models.table(model)
            out[table.name] = sorted((tuple(r) for r in c.execute(select(table))), key=repr)
        out["audit_log"] = c.scalar(select(func.count()).select_from(models.AuditLog))
    return out


@pytest.fixture
def synced(engine: Engine, posthog: FakePostHog) -> Engine:
    """Three customers, PostHog data Feb 20 .. Apr 10, and a first sync through UNTIL."""
    add_customers(engine, *CUSTOMERS)
    fill(posthog, (*CUSTOMERS, STRANGER), dt.date(2026, 2, 20), dt.date(2026, 4, 10))
    run(engine, posthog)
    posthog.requests.clear()
    return engine


def expected(fake: FakePostHog, last: dt.date) -> dict[tuple[str, dt.date, str], int]:
    return {k: v for k, v in fake.usage.items() if k[0] in CUSTOMERS and k[1] <= last}


# ----------------------------------------------------------- the happy path


def test_first_sync_fills_usage_for_the_customers(engine: Engine, posthog: FakePostHog) -> None:
    add_customers(engine, *CUSTOMERS)
    fill(posthog, (*CUSTOMERS, STRANGER), dt.date(2026, 2, 20), dt.date(2026, 4, 10))
    progress: list[posthog_sync.Progress] = []

    result = run(engine, posthog, progress=progress.append)

    assert usage(engine) == expected(posthog, UNTIL)
    # 3 customers x 40 days (Feb 20 .. Mar 31) x 8 metrics
    assert result.imported.kinds["usage"].added == 3 * 40 * 8
    first_day = UNTIL - dt.timedelta(days=posthog_sync.FIRST_SYNC_DAYS - 1)
    assert {r["auth"] for r in posthog.requests} == {f"Bearer {KEY}"}
    assert {json.dumps(r["body"]["query"]["values"]) for r in posthog.requests} == {
        json.dumps({"since": first_day.isoformat(), "until": UNTIL.isoformat()})
    }
    # the dates travel as HogQL values, never inside the query text
    assert not any(UNTIL.isoformat() in r["hogql"] for r in posthog.requests)
    assert any(STRANGER in w and "skipped" in w for w in result.warnings)
    assert progress[-1].fraction == 1.0 and progress[-1].message == "done"
    with engine.connect() as c:
        state = c.execute(
            select(
                models.PostHogSyncState.query,
                models.PostHogSyncState.customer_id,
                models.PostHogSyncState.synced_through,
            )
        ).all()
    assert len(state) == len(METRICS) * len(CUSTOMERS)
    assert {through for _, _, through in state} == {UNTIL}
    assert KEY not in result.summary() and "phx_…CRET" in result.summary()


def test_second_sync_fetches_only_new_days(synced: Engine, posthog: FakePostHog) -> None:
    later = UNTIL + dt.timedelta(days=3)

    result = run(synced, posthog, until=later)

    values = {json.dumps(r["body"]["query"]["values"]) for r in posthog.requests}
    assert values == {json.dumps({"since": "2026-04-01", "until": "2026-04-03"})}
    assert len(posthog.requests) == len(METRICS)  # one page each
    assert result.imported.kinds["usage"].added == 3 * 3 * 8
    assert result.imported.kinds["usage"].unchanged == 0
    assert usage(synced) == expected(posthog, later)

    # Again the same day: every query is up to date and PostHog is not asked at all.
    posthog.requests.clear()
    again = run(synced, posthog, until=later)
    assert posthog.requests == []
    assert all(r.since is None for r in again.runs)
    assert "up to date" in again.summary()


def test_a_customer_added_later_gets_its_history(synced: Engine, posthog: FakePostHog) -> None:
    fill(posthog, ("hooli",), dt.date(2026, 2, 20), dt.date(2026, 4, 10))
    add_customers(synced, "hooli")
    later = UNTIL + dt.timedelta(days=1)

    result = run(synced, posthog, until=later)

    assert usage(synced) == {
        k: v for k, v in posthog.usage.items() if k[0] in (*CUSTOMERS, "hooli") and k[1] <= later
    }
    usage_result = result.imported.kinds["usage"]
    assert usage_result.added == 41 * 8 + 3 * 8  # hooli's history + everyone's new day
    assert usage_result.updated == 0


def test_a_customer_added_during_a_sync_is_not_marked_synced(
    engine: Engine, posthog: FakePostHog
) -> None:
    add_customers(engine, *CUSTOMERS)
    fill(posthog, (*CUSTOMERS, "hooli"), dt.date(2026, 3, 1), UNTIL)
    added: list[str] = []

    def meanwhile(progress: posthog_sync.Progress) -> None:
        # Someone imports customers.csv while PostHog is still answering.
        if progress.message.startswith("events.sql") and not added:
            added.append("hooli")
            add_customers(engine, "hooli")

    run(engine, posthog, progress=meanwhile)
    assert not [k for k in usage(engine) if k[0] == "hooli"]  # skipped: unknown when fetched

    run(engine, posthog)  # the next sync fetches hooli's history
    assert len([k for k in usage(engine) if k[0] == "hooli"]) == 31 * 8


def test_since_refetches_and_picks_up_changed_values(synced: Engine, posthog: FakePostHog) -> None:
    for key in [k for k in posthog.usage if k[1] == UNTIL]:
        posthog.usage[key] += 5  # late-arriving events for the last day

    result = run(synced, posthog, since=UNTIL)

    assert result.imported.kinds["usage"].updated == 3 * 8
    assert usage(synced) == expected(posthog, UNTIL)


@pytest.mark.parametrize(
    "page_size, send_has_more, requests",
    [
        # 4 groups x 40 days = 160 rows per query
        (7, False, 23),  # 22 full pages and a short one: the short page is the end
        (7, True, 23),  # the same when answers carry hasMore
        (40, False, 5),  # exactly 4 full pages: one more, empty page says the end
        (40, True, 4),  # hasMore=false on the 4th page saves that request
        (1000, False, 1),  # everything in one page
    ],
)
def test_paging_adds_up_to_the_whole_result(
    engine: Engine, posthog: FakePostHog, page_size: int, send_has_more: bool, requests: int
) -> None:
    add_customers(engine, *CUSTOMERS)
    fill(posthog, (*CUSTOMERS, STRANGER), dt.date(2026, 2, 20), dt.date(2026, 4, 10))
    posthog.send_has_more = send_has_more

    result = run(engine, posthog, page_size=page_size)

    assert usage(engine) == expected(posthog, UNTIL)
    offsets = [
        int(re.search(r"OFFSET (\d+)$", r["hogql"]).group(1))  # type: ignore[union-attr]
        for r in posthog.asked("events")
    ]
    assert offsets == [page_size * i for i in range(requests)]
    events = next(r for r in result.runs if r.query == "events.sql")
    assert (events.rows, events.pages) == (160, requests)


def test_dry_run_shows_what_would_change_and_writes_nothing(
    synced: Engine, posthog: FakePostHog
) -> None:
    posthog.usage[("acme", UNTIL, "events")] += 1
    before = snapshot(synced)

    result = run(synced, posthog, since=UNTIL, until=UNTIL + dt.timedelta(days=2), dry_run=True)

    assert snapshot(synced) == before
    kinds = result.imported.kinds["usage"]
    assert (kinds.added, kinds.updated, kinds.unchanged) == (3 * 2 * 8, 1, 3 * 8 - 1)
    assert "Dry run: nothing was written." in result.summary()
    # and the real run does what the dry run said
    real = run(synced, posthog, since=UNTIL, until=UNTIL + dt.timedelta(days=2))
    assert (real.imported.kinds["usage"].added, real.imported.kinds["usage"].updated) == (48, 1)


# ----------------------------------------------------------------- retries


@pytest.mark.parametrize(
    "answers, sleeps",
    [
        # a 429 with Retry-After in seconds: waits exactly that long
        (
            [
                Answer(
                    429,
                    {
                        "type": "throttled_error",
                        "code": "throttled",
                        "detail": "Request was throttled. Expected available in 2 seconds.",
                        "attr": None,
                    },
                    {"Retry-After": "2"},
                )
            ],
            [2.0],
        ),
        # two 5xx: exponential backoff with jitter, within the cap
        (
            [
                Answer(
                    500,
                    {
                        "type": "server_error",
                        "code": "error",
                        "detail": "A server error occurred.",
                        "attr": None,
                    },
                ),
                Answer(503, b"<html>busy</html>"),
            ],
            None,
        ),
    ],
)
def test_rate_limits_and_server_errors_are_retried(
    engine: Engine, posthog: FakePostHog, answers: list[Answer], sleeps: list[float] | None
) -> None:
    add_customers(engine, *CUSTOMERS)
    fill(posthog, CUSTOMERS, dt.date(2026, 3, 1), UNTIL)
    posthog.fail("'events' AS metric", *answers)
    clock = Clock()

    run(engine, posthog, clock)

    assert usage(engine) == expected(posthog, UNTIL)
    assert len(posthog.asked("events")) == len(answers) + 1
    if sleeps is not None:
        assert clock.sleeps == sleeps
    else:
        assert len(clock.sleeps) == 2 and clock.sleeps[0] <= 0.5 and clock.sleeps[1] <= 1.0


@pytest.mark.parametrize(
    "header, seconds",
    [
        ("3", 3.0),  # delta-seconds
        ("0", 0.0),  # retry at once
        ("Wed, 01 Apr 2026 00:00:10 GMT", 10.0),  # an HTTP date, 10 s after "now"
        ("Wed, 01 Apr 2026 00:00:00 GMT", 0.0),  # a date already past
        ("soon", None),  # not a Retry-After value: ignored, backoff applies
        (None, None),  # no header
    ],
)
def test_retry_after_header(header: str | None, seconds: float | None) -> None:
    now = dt.datetime(2026, 4, 1, tzinfo=dt.UTC).timestamp()
    assert http_retry.retry_after_s(header, now=now) == seconds


# ----------------------------------------------------------- failure modes


THROTTLED = {
    "type": "throttled_error",
    "code": "throttled",
    "detail": "Request was throttled.",
    "attr": None,
}


@pytest.mark.parametrize(
    "answers, error, says",
    [
        # an expired or revoked key
        (
            [Answer(401, AUTH_FAILED)] * 3,
            posthog_client.SyncError,
            [
                "HTTP 401",
                "Authorization header is invalid",
                "phx_…CRET",
                "POSTHOG_PERSONAL_API_KEY",
            ],
        ),
        # a server error that does not go away: 3 attempts, then a clear stop
        (
            [
                Answer(
                    500,
                    {
                        "type": "server_error",
                        "code": "error",
                        "detail": "A server error occurred.",
                        "attr": None,
                    },
                )
            ]
            * 3,
            posthog_client.SyncError,
            ["kept answering HTTP 500", "A server error occurred", "3 attempts"],
        ),
        # rate limited for an hour: no point waiting inside the bounds
        (
            [Answer(429, THROTTLED, {"Retry-After": "3600"})],
            posthog_client.SyncError,
            ["HTTP 429", "asked to wait 3600 s", "Request was throttled"],
        ),
        # still rate limited after every attempt
        (
            [Answer(429, THROTTLED, {"Retry-After": "1"})] * 3,
            posthog_client.SyncError,
            ["HTTP 429", "3 attempts"],
        ),
        # a HogQL error: PostHog's own message
        (
            [
                Answer(
                    400,
                    {
                        "type": "validation_error",
                        "code": "query_validation_error",
                        "detail": "Unable to resolve field: $group_9",
                        "attr": None,
                    },
                )
            ],
            posthog_client.SyncError,
            ["HTTP 400", "Unable to resolve field: $group_9"],
        ),
        # malformed: an HTML page with status 200 (a proxy, a login page)
        ([Answer(200, b"<html>Sign in</html>")], posthog_client.SyncError, ["not JSON", "Sign in"]),
        # malformed: JSON without results
        (
            [Answer(200, {"detail": "ok?"})],
            posthog_client.SyncError,
            ["no results/columns", "detail"],
        ),
        # malformed: a row with the wrong number of values
        (
            [
                Answer(
                    200,
                    {
                        "columns": ["customer_id", "date", "metric", "value"],
                        "types": [],
                        "results": [["acme", "2026-03-01", "events"]],
                    },
                )
            ],
            posthog_client.SyncError,
            ["result row 1 is not 4 values"],
        ),
        # a query that forgot a column
        (
            [
                Answer(
                    200,
                    {
                        "columns": ["customer_id", "date", "metric"],
                        "types": [],
                        "results": [["acme", "2026-03-01", "events"]],
                        "hasMore": False,
                    },
                )
            ],
            posthog_client.SyncError,
            ["missing: value"],
        ),
        # rows the CSV checks refuse: a metric not in the contract, a negative count
        (
            [
                Answer(
                    200,
                    {
                        "columns": ["customer_id", "date", "metric", "value"],
                        "types": [],
                        "results": [
                            ["acme", "2026-03-01", "eventz", 5],
                            ["acme", "2026-03-02", "events", -1],
                        ],
                        "hasMore": False,
                    },
                )
            ],
            ImportRejected,
            [
                "events.sql row 1, column metric: 'eventz'",
                "events.sql row 2, column value: '-1': a whole number >= 0",
            ],
        ),
    ],
)
def test_every_failure_leaves_the_database_unchanged(
    synced: Engine,
    posthog: FakePostHog,
    answers: list[Answer],
    error: type[Exception],
    says: list[str],
) -> None:
    fill(posthog, CUSTOMERS, UNTIL, UNTIL + dt.timedelta(days=5), bump=7)
    # events.sql is the third query: two succeeded before it fails
    posthog.fail("'events' AS metric", *answers)
    before = snapshot(synced)

    with pytest.raises(error) as raised:
        run(synced, posthog, until=UNTIL + dt.timedelta(days=5))

    message = (
        raised.value.summary() if isinstance(raised.value, ImportRejected) else str(raised.value)
    )
    for part in says:
        assert part in message
    assert "events.sql" in message
    assert KEY not in message
    assert snapshot(synced) == before
    assert (
        len(posthog.asked("active_users")) == 1
    )  # earlier queries ran; nothing of them was written


def test_unreachable_host_is_a_clear_error(engine: Engine, posthog: FakePostHog) -> None:
    add_customers(engine, *CUSTOMERS)
    before = snapshot(engine)
    dead = posthog_client.Connection("http://127.0.0.1:9", PROJECT, KEY)  # discard port: refused

    with pytest.raises(
        posthog_client.SyncError, match=r"could not reach http://127\.0\.0\.1:9.*3 attempts"
    ):
        run(engine, posthog, connection=dead)
    assert snapshot(engine) == before


def test_wrong_project_names_the_settings(engine: Engine, posthog: FakePostHog) -> None:
    add_customers(engine, *CUSTOMERS)
    wrong = posthog_client.Connection(posthog.url, "999", KEY)
    with pytest.raises(posthog_client.SyncError, match="no project 999 .*POSTHOG_PROJECT_ID"):
        run(engine, posthog, connection=wrong)


def test_no_customers_asks_for_customers_first(engine: Engine, posthog: FakePostHog) -> None:
    with pytest.raises(posthog_client.ConfigError, match="import customers.csv first"):
        run(engine, posthog)
    assert posthog.requests == []


# ------------------------------------------ customers and config from queries


def test_customer_and_config_rows_can_come_from_queries(
    engine: Engine, posthog: FakePostHog, tmp_path: Path
) -> None:
    shutil.copy(posthog_client.QUERIES_DIR / "events.sql", tmp_path / "events.sql")
    (tmp_path / "customers.sql").write_text(
        "-- the organisations in the onboarding segment\n"
        "SELECT key AS customer_id, properties.name AS name, toDate(created_at) AS segment_entered_on\n"
        "FROM groups WHERE index = 0;\n"
    )
    (tmp_path / "config_sdk.sql").write_text(
        "SELECT $group_0 AS customer_id, 'sdk' AS key, any(properties.$lib) AS value\n"
        "FROM events WHERE toDate(timestamp) >= toDate({since}) GROUP BY customer_id\n"
    )
    posthog.tables["FROM groups"] = (
        ["customer_id", "name", "segment_entered_on"],
        [["acme", "Acme", "2026-03-02T00:00:00Z"], ["globex", "Globex", "2026-03-05"]],
    )
    posthog.tables["'sdk' AS key"] = (
        ["customer_id", "key", "value"],
        [["acme", "sdk", "web"], ["globex", "sdk", "posthog-python"], [STRANGER, "sdk", "web"]],
    )
    fill(posthog, ("acme", "globex", STRANGER), dt.date(2026, 3, 1), UNTIL)

    result = run(engine, posthog, queries=posthog_client.load_queries(tmp_path))

    assert result.imported.kinds["customers"].added == 2
    with engine.connect() as c:
        assert c.execute(
            select(models.Customer.customer_id, models.Customer.segment_entered_on)
        ).all() == [
            ("acme", dt.date(2026, 3, 2)),
            ("globex", dt.date(2026, 3, 5)),
        ]
        assert set(c.execute(select(models.ConfigValue.customer_id, models.ConfigValue.value))) == {
            ("acme", "web"),
            ("globex", "posthog-python"),
        }
    assert len(usage(engine)) == 2 * 31


# ------------------------------------------------------- settings and files


@pytest.mark.parametrize(
    "env, host_or_error",
    [
        ({}, "set POSTHOG_PERSONAL_API_KEY and POSTHOG_PROJECT_ID"),  # nothing configured
        ({"POSTHOG_PERSONAL_API_KEY": KEY}, "set POSTHOG_PROJECT_ID"),  # no project
        ({"POSTHOG_PROJECT_ID": PROJECT}, "set POSTHOG_PERSONAL_API_KEY"),  # no key
        (
            {"POSTHOG_PERSONAL_API_KEY": KEY, "POSTHOG_PROJECT_ID": "my-project"},
            "project's number",
        ),  # not an id
        (
            {"POSTHOG_PERSONAL_API_KEY": KEY, "POSTHOG_PROJECT_ID": PROJECT},
            "https://us.posthog.com",
        ),  # US cloud by default
        (
            {"POSTHOG_PERSONAL_API_KEY": KEY, "POSTHOG_PROJECT_ID": PROJECT, "POSTHOG_HOST": "eu"},
            "https://eu.posthog.com",
        ),  # shortcut
        (
            {
                "POSTHOG_PERSONAL_API_KEY": KEY,
                "POSTHOG_PROJECT_ID": PROJECT,
                "POSTHOG_HOST": "https://ph.example.com/",
            },
            "https://ph.example.com",
        ),  # self-hosted, slash dropped
        (
            {
                "POSTHOG_PERSONAL_API_KEY": KEY,
                "POSTHOG_PROJECT_ID": PROJECT,
                "POSTHOG_HOST": "http://ph.example.com",
            },
            "must use https://",
        ),  # key in clear text
        (
            {
                "POSTHOG_PERSONAL_API_KEY": KEY,
                "POSTHOG_PROJECT_ID": PROJECT,
                "POSTHOG_HOST": "http://localhost:8000",
            },
            "http://localhost:8000",
        ),  # local dev
        (
            {
                "POSTHOG_PERSONAL_API_KEY": KEY,
                "POSTHOG_PROJECT_ID": PROJECT,
                "POSTHOG_HOST": "https://eu.posthog.com/project/1",
            },
            "just the address",
        ),  # a page, not a host
        (
            {
                "POSTHOG_PERSONAL_API_KEY": KEY,
                "POSTHOG_PROJECT_ID": PROJECT,
                "POSTHOG_HOST": "eu.posthog.com",
            },
            "must be an address",
        ),  # no scheme
    ],
)
def test_connection_from_env(env: dict[str, str], host_or_error: str) -> None:
    if host_or_error.startswith("http"):
        conn = posthog_client.Connection.from_env(env)
        assert conn.host == host_or_error
        assert KEY not in repr(conn) and KEY not in conn.describe()
    else:
        with pytest.raises(posthog_client.ConfigError, match=re.escape(host_or_error)) as raised:
            posthog_client.Connection.from_env(env)
        assert KEY not in str(raised.value)


@pytest.mark.parametrize(
    "secret, shown",
    [
        ("phx_abcdefghijklmnop1234", "phx_…1234"),  # PostHog personal key: prefix and last four
        ("abcdefghijklmnop1234", "…1234"),  # other keys: last four only
        ("short", "…"),  # too short to show any of it
        ("", "(empty)"),
    ],
)
def test_mask(secret: str, shown: str) -> None:
    assert posthog_client.mask(secret) == shown


@pytest.mark.parametrize(
    "name, text, kind_or_error",
    [
        ("events.sql", "SELECT 1 WHERE d >= {since} AND d <= {until}", "usage"),  # a usage query
        ("customers.sql", "SELECT key AS customer_id FROM groups", "customers"),  # by file name
        ("config_sdk.sql", "SELECT 1", "config"),  # config_* is config
        (
            "sessions.sql",
            "SELECT 1 WHERE d >= {since}",
            "{since} and {until}",
        ),  # must bound its days
        (
            "events.sql",
            "SELECT 1 WHERE d >= {since} AND d <= {until} AND x = {team}",
            "uses {team}",
        ),  # unknown placeholder
        ("empty.sql", "-- nothing but a comment\n", "empty"),  # nothing to run
    ],
)
def test_parse_query(name: str, text: str, kind_or_error: str) -> None:
    if kind_or_error in KINDS:
        assert posthog_client.parse_query(name, text).kind == kind_or_error
    else:
        with pytest.raises(posthog_client.ConfigError, match=re.escape(kind_or_error)):
            posthog_client.parse_query(name, text)


def test_shipped_queries_are_usage_queries_for_contract_metrics() -> None:
    queries = posthog_client.load_queries()
    assert {q.name for q in queries} == {f"{m}.sql" for m in METRICS}
    for query in queries:
        assert query.kind == "usage"
        metric = re.search(r"'(\w+)' AS metric", query.text)
        assert metric and f"{metric.group(1)}.sql" == query.name
        assert "--" not in query.text  # comments are not sent


# ------------------------------------------------------------- command line


def test_cli_sync_posthog(
    db_url: str,
    posthog: FakePostHog,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = db.make_engine(db_url)
    add_customers(engine, *CUSTOMERS)
    yesterday = posthog_sync.yesterday()
    fill(posthog, CUSTOMERS, yesterday - dt.timedelta(days=9), yesterday)
    monkeypatch.setenv("POSTHOG_PERSONAL_API_KEY", KEY)
    monkeypatch.setenv("POSTHOG_PROJECT_ID", PROJECT)
    monkeypatch.setenv("POSTHOG_HOST", posthog.url)

    assert cli.main(["--db", db_url, "sync", "posthog", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "usage: 240 added" in out and "Dry run: nothing was written." in out
    assert usage(engine) == {}

    assert cli.main(["--db", db_url, "sync", "posthog"]) == 0
    assert "usage: 240 added" in capsys.readouterr().out
    assert len(usage(engine)) == 240

    monkeypatch.setenv("POSTHOG_PERSONAL_API_KEY", "phx_expired_key_000000000000")
    assert cli.main(["--db", db_url, "sync", "posthog", "--since", yesterday.isoformat()]) == 1
    err = capsys.readouterr().err
    assert "HTTP 401" in err and "phx_…0000" in err and "phx_expired_key_000000000000" not in err

    monkeypatch.delenv("POSTHOG_PROJECT_ID")
    assert cli.main(["--db", db_url, "sync", "posthog"]) == 2
    assert "POSTHOG_PROJECT_ID" in capsys.readouterr().err
    engine.dispose()


# ------------------------------------------------------------------ Data page


def test_data_page_syncs_from_posthog(
    login_app: Any,
    demo_db_url: str,
    posthog: FakePostHog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = db.make_engine(demo_db_url)
    with engine.connect() as c:
        ids = tuple(
            c.scalars(select(models.Customer.customer_id).order_by(models.Customer.customer_id))
        )
    engine.dispose()
    yesterday = posthog_sync.yesterday()
    fill(posthog, ids[:2], yesterday, yesterday)

    # Not configured: the page says which settings are missing, and offers no button.
    at = login_app("admin", page="app_pages/data.py")
    assert any("POSTHOG_PERSONAL_API_KEY" in shown(str(i.value)) for i in at.info)
    assert not [b for b in at.button if b.key == "posthog_sync_button"]

    monkeypatch.setenv("POSTHOG_PERSONAL_API_KEY", KEY)
    monkeypatch.setenv("POSTHOG_PROJECT_ID", PROJECT)
    monkeypatch.setenv("POSTHOG_HOST", posthog.url)
    at = login_app("admin", page="app_pages/data.py")
    assert any("phx_…CRET" in shown(str(c.value)) for c in at.caption)
    at.toggle(key="posthog_sync_dry_run").set_value(True)
    at.button(key="posthog_sync_button").click()
    at.run()
    assert not at.exception
    assert "Dry run: nothing was written." in at.code[-1].value
    assert KEY not in at.code[-1].value

    at.toggle(key="posthog_sync_dry_run").set_value(False)
    at.button(key="posthog_sync_button").click()
    at.run()
    assert not at.exception
    assert "usage: 16 added" in at.code[-1].value  # 2 customers x 8 metrics x 1 day
    assert any("Synced: 16 rows" in str(s.value) for s in at.success)

    # An expired key: the error names it, masked, and the page keeps working.
    posthog.api_key = "phx_rotated_key_0000000000"
    at.date_input(key="posthog_sync_since").set_value(yesterday)
    at.button(key="posthog_sync_button").click()
    at.run()
    assert not at.exception
    assert "HTTP 401" in at.code[-1].value and KEY not in at.code[-1].value
    assert any("nothing was written" in shown(str(e.value)) for e in at.error)


@pytest.mark.parametrize("username", ["dana", "lead"])  # team, leadership: no Data page at all
def test_data_page_sync_is_for_admins_only(login_app: Any, username: str) -> None:
    at = login_app(username)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/data.py")
