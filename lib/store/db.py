"""Engines and sessions from a URL, the unit of work (`write_session`), and the schema's
migrations; SQLite takes the write lock up front so writers queue instead of failing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from lib import settings
from lib.errors import UserError
from lib.store import journal, models

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_LOCK_KEY = 7_246_510_001  # a fixed bigint naming the console's write lock
_BEGIN_MODES = {"DEFERRED": "BEGIN", "IMMEDIATE": "BEGIN IMMEDIATE"}


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


SUPPORTED_BACKENDS = ("sqlite", "postgresql")


class DatabaseUrlError(UserError):
    """A database URL the console cannot use; the message says why and what works."""


def make_engine(url: str | None = None) -> Engine:
    """An engine for a SQLite or PostgreSQL URL. A SQLite file is created 0600 (only its
    owner reads it); its folder must exist, except the default data folder."""
    url = settings.database_url(url)
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            _private_sqlite_file(Path(database))
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        )
        _configure_sqlite(engine)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True)
    except (ModuleNotFoundError, NoSuchModuleError) as missing:
        driver = getattr(missing, "name", None) or parsed.get_driver_name()
        raise DatabaseUrlError(
            f"database URL {_shown(parsed)}: its driver ({driver}) is not installed; "
            "use postgresql+psycopg://USER:PASSWORD@HOST/DB"
        ) from None


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(
            "database URL: not a URL; expected sqlite:///PATH or "
            "postgresql+psycopg://USER:PASSWORD@HOST/DB"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise DatabaseUrlError(
            f"database URL {_shown(parsed)}: the console runs on SQLite or PostgreSQL, "
            f"not {backend!r}; expected sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/DB"
        )
    return parsed


def _shown(parsed: URL) -> str:
    return parsed.render_as_string(hide_password=True)


def _private_sqlite_file(path: Path) -> None:
    """Create the database file readable by its owner only (SQLite gives its -wal and -shm
    files the same mode); a mistyped folder is an error, not a new empty database."""
    folder = path.parent
    if not folder.is_dir():
        if folder.resolve() != settings.DATA_DIR.resolve():
            raise DatabaseUrlError(
                f"database URL sqlite:///{path}: the folder {folder} does not exist; "
                "check the path, or create the folder first"
            )
        folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise DatabaseUrlError(
            f"database URL sqlite:///{path}: cannot open the file ({error.strerror})"
        ) from None
    try:
        if os.fstat(fd).st_uid == os.getuid():
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists() and companion.stat().st_uid == os.getuid():
            companion.chmod(0o600)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(_BEGIN_MODES[mode])


def writer(engine: Engine) -> Engine:
    """The same engine, but its transactions take the write lock when they begin."""
    if is_sqlite(engine):
        return engine.execution_options(sqlite_begin="IMMEDIATE")
    return engine


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@contextmanager
def write_session(engine: Engine, user: str) -> Iterator[Session]:
    """The unit of work: one write transaction, committed at the end, rolled back on
    any error. Domain functions take the session; the caller opens it once.

    Every ORM change made in it is written to the audit log under `user`
    (lib.store.journal).
    """
    factory = sessionmaker(bind=writer(engine), expire_on_commit=False)
    with factory.begin() as session:
        journal.set_user(session, user)
        if engine.dialect.name == "postgresql":
            # Writers queue on one transaction-scoped lock, as BEGIN IMMEDIATE makes
            # them on SQLite: a read-then-write (a step row, a meeting) then never
            # races another writer's insert of the same row under READ COMMITTED.
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
        yield session


# --------------------------------------------------------------- migrations


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(settings.MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema; safe to run again."""
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def is_empty(engine: Engine) -> bool:
    with read_session(engine) as session:
        return session.scalar(select(models.Customer.customer_id).limit(1)) is None


def _head_revision() -> str | None:
    """The newest migration's revision id, read from the files (no Alembic import:
    ~0.2 s of every command's start-up). None when it cannot be told."""
    import re

    revisions: dict[str, str | None] = {}
    for path in settings.MIGRATIONS_DIR.glob("versions/*.py"):
        source = path.read_text(encoding="utf-8")
        found = re.search(r"^revision = ['\"]([^'\"]+)['\"]", source, re.M)
        down = re.search(r"^down_revision = (?:['\"]([^'\"]+)['\"]|None)", source, re.M)
        if not found or not down:
            return None
        revisions[found.group(1)] = down.group(1)
    heads = set(revisions) - set(revisions.values())
    return heads.pop() if len(heads) == 1 else None


def _current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except Exception:  # no table yet (an empty database): migrate
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def ensure_schema(engine: Engine) -> None:
    """`import` and `report` initialise an empty database themselves. A database
    already at the newest revision is left alone without loading Alembic."""
    head = _head_revision()
    if head is not None and _current_revision(engine) == head:
        return
    migrate(engine)
