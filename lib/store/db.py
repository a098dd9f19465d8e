"""Engines and sessions from a URL, the unit of work (`write_session`), and the schema's
migrations; SQLite takes the write lock up front so writers queue instead of failing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from lib import settings
from lib.store import journal, models

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_LOCK_KEY = 7_246_510_001  # a fixed bigint naming the console's write lock
_BEGIN_MODES = {"DEFERRED": "BEGIN", "IMMEDIATE": "BEGIN IMMEDIATE"}


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str | None = None) -> Engine:
    url = settings.database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            from pathlib import Path

            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


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
