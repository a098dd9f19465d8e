"""The change journal: every ORM change in a write session lands in the audit log
under the session's user (session hooks), and reads back per customer, newest first."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from lib.store import models

SECRET_FIELDS = frozenset({"password"})


@dataclass(frozen=True)
class Change:
    at: dt.datetime
    user: str
    action: str
    entity: str
    entity_id: str | None
    changes: dict[str, Any]

    @property
    def summary(self) -> str:
        """E.g. "status: due -> done; date: 2026-03-02" (secrets never shown)."""
        parts = []
        for key, value in sorted(self.changes.items()):
            if key in SECRET_FIELDS:
                value = "(changed)"
            elif isinstance(value, list) and len(value) == 2 and self.action == "update":
                value = f"{value[0]} -> {value[1]}"
            parts.append(f"{key}: {value}")
        return "; ".join(parts)


def recent(session: Session, customer_id: str, limit: int = 100) -> list[Change]:
    log = models.AuditLog
    entries = session.scalars(
        select(log)
        .where(log.customer_id == customer_id)
        .order_by(log.at.desc(), log.id.desc())
        .limit(limit)
    )
    return [
        Change(e.at, e.user, e.action, e.entity, e.entity_id, dict(e.changes or {}))
        for e in entries
    ]


# ------------------------------------------------------------ who writes


def set_user(session: Session, user: str) -> None:
    session.info["user"] = user


def user_of(session: Session) -> str:
    """The user a write session writes as (lib.store.db.write_session names it)."""
    return str(session.info.get("user", "system"))


# ------------------------------------------------------- the session hooks


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
