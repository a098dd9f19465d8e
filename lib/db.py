"""Engines and sessions from a URL, the schema's migrations, and the audit log.

SQLite gets WAL, a busy timeout and write transactions that take the lock up
front (BEGIN IMMEDIATE): two users writing at once then queue on the busy
timeout instead of one of them failing half-way with "database is locked".
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from lib import models, settings

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
    """One write transaction: committed at the end, rolled back on any error.

    Every ORM change made in it is written to the audit log under `user`.
    """
    factory = sessionmaker(bind=writer(engine), expire_on_commit=False)
    with factory.begin() as session:
        session.info["user"] = user
        if engine.dialect.name == "postgresql":
            # Writers queue on one transaction-scoped lock, as BEGIN IMMEDIATE makes
            # them on SQLite: a read-then-write (a step row, a meeting) then never
            # races another writer's insert of the same row under READ COMMITTED.
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITE_LOCK_KEY})
        yield session


# ---------------------------------------------------------------- audit log


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    try:
        json.dumps(value)
    except TypeError:
        return str(value)
    return value


def jsonable(value: Any) -> Any:
    """A value as the audit log stores it (dates as ISO text)."""
    return _jsonable(value)


def _primary_key(obj: Any) -> str:
    identity = inspect(obj).identity
    if identity is None:
        mapper = inspect(obj).mapper
        identity = tuple(getattr(obj, col.key) for col in mapper.primary_key)
    return "/".join(str(part) for part in identity)


def _changes(obj: Any, action: str) -> dict[str, Any]:
    state = inspect(obj)
    changes: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if action == "insert":
            value = getattr(obj, attr.key)
            if value is not None:
                changes[attr.key] = _jsonable(value)
        elif action == "update" and history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old != new:
                changes[attr.key] = [_jsonable(old), _jsonable(new)]
        elif action == "delete":
            value = getattr(obj, attr.key)
            if value is not None:
                changes[attr.key] = _jsonable(value)
    return changes


@event.listens_for(Session, "before_flush")
def _drop_nul_characters(session: Session, _context: Any, _instances: Any) -> None:
    # PostgreSQL cannot store U+0000 in text (it raises DataError); drop it from
    # user text on both databases so they keep the same words.
    for obj in (*session.new, *session.dirty):
        for attr in inspect(obj).mapper.column_attrs:
            value = getattr(obj, attr.key)
            if isinstance(value, str) and "\x00" in value:
                setattr(obj, attr.key, value.replace("\x00", ""))


@event.listens_for(Session, "before_flush")
def _audit_before_flush(session: Session, _context: Any, _instances: Any) -> None:
    user = session.info.get("user")
    if user is None:
        return
    entries: list[models.AuditLog] = []
    for action, objects in (
        ("insert", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            if isinstance(obj, models.AuditLog):
                continue
            if action == "update" and not session.is_modified(obj, include_collections=False):
                continue
            changes = _changes(obj, action)
            if action == "update" and not changes:
                continue
            entry = models.AuditLog(
                user=user,
                action=action,
                entity=obj.__tablename__,
                entity_id=_primary_key(obj) if action != "insert" else None,
                customer_id=getattr(obj, "customer_id", None),
                changes=changes,
            )
            if action == "insert":
                session.info.setdefault("audit_pending_ids", []).append((entry, obj))
            entries.append(entry)
    session.add_all(entries)


@event.listens_for(Session, "after_flush_postexec")
def _audit_fill_new_ids(session: Session, _context: Any) -> None:
    # Inserted rows get their primary key only at flush; name them in the log now
    # (the commit flushes again while anything is dirty).
    pending = session.info.pop("audit_pending_ids", [])
    for entry, obj in pending:
        entry.entity_id = _primary_key(obj)


def log_write(
    session: Session,
    action: str,
    entity: str,
    changes: dict[str, Any],
    entity_id: str | None = None,
    customer_id: str | None = None,
) -> None:
    """Log a write made outside the ORM (bulk imports)."""
    session.add(
        models.AuditLog(
            user=session.info.get("user", "system"),
            action=action,
            entity=entity,
            entity_id=entity_id,
            customer_id=customer_id,
            changes={k: _jsonable(v) for k, v in changes.items()},
        )
    )


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
