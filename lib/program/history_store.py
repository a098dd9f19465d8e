"""What the History tab needs of a customer's rows as stored now: the fields that name a
row (the step a step row is, a homework task's title, a refund's amount), which an update
in the audit log does not carry (lib.program.history reads them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from lib.store import journal, models

# Per table, the columns that name its rows in a sentence.
NAMING: dict[type[models.Base], tuple[str, ...]] = {
    models.Step: ("step", "status", "date"),
    models.Meeting: ("kind", "starts_at", "status"),
    models.Goal: ("name", "target", "by_when"),
    models.HomeworkAssignment: ("title", "status", "sent_on", "done_on", "verified_by"),
    models.Contact: ("name", "email", "role", "is_primary"),
    models.Refund: ("amount_usd", "scenario", "status", "issued_usd", "reference"),
    models.EmailMessage: ("kind", "direction", "status", "subject", "to_addrs", "on"),
}


def known(session: Session, customer_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(table, primary key) -> the naming fields, as the audit log would store them."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for model, fields in NAMING.items():
        key: InstrumentedAttribute[Any] = model.id  # type: ignore[attr-defined]
        owner: InstrumentedAttribute[Any] = model.customer_id  # type: ignore[attr-defined]
        columns = [getattr(model, f) for f in fields]
        for found in session.execute(select(key, *columns).where(owner == customer_id)):
            values = found._mapping
            rows[(model.__tablename__, str(values["id"]))] = {
                f: journal.jsonable(values[f]) for f in fields
            }
    return rows
