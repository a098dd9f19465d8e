"""The console's own analytics, end to end: the real PostHog client sends to a local
endpoint that speaks PostHog's batch API, while AppTest drives the app from app.py.

What the SDK (posthog 7.x, capture mode v0) sends: POST {host}/batch/ with a JSON
body {"api_key", "batch": [{"event", "distinct_id", "properties", "timestamp",
"uuid"}], "historical_migration", "sent_at"}, gzip-compressed with
Content-Encoding: gzip when the client has gzip=True (plain JSON otherwise).
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from posthog.consumer import Consumer
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from lib.store import db, models
from tests.apptest_support import PASSWORD, new_app, page_errors, sign_in
from ui import telemetry as ui_telemetry

KEY = "phc_test_project_key"
PAGE = "app_pages/outcomes.py"


@dataclass
class Received:
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            batches = [event for body in self.requests for event in body["body"]["batch"]]
        return sorted(batches, key=lambda e: e["timestamp"])


@pytest.fixture
def capture_server() -> Iterator[tuple[str, Received]]:
    """A PostHog-like /batch/ endpoint on 127.0.0.1 and a free port."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            encoding = self.headers.get("Content-Encoding", "")
            body = gzip.decompress(raw) if encoding == "gzip" else raw
            with received.lock:
                received.requests.append(
                    {"path": self.path, "encoding": encoding, "body": json.loads(body)}
                )
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"status": 1}')

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTHOG_PROJECT_API_KEY", raising=False)
    monkeypatch.delenv("POSTHOG_HOST", raising=False)


def signed_in(username: str, posthog: dict[str, str] | None) -> AppTest:
    at = new_app()
    if posthog is not None:
        at.secrets["posthog"] = posthog
    at.run()
    sign_in(at, username, PASSWORD)
    return at.run()


def download(at: AppTest, chart: str) -> None:
    button = next(b for b in at.get("download_button") if b.key == f"outcomes_csv_{chart}")
    button.click()
    at.run()


def wait_for(received: Received, count: int, timeout_s: float = 10) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and len(received.events) < count:
        time.sleep(0.05)
    return received.events


def custom(properties: dict[str, Any]) -> dict[str, Any]:
    """The event's own properties, without the SDK's `$...` ones."""
    return {k: v for k, v in properties.items() if not k.startswith("$")}


def test_events_reach_posthog_with_allow_listed_properties(
    app_env: Path, no_env_key: None, capture_server: tuple[str, Received]
) -> None:
    host, received = capture_server
    at = signed_in("lead", {"project_api_key": KEY, "host": host})
    assert page_errors(at) == []
    at.switch_page(PAGE).run()  # the same page again: no second page view
    download(at, "funnel")
    assert page_errors(at) == []

    ui_telemetry.client(KEY, host).flush(10)
    events = wait_for(received, 2)
    assert [(e["event"], custom(e["properties"])) for e in events] == [
        ("page_viewed", {"page": "outcomes", "role": "leadership", "app": "onboarding-console"}),
        (
            "outcomes_downloaded",
            {"chart": "funnel", "role": "leadership", "app": "onboarding-console"},
        ),
    ]
    assert {e["distinct_id"] for e in events} == {"lead"}
    assert all(r["path"] == "/batch/" for r in received.requests)
    assert all(r["body"]["api_key"] == KEY for r in received.requests)
    assert all(r["encoding"] == "gzip" for r in received.requests)
    assert all(e["properties"]["$lib"] == "posthog-python" for e in events)


def test_page_views_follow_navigation(
    app_env: Path, no_env_key: None, capture_server: tuple[str, Received]
) -> None:
    host, received = capture_server
    at = signed_in("dana", {"project_api_key": KEY, "host": host})  # lands on Today
    at.switch_page(PAGE).run()
    at.switch_page("app_pages/today.py").run()
    ui_telemetry.client(KEY, host).flush(10)
    events = wait_for(received, 3)
    assert [(e["event"], e["properties"]["page"]) for e in events] == [
        ("page_viewed", "today"),
        ("page_viewed", "outcomes"),
        ("page_viewed", "today"),
    ]
    assert {(e["distinct_id"], e["properties"]["role"]) for e in events} == {("dana", "team")}


def test_environment_configures_it_too(
    app_env: Path, monkeypatch: pytest.MonkeyPatch, capture_server: tuple[str, Received]
) -> None:
    host, received = capture_server
    monkeypatch.setenv("POSTHOG_PROJECT_API_KEY", KEY)
    monkeypatch.setenv("POSTHOG_HOST", host)
    signed_in("lead", None)
    ui_telemetry.client(KEY, host).flush(10)
    assert [e["event"] for e in wait_for(received, 1)] == ["page_viewed"]


def _consumers() -> set[int]:
    return {id(t) for t in threading.enumerate() if isinstance(t, Consumer)}


def test_without_a_key_nothing_is_sent_and_nothing_breaks(
    app_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_env_key: None,
    capture_server: tuple[str, Received],
) -> None:
    host, received = capture_server
    monkeypatch.setenv("POSTHOG_HOST", host)  # a host alone is not enough
    before = _consumers()
    at = signed_in("lead", {"host": host})
    download(at, "funnel")
    assert page_errors(at) == []
    assert "Program outcomes" in [t.value for t in at.title]
    time.sleep(0.5)
    assert received.requests == []
    assert _consumers() - before == set()  # no client, no sending thread


def test_an_unreachable_host_never_blocks_a_page(app_env: Path, no_env_key: None) -> None:
    # Port 9 (discard) on localhost: nothing listens; only the SDK's thread notices.
    at = signed_in("lead", {"project_api_key": KEY, "host": "http://127.0.0.1:9"})
    started = time.monotonic()
    download(at, "funnel")
    assert page_errors(at) == []
    assert time.monotonic() - started < 5  # under one upload timeout: nothing waited on it


def test_customer_opened_names_the_customer_by_id_only(
    app_env: Path, no_env_key: None, capture_server: tuple[str, Received], demo_db_url: str
) -> None:
    host, received = capture_server
    engine = db.make_engine(demo_db_url)
    with db.read_session(engine) as session:
        customer = session.scalars(
            select(models.Customer).order_by(models.Customer.customer_id)
        ).first()
    engine.dispose()
    assert customer is not None
    at = signed_in("dana", {"project_api_key": KEY, "host": host})
    at.query_params["id"] = customer.customer_id
    at.switch_page("app_pages/customer.py").run()
    at.run()  # a rerun of the same customer: no second event
    assert page_errors(at) == []
    ui_telemetry.client(KEY, host).flush(10)
    events = wait_for(received, 3)
    opened = [e for e in events if e["event"] == "customer_opened"]
    assert [custom(e["properties"]) for e in opened] == [
        {"customer_id": customer.customer_id, "role": "team", "app": "onboarding-console"}
    ]
    sent = json.dumps([r["body"] for r in received.requests])
    assert customer.name not in sent  # nothing personal beyond the id
