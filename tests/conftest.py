"""Shared fixtures: a migrated database on SQLite and on a real PostgreSQL.

The PostgreSQL server is a throwaway cluster started from Debian's binaries
for the test session (pytest-postgresql's janitor makes one database per test
from a migrated template). As root, initdb must run as the `postgres` user.
When the binaries are missing the PostgreSQL half of each test is skipped with
the reason in the summary.
"""

from __future__ import annotations

import collections
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lib import db

DATABASES = ("sqlite", "postgresql")


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{self.user}@/{dbname}?host={self.host}&port={self.port}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _run_pg(command: list[str], log: Path | None = None) -> None:
    """Run initdb/pg_ctl; on failure say what PostgreSQL said (binaries exist, so fail)."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        server_log = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
            f"{server_log}"
        )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip(
            "PostgreSQL binaries not found (run `make test` as root to install Debian's "
            "postgresql package); PostgreSQL tests skipped"
        )
    root = os.geteuid() == 0
    workdir = Path(tempfile.mkdtemp(prefix="onboarding-pg-"))
    datadir = workdir / "data"
    as_owner: list[str] = ["runuser", "-u", "postgres", "--"] if root else []
    if root:
        shutil.chown(workdir, "postgres", "postgres")
    port = _free_port()
    _run_pg(
        [
            *as_owner,
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ],
    )
    options = f"-k {workdir} -p {port} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
    _run_pg(
        [
            *as_owner,
            str(bindir / "pg_ctl"),
            "-D",
            str(datadir),
            "-o",
            options,
            "-w",
            "-l",
            str(workdir / "log"),
            "start",
        ],
        log=workdir / "log",
    )
    user = "postgres"
    try:
        yield PgServer(host=str(workdir), port=port, user=user)
    finally:
        subprocess.run(
            [*as_owner, str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(workdir, ignore_errors=True)


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
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        for part in _databases_of(report.nodeid):
            _skipped[part][reason] += 1
        if "browser" in report.keywords:
            _skipped["browser"][reason] += 1
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
    for part in ("postgresql", "browser"):
        for reason, count in _skipped.get(part, {}).items():
            terminalreporter.write_sep("!", f"{count} {part} test(s) SKIPPED", red=True, bold=True)
            terminalreporter.write_line(reason, red=True, bold=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # CI sets ONBOARDING_REQUIRE_REAL_PARTS=1: a skipped database or browser fails the run.
    if os.environ.get("ONBOARDING_REQUIRE_REAL_PARTS") == "1" and exitstatus == 0:
        if any(_skipped.get(part) for part in ("postgresql", "browser")):
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
