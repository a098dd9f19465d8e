"""What was written about a customer, newest first: the audit log, read back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from lib import db, models

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


def recent(engine: Engine, customer_id: str, limit: int = 100) -> list[Change]:
    log = models.AuditLog
    with db.read_session(engine) as session:
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
