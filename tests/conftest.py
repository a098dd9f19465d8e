"""Shared fixtures: a migrated database on SQLite and on a real PostgreSQL.

The PostgreSQL server is a throwaway cluster started from Debian's binaries
for the test session (pytest-postgresql's janitor makes one database per test
from a migrated template). As root, initdb must run as the `postgres` user.
When the binaries are missing the PostgreSQL half of each test is skipped with
the reason in the summary.
"""

from __future__ import annotations

import collections
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lib.store import db
from tests.mail_servers import ImapServer, SmtpServer, dovecot_available, imap_server
from tests.mail_servers import smtp_server as run_smtp_server
from tests.pg_server import PgServer
from tests.pg_server import binaries as pg_binaries
from tests.pg_server import running as pg_running

DATABASES = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = pg_binaries()
    if bindir is None:
        pytest.skip(
            "PostgreSQL binaries not found (run `make test` as root to install Debian's "
            "postgresql package); PostgreSQL tests skipped"
        )
    with pg_running(bindir) as server:
        yield server


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer) -> Iterator[str]:
    """A migrated database that every PostgreSQL test database is cloned from."""
    from pytest_postgresql.janitor import DatabaseJanitor

    name = "onboarding_template"
    janitor = DatabaseJanitor(
        user=pg_server.user, host=pg_server.host, port=pg_server.port, dbname=name
    )
    janitor.init()
    engine = db.make_engine(pg_server.url(name))
    db.migrate(engine)
    engine.dispose()
    try:
        yield name
    finally:
        janitor.drop()


@pytest.fixture(scope="session")
def _smtp_session() -> Iterator[SmtpServer]:
    with run_smtp_server() as server:
        yield server


@pytest.fixture
def smtp(_smtp_session: SmtpServer) -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd, over a socket), shared by the session, empty and
    accepting at the start of each test."""
    _smtp_session.reset()
    yield _smtp_session
    _smtp_session.reset()


@pytest.fixture(scope="session")
def _imap_session() -> Iterator[ImapServer]:
    if not dovecot_available():
        pytest.skip(
            "Dovecot not found or not root (run `make test` as root to install Debian's "
            "dovecot-imapd); IMAP tests skipped"
        )
    with imap_server() as server:
        yield server


@pytest.fixture
def imap(_imap_session: ImapServer) -> Iterator[ImapServer]:
    """A real IMAP mailbox (Dovecot), shared by the session, emptied before each test."""
    _imap_session.empty()
    yield _imap_session


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty, migrated database: SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'onboarding.db'}"
        engine = db.make_engine(url)
        db.migrate(engine)
        engine.dispose()
        yield url
        return
    from pytest_postgresql.janitor import DatabaseJanitor

    server: PgServer = request.getfixturevalue("pg_server")
    template: str = request.getfixturevalue("pg_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with DatabaseJanitor(
        user=server.user,
        host=server.host,
        port=server.port,
        dbname=name,
        template_dbname=template,
    ):
        yield server.url(name)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = db.make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


# ------------------------------------------------------- per-database summary

_ran: collections.Counter[str] = collections.Counter()
# Skipped tests of the real parts (a database, the browser) -> their reasons.
_skipped: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)


def _databases_of(nodeid: str) -> list[str]:
    return [
        name
        for name in DATABASES
        if f"[{name}" in nodeid or f"-{name}]" in nodeid or f"-{name}-" in nodeid
    ]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):  # xfail is not a skip
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        parts = ["browser"] if "browser" in report.keywords else _databases_of(report.nodeid)
        if "Dovecot" in reason:
            parts = [*parts, "imap"]
        if "nginx" in reason:
            parts = [*parts, "nginx"]
        for part in parts:
            _skipped[part][reason] += 1
        return
    if report.when != "call" or not report.passed:
        return
    for name in _databases_of(report.nodeid):
        _ran[name] += 1
    if "browser" in report.keywords:
        _ran["browser"] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _ran:
        terminalreporter.write_sep("-", "tests passed per database")
        for name in DATABASES:
            terminalreporter.write_line(f"{name}: {_ran[name]}")
        terminalreporter.write_line(f"(of which in a real browser: {_ran['browser']})")
    # Skipping a real part must never pass unnoticed: say so in red, with the reason.
    for part in ("postgresql", "browser", "imap", "nginx"):
        for reason, count in _skipped.get(part, {}).items():
            terminalreporter.write_sep("!", f"{count} {part} test(s) SKIPPED", red=True, bold=True)
            terminalreporter.write_line(reason, red=True, bold=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # CI sets ONBOARDING_REQUIRE_REAL_PARTS=1: a skipped database, browser, mailbox or
    # nginx fails the run.
    if os.environ.get("ONBOARDING_REQUIRE_REAL_PARTS") == "1" and exitstatus == 0:
        if any(_skipped.get(part) for part in ("postgresql", "browser", "imap", "nginx")):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


# ------------------------------------------------ AppTest support (dashboard pages)
# Fixtures for page tests live in tests/apptest_support.py; importing them here
# makes them available to every test (clear_streamlit_caches is autouse).
from tests.apptest_support import (  # noqa: E402, F401
    _auth_template,
    _demo_sqlite_template,
    app_env,
    auth_path,
    clear_streamlit_caches,
    demo_db_url,
    demo_db_url_any,
    empty_db_url,
    login_app,
)
