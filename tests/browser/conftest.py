"""A real Streamlit server and a real Chromium, shared by the browser tests.

One server per database for the whole session (starting Streamlit and
Chromium costs seconds; the flows themselves are quick): `streamlit run
app.py` on a free 127.0.0.1 port against a fresh database holding the demo
data, with its own login file and cookie key, stopped by its process id at
the end. Chromium is Debian's /usr/bin/chromium driven by Playwright (never a
downloaded browser). Without Chromium or Playwright the tests are skipped with
the reason printed in the summary.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from lib import demo, settings
from lib.accounts import auth
from lib.store import db
from tests.browser import hostile_data
from tests.conftest import DATABASES, PgServer
from tests.mail_servers import dovecot_available

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUTPUT = settings.PROJECT_ROOT / "test-output"
STARTUP_TIMEOUT_S = 90
DEMO_CUSTOMERS = 40
AS_OF = dt.date.today()

# The logins every server gets (password >= 10 characters, bcrypt-hashed by lib.accounts.auth).
PASSWORD = "correct-horse-battery"
ADMIN = "admin"
TEAM = "dana"  # one of lib.demo.OWNERS, so the team user owns demo customers
LEADERSHIP = "leader"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


@dataclass
class AppServer:
    """A running `streamlit run app.py` and what it was started with."""

    database: str
    url: str
    database_url: str
    auth_file: Path
    log: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(repr=False)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def page_url(self, path: str = "") -> str:
        return f"{self.url}/{path.lstrip('/')}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server we started: its own process group, by its process id."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def _fresh_database(request: pytest.FixtureRequest, database: str, folder: Path) -> str:
    if database == "sqlite":
        return f"sqlite:///{folder / 'onboarding.db'}"
    from pytest_postgresql.janitor import DatabaseJanitor

    server: PgServer = request.getfixturevalue("pg_server")
    template: str = request.getfixturevalue("pg_template")
    name = f"b_{uuid.uuid4().hex[:12]}"
    janitor = DatabaseJanitor(
        user=server.user,
        host=server.host,
        port=server.port,
        dbname=name,
        template_dbname=template,
    )
    janitor.init()
    request.addfinalizer(janitor.drop)
    return server.url(name)


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(
            f"BROWSER TESTS SKIPPED: {CHROMIUM} not found (run `make test` as root to "
            "install Debian's chromium package)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("BROWSER TESTS SKIPPED: playwright is not installed in the venv")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: Path) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session", params=DATABASES)
def app_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    chromium_path: Path,
) -> Iterator[AppServer]:
    """`streamlit run app.py` on demo data in a fresh database of the given kind."""
    database: str = request.param
    folder = tmp_path_factory.mktemp(f"app-{database}")
    database_url = _fresh_database(request, database, folder)
    engine = db.make_engine(database_url)
    try:
        db.migrate(engine)
        with db.write_session(engine, "demo") as session:
            demo.load(session, demo.generate(customers=DEMO_CUSTOMERS, seed=7, as_of=AS_OF))
        hostile_data.seed(engine, AS_OF)
    finally:
        engine.dispose()

    auth_file = folder / "auth.yaml"
    add_test_users(auth_file)
    with running_server(
        request,
        database=database,
        database_url=database_url,
        auth_file=auth_file,
        folder=folder,
        log_name=f"streamlit-{database}",
    ) as server:
        yield server


def add_test_users(auth_file: Path) -> None:
    """The logins every test server has (ADMIN, TEAM, LEADERSHIP, password PASSWORD)."""
    auth.add_user(auth_file, ADMIN, "admin", PASSWORD, name="Ada Admin")
    auth.add_user(auth_file, TEAM, "team", PASSWORD, name="Dana Team")
    auth.add_user(auth_file, LEADERSHIP, "leadership", PASSWORD, name="Lee Leader")


@contextmanager
def running_server(
    request: pytest.FixtureRequest,
    *,
    database: str,
    database_url: str,
    auth_file: Path,
    folder: Path,
    log_name: str,
    cookie_key: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> Iterator[AppServer]:
    """`streamlit run app.py` on a free 127.0.0.1 port until the block ends.

    Several servers given the same database URL, login file and `cookie_key` act as one
    deployment (tests/browser/test_deploy.py); `extra_env` adds ONBOARDING_* settings.
    """
    OUTPUT.mkdir(exist_ok=True)
    log = OUTPUT / f"{log_name}.log"
    port = _free_port()
    # Only our secrets (never a developer's .streamlit/secrets.toml: no PostHog key,
    # no cookie key from there), and no wait before the login form checks a cookie.
    secrets_file = folder / "secrets.toml"
    secrets_file.write_text("[auth]\nlogin_sleep_time = 0\n", encoding="utf-8")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POSTHOG_", "ONBOARDING_"))  # never telemetry from tests
    }
    env |= {
        "TZ": "UTC",  # the server's today is the browser's (the context runs in UTC too)
        settings.DATABASE_URL_ENV: database_url,
        settings.AUTH_FILE_ENV: str(auth_file),
        settings.COOKIE_KEY_ENV: cookie_key or secrets.token_urlsafe(48),
    }
    # Mail goes to the test SMTP server (tests.mail_servers, shared by the session), from
    # a fallback address: the logins here have no email of their own.
    env |= request.getfixturevalue("_smtp_session").environment()
    env["ONBOARDING_MAIL_FROM"] = "Onboarding <onboarding@team.example.com>"
    # Replies are read from the test Dovecot (shared by the session) where it can run.
    if dovecot_available():
        env |= request.getfixturevalue("_imap_session").environment()
    env |= extra_env or {}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--server.runOnSave=false",
        "--browser.gatherUsageStats=false",
        "--client.showErrorDetails=full",
        f"--secrets.files={secrets_file}",
    ]
    with log.open("wb") as log_handle:
        process = subprocess.Popen(
            command,
            cwd=settings.PROJECT_ROOT,
            env=env,
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    server = AppServer(database, url, database_url, auth_file, log, process, env)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _healthy(url):
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}:\n{server.log_text()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"streamlit not healthy after {STARTUP_TIMEOUT_S}s:\n{server.log_text()}"
                )
            time.sleep(0.2)
        yield server
    finally:
        _stop(process)


# ------------------------------------------------------------------ pages


@pytest.fixture
def context(browser: Browser, app_server: AppServer) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) per test."""
    ctx = browser.new_context(
        viewport={"width": 1400, "height": 1000},
        base_url=app_server.url,
        timezone_id="UTC",
        accept_downloads=True,
    )
    ctx.set_default_timeout(20_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(
    context: BrowserContext, app_server: AppServer, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A tab; afterwards, whatever the server logged as a failure fails the test."""
    page = context.new_page()
    log_start = len(app_server.log_text())
    dialogs: list[str] = []  # an alert() would mean user text ran as script

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page
    assert not dialogs, f"the page opened a dialog: {dialogs}"
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        shot(page, f"FAILED-{request.node.name}")
    page.close()
    logged = app_server.log_text()[log_start:]
    if "Traceback" in logged:
        pytest.fail(f"the server logged a traceback during the test:\n{logged[-4000:]}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot under test-output/ (gitignored), kept for people to look at."""
    folder = OUTPUT / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (re.sub(r"[^A-Za-z0-9_.-]+", "_", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path
